"""Scenario estates: each yields exactly its expected finding set, compliant ones none at all.

`tests/scenarios/expected.json` names the findings per estate: a Virtual WAN secured hub,
kubenet + Azure CNI overlay + Azure CNI pod subnet clusters, and base/child firewall policies
with IP groups in sources and destinations, each compliant and drifted. The compliant
hub-and-spoke example (hub firewall in another subscription) joins them where the model is asked
something specific.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from aksaudit.collect.snapshot import estate_of, parse_snapshot
from aksaudit.run.engine import run_scan
from aksaudit.results.findings import Status
from aksaudit.model.estate import build_estate
from aksaudit.testing import failures, key, run_checks

from conftest import EXAMPLES

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
EXPECTED = json.loads((SCENARIOS / "expected.json").read_text())
COMPLIANT = sorted(name for name, findings in EXPECTED.items() if not findings)
T_CONNECTION = "microsoft.network/virtualhubs/hubvirtualnetworkconnections"
T_INTENT = "microsoft.network/virtualhubs/routingintent"


def rows(name: str) -> list[dict]:
    path = EXAMPLES / name if name.startswith("hub-spoke") else SCENARIOS / name
    return json.loads(path.read_text())


def test_every_scenario_has_a_compliant_and_a_drifted_estate():
    assert {n.removesuffix("-drifted.json").removesuffix(".json") for n in EXPECTED} == {
        "vwan-secured-hub", "vwan-classic-hub", "cni-variants", "policy-inheritance"}
    assert all(EXPECTED[n] for n in EXPECTED if n.endswith("-drifted.json"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_yields_exactly_its_expected_findings(name, registry):
    result = run_checks(registry.checks, rows(name))
    assert result.complete, (result.skipped, result.errors, result.warnings)
    assert failures(result) == {key(*k) for k in EXPECTED[name]}


@pytest.mark.parametrize("name", [*COMPLIANT, "hub-spoke.json"])
def test_required_egress_is_judged_and_allowed_for_every_cluster(name, registry):
    """Zero findings must mean 'AKS003 looked and passed', not 'found no firewall to look at'."""
    estate = build_estate(rows(name))
    check = registry.by_id()["AKS003"]
    outcomes = list(check.evaluate(estate, dict(check.meta.options)))
    assert {o.resource_id.lower() for o in outcomes if o.status is Status.PASS} == set(estate.clusters)


def test_secured_hub_steers_spokes_without_udr_to_the_hub_firewall():
    estate = build_estate(rows("vwan-secured-hub.json"))
    hub_firewall = next(f for f in estate.firewalls.values() if f.sku_name == "AZFW_Hub")
    assert estate.egress_paths and all(p.hub_steered for p in estate.egress_paths)
    assert {tuple(f.id for f in p.firewalls) for p in estate.egress_paths} == {(hub_firewall.id,)}
    assert not any(hop.route.to_appliance and hop.route.address_prefix == "0.0.0.0/0"
                   for p in estate.egress_paths for hop in p.hops)


def test_route_table_without_gateway_propagation_does_not_learn_the_hub_route(registry):
    estate_rows = rows("vwan-secured-hub.json")
    table = next(r for r in estate_rows if r["type"] == "microsoft.network/routetables")
    table["properties"]["disableBgpRoutePropagation"] = True
    result = run_checks(registry.checks, estate_rows)
    assert failures(result) == {key("UDR002", table["id"])}


T_HUB_TABLE = "microsoft.network/virtualhubs/hubroutetables"


def test_hub_connection_without_routing_intent_is_not_controlled_egress(registry):
    """Routing intent off and the associated default route table without an Internet route."""
    estate_rows = [r for r in rows("vwan-classic-hub.json")]
    for row in estate_rows:
        if row["type"] == T_HUB_TABLE:
            row["properties"]["routes"] = []
    result = run_checks(registry.checks, estate_rows)
    shop_subnet = next(s["id"] for r in estate_rows if r["name"] == "vnet-spoke-shop-weu"
                       for s in r["properties"]["subnets"])
    data_table = next(r["id"] for r in estate_rows if r["type"] == "microsoft.network/routetables")
    assert failures(result) == {key("UDR001", shop_subnet), key("UDR002", data_table)}


def test_classic_secured_hub_steers_by_the_associated_route_table():
    """Firewall Manager's classic set-up: a static 0.0.0.0/0 to the hub firewall in defaultRouteTable."""
    estate = build_estate(rows("vwan-classic-hub.json"))
    assert not estate.routing_intents
    hub_firewall = next(f for f in estate.firewalls.values() if f.sku_name == "AZFW_Hub")
    assert estate.egress_paths and all(p.hub_steered for p in estate.egress_paths)
    assert {p.hub_route.steered_by.rsplit("/", 1)[-1] for p in estate.egress_paths} == {"defaultRouteTable"}
    assert {tuple(f.id for f in p.firewalls) for p in estate.egress_paths} == {(hub_firewall.id,)}


