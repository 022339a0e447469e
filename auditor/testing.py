"""Public test helpers: plugin authors test their checks exactly the way built-in checks are tested.

A check folder holds `good.json` and `bad.json`, each `{"description", "estate": [ARG rows],
"expected": [[check_id, resource_id, locus], ...]}`; good fixtures expect no failure at all.
Expectations are sets of (check id, lower-cased resource id, locus): never counts.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from aksaudit.run.engine import ScanResult, run_scan
from aksaudit.model.estate import build_estate
from aksaudit.run.registry import LoadedCheck, contract_problems

FindingKey = tuple[str, str, str]


@dataclass(frozen=True)
class Fixture:
    path: Path
    description: str
    rows: list[Any]
    expected: frozenset[FindingKey]
    options: Mapping[str, Mapping[str, Any]]  # per check id, as configuration would give them


def key(check_id: str, resource_id: str, locus: str = "") -> FindingKey:
    return (check_id, resource_id.lower(), locus)


def load_fixture(path: str | Path) -> Fixture:
    path = Path(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    expected = frozenset(key(*item) for item in document.get("expected", ()))
    return Fixture(path, document.get("description", ""), document["estate"], expected, document.get("options", {}))


def run_checks(checks: Iterable[LoadedCheck], rows: list[Any],
               options: Mapping[str, Mapping[str, Any]] | None = None) -> ScanResult:
    return run_scan(build_estate(rows, source="fixture"), checks, options=options)


def failures(result: ScanResult) -> frozenset[FindingKey]:
    return frozenset(f.key for f in result.findings)


def assert_fixture(check: LoadedCheck, name: str) -> ScanResult:
    """Run one check on its `good.json` or `bad.json` and compare the failure set exactly.

    A fixture must also be fully readable: a skipped outcome would hide a missing pass.
    """
    assert check.folder is not None, f"{check.id} has no folder holding fixtures"
    fixture = load_fixture(check.folder / name)
    result = run_checks([check], fixture.rows, fixture.options)
    assert not result.errors, f"{check.id} {name}: {result.errors}"
    assert not result.skipped, f"{check.id} {name}: skipped {result.skipped}"
    got = failures(result)
    assert got == fixture.expected, (
        f"{check.id} {name}: unexpected {sorted(got - fixture.expected)}, missing {sorted(fixture.expected - got)}")
    return result


def assert_contract(check_object: Any, name: str) -> None:
    problems = contract_problems(check_object, name)
    assert not problems, f"{name}: " + "; ".join(problems)
