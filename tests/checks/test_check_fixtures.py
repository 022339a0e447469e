"""Every registered check against its own good.json and bad.json, compared as finding sets."""
from __future__ import annotations

import inspect

import pytest

from aksaudit.run.registry import load_registry
from aksaudit.testing import assert_contract, assert_fixture, load_fixture

REGISTRY = load_registry()
IDS = [c.id for c in REGISTRY.checks]


def test_registry_loads_every_builtin_without_problems():
    assert REGISTRY.problems == ()
    assert {"UDR001", "UDR002", "UDR003", "UDR004", "UDR005", "UDR006", "UDR007", "FW001", "FW002", "FW003", "FW004",
            "FW005", "FW006", "AKS001", "AKS002", "AKS003", "AKS004", "AKS005", "AKS006"} <= set(IDS)


@pytest.mark.parametrize("check_id", IDS)
def test_contract(check_id):
    module = inspect.getmodule(REGISTRY.by_id()[check_id].evaluate)
    assert_contract(module, check_id)


@pytest.mark.parametrize("check_id", IDS)
def test_good_fixture_has_no_failure(check_id):
    check = REGISTRY.by_id()[check_id]
    assert load_fixture(check.folder / "good.json").expected == frozenset()
    assert_fixture(check, "good.json")


@pytest.mark.parametrize("check_id", IDS)
def test_bad_fixture_fails_exactly_as_expected(check_id):
    check = REGISTRY.by_id()[check_id]
    fixture = load_fixture(check.folder / "bad.json")
    assert fixture.expected, "a bad fixture must expect at least one failure"
    assert {k[0] for k in fixture.expected} == {check_id}
    assert_fixture(check, "bad.json")


def test_fw004_severity_depends_on_breadth():
    check = REGISTRY.by_id()["FW004"]
    result = assert_fixture(check, "bad.json")
    by_rule = {f.locus.rsplit("/", 1)[-1]: f.severity.value for f in result.findings}
    assert by_rule == {"allow-all": "high", "dot-com": "medium"}