@pytest.mark.parametrize("change", ["no_internet_security", "other_table", "partial_cover", "other_hop"])
def test_classic_hub_steers_only_what_the_associated_table_sends_to_its_firewall(change, registry):
    estate_rows = rows("vwan-classic-hub.json")
    table = next(r for r in estate_rows if r["name"] == "defaultRouteTable")
    public = next(x for x in table["properties"]["routes"] if x["name"] == "public_traffic")
    for row in estate_rows:
        if row["type"] == T_CONNECTION and change == "no_internet_security":
            row["properties"]["enableInternetSecurity"] = False
        if row["type"] == T_CONNECTION and change == "other_table":
            row["properties"]["routingConfiguration"]["associatedRouteTable"]["id"] = \
                table["id"].replace("defaultRouteTable", "noneRouteTable")
    if change == "partial_cover":
        public["destinations"] = ["0.0.0.0/1"]
    if change == "other_hop":
        public["nextHop"] = next(r["id"] for r in estate_rows if r["type"] == T_CONNECTION)
    result = run_checks(registry.checks, estate_rows)
    shop_subnet = next(s["id"] for r in estate_rows if r["name"] == "vnet-spoke-shop-weu"
                       for s in r["properties"]["subnets"])
    assert key("UDR001", shop_subnet) in failures(result)


@pytest.mark.parametrize("change", ["table_missing", "association_missing", "route_without_next_hop"])
def test_unreadable_hub_route_table_data_is_a_skip_naming_it(change, registry):
    estate_rows = rows("vwan-classic-hub.json")
    if change == "table_missing":
        estate_rows = [r for r in estate_rows if r.get("name") != "defaultRouteTable"]
        needle = "defaultRouteTable"
    for row in estate_rows:
        if row["type"] == T_CONNECTION and change == "association_missing":
            del row["properties"]["routingConfiguration"]
            needle = "associatedRouteTable"
        if row.get("name") == "defaultRouteTable" and change == "route_without_next_hop":
            del row["properties"]["routes"][1]["nextHop"]
            needle = "no nextHop"
    result = run_checks(registry.checks, estate_rows)
    assert not {f[0] for f in failures(result)} & {"UDR001", "UDR002"}
    skipped = {s.check_id: s.reason for s in result.skipped}
    assert {"UDR001", "UDR002"} <= set(skipped) and needle in skipped["UDR001"]


def test_intent_naming_an_unreadable_firewall_steers_but_leaves_the_rules_unjudged(registry):
    estate_rows = [r for r in rows("vwan-secured-hub.json") if r["type"] != "microsoft.network/azurefirewalls"]
    result = run_checks(registry.checks, estate_rows)
    assert failures(result) == set()
    assert not result.complete
    assert {(s.check_id, s.resource_id.lower()) for s in result.skipped} == {
        ("AKS003", r["id"].lower()) for r in estate_rows if r["type"] == "microsoft.containerservice/managedclusters"}


def test_snapshot_rows_mirror_the_arm_child_resources():
    """Routing intent and hub connections are carried as rows with ARM child ids of their hub."""
    estate = build_estate(rows("vwan-secured-hub.json"))
    hub = next(iter(estate.virtual_hubs.values()))
    assert {c.hub_id.lower() for c in estate.hub_connections.values()} == {hub.id.lower()}
    assert {i.hub_id.lower() for i in estate.routing_intents.values()} == {hub.id.lower()}
    intent = next(iter(estate.routing_intents.values()))
    assert {p.name for p in intent.policies if p.steers_internet} == {"InternetTraffic"}
    assert intent.policies[0].next_hop.lower() == hub.firewall_id.lower()


def test_kubenet_pod_routes_are_private_and_never_holes():
    estate = build_estate(rows("cni-variants.json"))
    kubenet = next(p for p in estate.egress_paths if p.cluster.network_plugin == "kubenet")
    pod_routes = [r for r in kubenet.route_table.routes if r.name.startswith("aks-nodepool1")]
    assert len(pod_routes) == 3
    assert not {r.id for r in pod_routes} & {h.route.id for h in (*kubenet.hops, *kubenet.exception_hops)}


