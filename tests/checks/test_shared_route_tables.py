"""A route table that serves several AKS subnets: its finding names every subnet and cluster.

The engine keeps one finding per resource and place, so a route judged on each subnet's path
used to name whichever subnet came first. The oracle here is the estate's own egress paths: the
subnets and clusters whose path runs through the failing route (or table) must be exactly those
the finding's evidence lists, and the finding set stays one finding per route.
"""
from __future__ import annotations

import copy

import pytest

from aksaudit.model.estate import build_estate
from aksaudit.model.row_fields import id_key
from report_estates import cloned_spokes, example_rows, scan

SHARED_TABLE = "rt-spoke-payments-egress"  # serves snet-aks-prod and snet-aks-staging in the example


def _without_routes(rows, table):
    rows = copy.deepcopy(rows)
    for row in rows:
        if row.get("name") == table:
            row["properties"]["routes"] = []
    return rows


def _paths_through(rows, resource_id, *, via_table: bool):
    estate = build_estate(rows, source="test")
    found = []
    for path in estate.egress_paths:
        ids = {id_key(path.route_table.id)} if via_table and path.route_table else \
            {id_key(hop.route.id) for hop in path.hops}
        if id_key(resource_id) in ids:
            found.append(path)
    return found


@pytest.mark.parametrize("check, rows, via_table", [
    ("UDR004", example_rows(), False),
    ("UDR004", cloned_spokes(3, 0), False),
    ("UDR002", _without_routes(example_rows(), SHARED_TABLE), True),
], ids=["UDR004-example", "UDR004-clones", "UDR002-emptied-table"])
def test_a_shared_route_finding_names_every_subnet_and_cluster(check, rows, via_table):
    findings = [f for f in scan(rows, (check,)).findings if f.check_id == check]
    assert findings
    assert len({f.key for f in findings}) == len(findings)  # still one finding per route or table
    shared = 0
    for finding in findings:
        paths = _paths_through(rows, finding.resource_id, via_table=via_table)
        assert paths
        assert {id_key(s) for s in finding.evidence["affected_subnets"]} == {id_key(p.subnet_id) for p in paths}
        assert {id_key(c) for c in finding.evidence["affected_clusters"]} == {id_key(p.cluster.id) for p in paths}
        subnets = {id_key(p.subnet_id) for p in paths}
        if len(subnets) > 1:
            shared += 1
            clusters = {id_key(p.cluster.id) for p in paths}
            assert f"serves {len(subnets)} AKS subnets" in finding.message
            assert f"of {len(clusters)} cluster" in finding.message
        else:
            assert "serves" not in finding.message
    assert shared  # the estates do share a table
