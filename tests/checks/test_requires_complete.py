"""A check's `requires` must name every type its outcomes depend on.

A live scan queries only the types the selected checks require (see `required_types`), so a
type a check reads but does not declare silently changes what `--select` scans conclude. Each
check is run on every estate we have, once with all rows and once with only the rows a live
scan selecting that check alone would collect: outcomes and evidence must be identical.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from aksaudit.run.sources import required_types
from aksaudit.model.estate import KNOWN_TYPES, build_estate
from aksaudit.run.registry import load_registry
from aksaudit.testing import load_fixture

from conftest import EXAMPLES

REGISTRY = load_registry()
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _estates() -> dict[str, list]:
    found = {}
    for check in REGISTRY.checks:
        for name in ("good.json", "bad.json"):
            found[f"{check.id}/{name}"] = load_fixture(check.folder / name).rows
    for path in [*SCENARIOS.glob("*.json"), *EXAMPLES.glob("*.json")]:
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, list):
            found[path.name] = document
    return found


ESTATES = _estates()


def _outcomes(check, rows) -> set:
    outcomes = check.evaluate(build_estate(rows), dict(check.meta.options))
    return {(o.status.value, o.resource_id.lower(), o.locus, o.message,
             json.dumps(o.evidence, sort_keys=True, default=str)) for o in outcomes}


@pytest.mark.parametrize("check_id", [c.id for c in REGISTRY.checks])
def test_outcomes_need_only_the_declared_types(check_id):
    check = REGISTRY.by_id()[check_id]
    wanted = set(required_types([check]))
    assert wanted <= KNOWN_TYPES, f"{check_id} requires types the model does not know: {wanted - KNOWN_TYPES}"
    differing = []
    for name, rows in ESTATES.items():
        collected = [r for r in rows if isinstance(r, dict) and str(r.get("type", "")).lower() in wanted]
        if _outcomes(check, collected) != _outcomes(check, rows):
            differing.append(name)
    assert not differing, f"{check_id} reads types it does not require; its outcomes change on {differing}"