def test_pod_subnets_are_aks_subnets_but_required_egress_is_judged_on_node_subnets():
    estate = build_estate(rows("cni-variants-drifted.json"))
    cluster = next(c for c in estate.clusters.values() if c.header.name == "aks-podsubnet")
    assert {s.rsplit("/", 1)[-1] for s in cluster.subnet_ids()} == {"snet-aks-nodes", "snet-aks-pods"}


def test_deny_of_one_alternative_does_not_block_a_requirement_another_satisfies(registry):
    """The org base denies *.azureedge.net (acs-mirror); packages.aks.azure.com still gets through."""
    estate_rows = copy.deepcopy(rows("policy-inheritance.json"))
    assert failures(run_checks(registry.checks, estate_rows)) == set()
    check = registry.by_id()["AKS003"]
    only_cdn = dict(check.meta.options, required_fqdns=("acs-mirror.azureedge.net",))
    outcomes = list(check.evaluate(build_estate(estate_rows), only_cdn))
    assert {o.status for o in outcomes} == {Status.FAIL}
    assert all(o.evidence["blocked"] == ["acs-mirror.azureedge.net"] for o in outcomes)


@pytest.mark.parametrize("row_type,mutate,needle", [
    (T_INTENT, lambda p: p.update(routingPolicies={"name": "x"}), "'properties.routingPolicies' is dict"),
    (T_CONNECTION, lambda p: p.update(enableInternetSecurity="sometimes"), "'properties.enableInternetSecurity'"),
])
def test_malformed_new_rows_are_rejected_naming_the_key(row_type, mutate, needle):
    estate_rows = copy.deepcopy(rows("vwan-secured-hub-drifted.json"))
    row = next(r for r in estate_rows if r["type"] == row_type)
    mutate(row["properties"])
    estate = build_estate(estate_rows)
    assert any(needle in r.reason and r.resource_id == row["id"] for r in estate.rejected)


def test_malformed_load_balancer_field_is_a_named_gap_and_its_verdict_skipped(registry):
    """A wrong-typed frontend field leaves the rest of the load balancer readable; AKS006 cannot
    tell whether the frontend serves inbound traffic, so it says which datum it could not read."""
    estate_rows = copy.deepcopy(rows("vwan-secured-hub-drifted.json"))
    row = next(r for r in estate_rows if r["type"] == "microsoft.network/loadbalancers")
    frontend = row["properties"]["frontendIPConfigurations"][0]["properties"]
    frontend["loadBalancingRules"] = "rule-1"  # with outbound rules only, it would not serve inbound traffic
    frontend["outboundRules"] = [{"id": f"{row['id']}/outboundRules/aksOutboundRule"}]
    frontend["publicIPAddress"], subnet = {"id": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/"
                                                 "publicIPAddresses/z"}, frontend.pop("subnet")
    result = run_checks([registry.by_id()["AKS006"]], estate_rows)
    assert {(s.resource_id, "loadBalancingRules' is str" in s.reason) for s in result.skipped} == {(row["id"], True)}

    frontend["subnet"], _ = subnet, frontend.pop("publicIPAddress")  # an internal frontend is decided anyway
    assert not run_checks([registry.by_id()["AKS006"]], estate_rows).skipped


def test_malformed_outbound_endpoint_is_rejected_naming_the_key():
    estate_rows = copy.deepcopy(rows("cni-variants.json"))
    cluster = next(r for r in estate_rows if r["type"] == "microsoft.containerservice/managedclusters")
    estate_rows.append({"id": cluster["id"] + "/outboundNetworkDependenciesEndpoints/images", "name": "images",
                        "type": "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints",
                        "properties": {"category": "images", "endpoints": [
                            {"domainName": "mcr.microsoft.com", "endpointDetails": [{"port": "443"}]}]}})
    estate = build_estate(estate_rows)
    assert [r.reason for r in estate.rejected] == [
        "'properties.endpoints[0].endpointDetails[0].port' is str, expected an integer"]


def test_cluster_with_a_finding_off_its_path_is_not_counted_compliant(registry):
    """AKS006 sits on a load balancer in the node resource group, not on the egress path itself."""
    from aksaudit.testing import run_checks

    only = [registry.by_id()["AKS006"]]
    result = run_checks(only, rows("vwan-secured-hub-drifted.json"))
    flagged = {str(f.evidence["cluster"]).lower() for f in result.findings}
    assert flagged and not result.skipped
    assert result.clusters_compliant == result.clusters_total - len(flagged)


