"""UDR009 and the snapshot's record of effective-route lookups: absent, malformed, or naming gaps."""
from __future__ import annotations

import pytest

from aksaudit.collect.snapshot import Snapshot, estate_of
from aksaudit.run.engine import run_scan
from aksaudit.run.registry import load_registry
from aksaudit.testing import load_fixture

UDR009 = load_registry().by_id()["UDR009"]
ROWS = load_fixture(UDR009.folder / "good.json").rows
ROUTES = "microsoft.network/networkinterfaces/effectiveroutetable"
NODES = next(r["properties"]["subnetId"] for r in ROWS if r["type"] == ROUTES)


def _scan(rows, meta):
    return run_scan(estate_of(Snapshot(rows, meta, "test")), [UDR009])


def test_without_the_option_nothing_is_judged_and_nothing_is_missing():
    result = _scan([r for r in ROWS if r["type"] != ROUTES], {})
    assert result.complete and not result.findings and not result.skipped


@pytest.mark.parametrize("record", ["not an object", [NODES], {}, {NODES: 3}])
def test_a_record_that_does_not_say_the_subnet_was_read_leaves_it_unjudged(record):
    result = _scan([r for r in ROWS if r["type"] != ROUTES], {"effective_route_lookups": record})
    assert not result.complete and not result.findings
    assert {s.resource_id.lower() for s in result.skipped} == {NODES.lower()}


def test_the_reason_recorded_for_a_subnet_is_the_reason_given():
    why = "the identity lacks Microsoft.Network/networkInterfaces/effectiveRouteTable/action"
    result = _scan([r for r in ROWS if r["type"] != ROUTES], {"effective_route_lookups": {NODES: why}})
    assert [s.reason for s in result.skipped] and all(why in s.reason for s in result.skipped)
