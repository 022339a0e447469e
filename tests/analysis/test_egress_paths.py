"""Egress path resolution: longest-prefix match, id casing, hubs across subscriptions, gaps."""
from __future__ import annotations

import copy
import json

import pytest

from aksaudit.analysis.egress_paths import FIREWALL, UNKNOWN, UNRESOLVED
from aksaudit.model.estate import build_estate
from aksaudit.analysis.route_partition import decide
from aksaudit.model.resources import Route, parse_network
from aksaudit.testing import failures, key, run_checks

from conftest import EXAMPLES


def _route(name, prefix, hop="VirtualAppliance", ip="10.0.1.4"):
    return Route(f"/rt/routes/{name}", name, prefix, parse_network(prefix), hop, ip)


def test_longest_prefix_pair_overrides_default_route():
    routes = (_route("default", "0.0.0.0/0"), _route("low", "0.0.0.0/1", "Internet", ""),
              _route("high", "128.0.0.0/1", "Internet", ""))
    decision = decide(routes)
    assert {r.name for r in decision.deciding} == {"low", "high"}
    assert not decision.uncovered


def test_host_route_is_an_exception_not_a_deciding_route():
    decision = decide((_route("default", "0.0.0.0/0"), _route("fw-pip", "20.61.10.20/32", "Internet", "")))
    assert [r.name for r in decision.deciding] == ["default"]
    assert [r.name for r in decision.exceptions] == ["fw-pip"]


def test_private_only_routes_leave_the_internet_uncovered():
    decision = decide((_route("onprem", "10.0.0.0/8"), _route("tag", "AzureCloud", "Internet", "")))
    assert decision.uncovered and not decision.deciding
    assert [r.name for r in decision.service_tag_routes] == ["tag"]


def _hub_spoke():
    return json.loads((EXAMPLES / "hub-spoke.json").read_text())


def test_hub_firewall_in_another_subscription_resolves_through_peering():
    estate = build_estate(_hub_spoke())
    hops = [hop for path in estate.egress_paths for hop in path.hops]
    assert hops and all(h.next_hop.kind == FIREWALL for h in hops)
    firewall = hops[0].next_hop.firewall
    assert firewall.header.subscription_id != estate.egress_paths[0].cluster.header.subscription_id
    assert all(h.next_hop.peering is not None for h in hops)


def test_ids_are_matched_case_insensitively():
    rows = _hub_spoke()
    for row in rows:
        if row["type"] == "microsoft.containerservice/managedclusters":
            for pool in row["properties"]["agentPoolProfiles"]:
                pool["vnetSubnetID"] = pool["vnetSubnetID"].upper()
    estate = build_estate(rows)
    assert all(path.subnet is not None and path.route_table is not None for path in estate.egress_paths)


def test_same_private_ip_in_an_isolated_vnet_is_not_a_firewall():
    """Private IPs repeat across estates: resolution is scoped to the VNet and its peers."""
    rows = _hub_spoke()
    spoke = next(r for r in rows if r["name"] == "vnet-spoke-payments-weu")
    spoke["properties"]["virtualNetworkPeerings"] = []
    estate = build_estate(rows)
    kinds = {h.next_hop.kind for p in estate.egress_paths if p.vnet.header.name == "vnet-spoke-payments-weu"
             for h in p.hops}
    assert kinds == {UNKNOWN}


def test_peered_vnet_outside_the_estate_is_a_gap_not_a_failure():
    rows = [r for r in _hub_spoke() if r["type"] not in ("microsoft.network/azurefirewalls",)
            and r["name"] != "vnet-hub-weu"]
    estate = build_estate(rows)
    kinds = {h.next_hop.kind for p in estate.egress_paths for h in p.hops}
    assert kinds == {UNRESOLVED}


def test_special_subnets_are_never_aks_subnets():
    rows = _hub_spoke()
    cluster = next(r for r in rows if r["type"] == "microsoft.containerservice/managedclusters")
    vnet_id = cluster["properties"]["agentPoolProfiles"][0]["vnetSubnetID"].rsplit("/subnets/", 1)[0]
    cluster["properties"]["agentPoolProfiles"].append(
        {"name": "weird", "vnetSubnetID": vnet_id + "/subnets/GatewaySubnet"})
    estate = build_estate(rows)
    assert not any(p.subnet_id.lower().endswith("/gatewaysubnet") for p in estate.egress_paths)


def test_malformed_row_is_rejected_with_its_key_and_dependent_checks_skip(registry):
    rows = _hub_spoke()
    table = next(r for r in rows if r["type"] == "microsoft.network/routetables")
    table["properties"]["routes"] = "not-a-list"
    result = run_checks(registry.checks, rows)
    assert not result.complete
    assert any("'properties.routes' is str, expected a list" in w and table["id"] in w for w in result.warnings)
    skipped = {(s.check_id, s.resource_id.lower()) for s in result.skipped}
    assert ("UDR002", table["id"].lower()) in skipped
    assert result.clusters_compliant < result.clusters_total


@pytest.mark.parametrize("mutation", ["no-id", "props-string", "bad-cidr", "not-object"])
def test_bad_rows_never_crash(registry, mutation):
    rows = copy.deepcopy(_hub_spoke())
    vnet = next(r for r in rows if r["type"] == "microsoft.network/virtualnetworks")
    if mutation == "no-id":
        del vnet["id"]
    elif mutation == "props-string":
        vnet["properties"] = "oops"
    elif mutation == "bad-cidr":
        vnet["properties"]["addressSpace"]["addressPrefixes"] = ["10.0.0.0/33"]
    else:
        rows.append(["not", "a", "row"])
    result = run_checks(registry.checks, rows)
    assert not result.complete and result.warnings


def test_drifted_example_findings(registry, expected_examples):
    rows = json.loads((EXAMPLES / "hub-spoke-drifted.json").read_text())
    got = failures(run_checks(registry.checks, rows))
    want = {key(*k) for k in expected_examples["hub-spoke-drifted.json"]}
    assert got == want