def _without_hub_lookups() -> list[dict]:
    """The secured-hub estate as a Resource Graph export holds it: no routing intent, no connections."""
    return [r for r in rows("vwan-secured-hub.json") if r["type"] not in (T_INTENT, T_CONNECTION)]


def test_hub_never_looked_up_leaves_its_possible_spokes_unjudged_not_failed(registry):
    estate_rows = _without_hub_lookups()
    result = run_checks(registry.checks, estate_rows)
    hub = next(r["id"] for r in estate_rows if r["type"] == "microsoft.network/virtualhubs")
    assert not result.complete
    assert not {f.check_id for f in result.findings} & {"UDR001", "UDR002", "AKS003"}
    shop_subnet = next(s["id"] for r in estate_rows if r["name"] == "vnet-spoke-shop-weu"
                       for s in r["properties"]["subnets"])
    data_table = next(r["id"] for r in estate_rows if r["type"] == "microsoft.network/routetables")
    clusters = {r["id"].lower() for r in estate_rows if r["type"] == "microsoft.containerservice/managedclusters"}
    skipped = {(s.check_id, s.resource_id.lower()) for s in result.skipped}
    assert {("UDR001", shop_subnet.lower()), ("UDR002", data_table.lower())} <= skipped
    assert {("AKS003", c) for c in clusters} <= skipped
    assert all(hub in s.reason and "were not read" in s.reason
               for s in result.skipped if s.check_id in ("UDR001", "UDR002", "AKS003"))
    assert result.clusters_compliant == 0


def test_hub_looked_up_with_nothing_found_steers_nothing(registry):
    """A live scan that asked ARM and got empty lists knows the hub steers no spoke."""
    estate_rows = _without_hub_lookups()
    hub = next(r["id"] for r in estate_rows if r["type"] == "microsoft.network/virtualhubs")
    snapshot = parse_snapshot({"meta": {"virtual_hub_lookups": {hub: ""}}, "rows": estate_rows}, "snap.json")
    result = run_scan(estate_of(snapshot), registry.checks)
    shop_subnet = next(s["id"] for r in estate_rows if r["name"] == "vnet-spoke-shop-weu"
                       for s in r["properties"]["subnets"])
    data_table = next(r["id"] for r in estate_rows if r["type"] == "microsoft.network/routetables")
    assert {key("UDR001", shop_subnet), key("UDR002", data_table)} <= failures(result)
    assert not [s for s in result.skipped if s.check_id in ("UDR001", "UDR002")]


def test_hub_lookup_that_failed_is_named_on_each_unjudged_spoke(registry):
    estate_rows = _without_hub_lookups()
    hub = next(r["id"] for r in estate_rows if r["type"] == "microsoft.network/virtualhubs")
    why = f"virtual hub {hub}: its routing intent could not be read from ARM (HTTP 403 AuthorizationFailed)"
    snapshot = parse_snapshot({"meta": {"virtual_hub_lookups": {hub: why}}, "rows": estate_rows}, "snap.json")
    result = run_scan(estate_of(snapshot), registry.checks)
    assert not {f.check_id for f in result.findings} & {"UDR001", "UDR002"}
    udr = [s for s in result.skipped if s.check_id in ("UDR001", "UDR002")]
    assert udr and all(s.reason == why for s in udr)


def test_route_table_that_decides_everything_needs_no_hub(registry):
    """A 0.0.0.0/0 UDR to a firewall wins over anything a hub could send: an unread hub changes nothing."""
    before = run_checks(registry.checks, rows("hub-spoke.json"))
    hub = {"id": "/subscriptions/8e2d4f6a-1b3c-4d5e-9f7a-2c4e6a8b0d13/resourceGroups/rg-vwan-weu/providers/"
                 "Microsoft.Network/virtualHubs/vhub-weu", "name": "vhub-weu", "type": "microsoft.network/virtualhubs",
           "location": "westeurope", "resourceGroup": "rg-vwan-weu",
           "subscriptionId": "8e2d4f6a-1b3c-4d5e-9f7a-2c4e6a8b0d13", "properties": {"addressPrefix": "10.100.0.0/23"}}
    after = run_checks(registry.checks, [*rows("hub-spoke.json"), hub])
    assert failures(after) == failures(before)
    assert {(s.check_id, s.resource_id) for s in after.skipped} == {(s.check_id, s.resource_id) for s in before.skipped}
