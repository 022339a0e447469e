"""Helpers shared by the live-collection tests: reference findings from the estate file itself.

"Same findings as a snapshot scan" is checked against the example estate run through the same
model and checks, restricted to what the live scope could see, so each test states which rows a
correct collection must have produced instead of how many.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from aksaudit.run.engine import ScanResult, run_scan
from aksaudit.collect.snapshot import estate_of
from aksaudit.model.estate import build_estate
from aksaudit.testing import failures, key

from emulator.scenarios import ESTATE, TYPES
from emulator.tenant import subscription_of



def estate_rows(subscriptions: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The example estate's rows of the collected types, optionally only some subscriptions'."""
    wanted = {s.lower() for s in subscriptions} if subscriptions is not None else None
    rows = json.loads(ESTATE.read_text())
    return [r for r in rows if r["type"].lower() in TYPES
            and (wanted is None or subscription_of(r["id"]) in wanted)]


def collected_checks(registry: Any) -> tuple[Any, ...]:
    """The registered checks whose data the fixed cassette types cover (new checks join automatically)."""
    return tuple(c for c in registry.checks if set(c.meta.requires) <= set(TYPES))


def expected_findings(registry: Any, expected_examples: dict) -> frozenset:
    """examples/expected.json for hub-spoke-drifted, limited to the checks the collected types serve."""
    ids = {c.id for c in collected_checks(registry)}
    return frozenset(key(*item) for item in expected_examples["hub-spoke-drifted.json"] if item[0] in ids)


def scan(registry: Any, rows: list[Any], unreadable: Iterable[str] = (), errors: Iterable[str] = ()) -> ScanResult:
    estate = build_estate(rows, source="test", unreadable_scopes=unreadable)
    return run_scan(estate, collected_checks(registry), errors=errors)


def scan_snapshot(checks: Iterable[Any], snapshot: Any) -> ScanResult:
    """Scan a collected snapshot the way the CLI does: its gaps, unreadable scopes and hub lookups."""
    return run_scan(estate_of(snapshot), checks, errors=snapshot.gaps)


def finding_set(registry: Any, rows: list[Any], unreadable: Iterable[str] = ()) -> frozenset:
    return failures(scan(registry, rows, unreadable))


def ids_of(rows: Iterable[Any]) -> set[str]:
    return {r["id"].lower() for r in rows}
