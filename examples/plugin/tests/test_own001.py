"""OWN001 is tested the way aksaudit tests its built-in checks, through aksaudit.testing."""
from __future__ import annotations

from pathlib import Path

import pytest

import aksaudit_owner_tag.own001_route_table_owner_tag as own001
from aksaudit.run.registry import load_registry
from aksaudit.testing import assert_contract, assert_fixture, failures, load_fixture, run_checks


@pytest.fixture(scope="module")
def check():
    """The check as aksaudit loads it: through the entry point, so this also proves registration."""
    registry = load_registry()
    loaded = registry.by_id().get("OWN001")
    assert loaded is not None, f"OWN001 is not registered; problems: {registry.problems}"
    return loaded


def test_honours_the_check_contract():
    assert_contract(own001, "OWN001")


@pytest.mark.parametrize("fixture", ["good.json", "bad.json"])
def test_fixtures(check, fixture):
    assert_fixture(check, fixture)


def test_the_tag_name_is_an_option(check):
    fixture = load_fixture(Path(own001.__file__).parent / "good.json")
    result = run_checks([check], fixture.rows, {"OWN001": {"tag": "cost-center"}})
    assert {resource for _, resource, _ in failures(result)} == {
        row["id"].lower() for row in fixture.rows if row["type"] == "microsoft.network/routetables"}
