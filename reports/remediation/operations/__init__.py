"""Shared fix operations, one folder each: the bash functions a block calls (`functions.sh`), the
state they compare before changing anything (`guard.py`, JMESPath that `az --query` evaluates),
and, where several checks make the same call, the template that writes it (`*.sh.j2`, included by
its name). The common script (`script.sh.j2`) holds what every block uses: the plan/apply switch,
the one place az runs with its guards, and the summary.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
# In the order their functions appear in a script.
OPERATIONS = ("route", "threat_intel", "peering", "outbound_type", "firewall_subnet", "firewall_rule")


def functions() -> tuple[str, ...]:
    """The bash functions of every operation: each script defines them all."""
    return tuple((HERE / name / "functions.sh").read_text(encoding="utf-8") for name in OPERATIONS)


def shared_template(name: str) -> Path | None:
    """The shared call template `name` (say `set_next_hop.sh.j2`), in whichever operation holds it."""
    found = [HERE / op / name for op in OPERATIONS if (HERE / op / name).is_file()]
    return found[0] if found else None
