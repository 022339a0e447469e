"""A datum that was not read is not an empty one: the verdicts that need it are `skipped`, naming it.

Worked on the compliant hub-and-spoke example (three clusters, hub firewall in another
subscription), each test removing or breaking one datum and asking what the checks now say.
"""
from __future__ import annotations

import copy
import json

import pytest

from aksaudit.results.findings import Status
from aksaudit.model.estate import build_estate
from aksaudit.model.row_fields import ascii_lower, id_key
from aksaudit.testing import failures, run_checks

from conftest import EXAMPLES, ROOT

ROWS = json.loads((EXAMPLES / "hub-spoke.json").read_text())
CLUSTER = 13  # aks-payments-prod
SPOKE = 9  # vnet-spoke-payments-weu


def _rows():
    return copy.deepcopy(ROWS)


def _outcomes(registry, rows, *check_ids):
    estate = build_estate(rows)
    found = {}
    for check_id in check_ids:
        check = registry.by_id()[check_id]
        for outcome in check.evaluate(estate, dict(check.meta.options)):
            found[(check_id, outcome.resource_id.lower(), outcome.locus)] = (outcome.status, outcome.message)
    return found


def _cluster_outcome(registry, rows, check_id, locus=""):
    return _outcomes(registry, rows, check_id)[(check_id, rows[CLUSTER]["id"].lower(), locus)]


@pytest.mark.parametrize("change", ["delete", "null", "wrong type", "empty"])
def test_a_cluster_without_readable_pools_is_not_in_an_aks_managed_vnet(registry, change):
    rows = _rows()
    props = rows[CLUSTER]["properties"]
    if change == "delete":
        del props["agentPoolProfiles"]
    else:
        props["agentPoolProfiles"] = {"null": None, "wrong type": "pool0", "empty": []}[change]
    cluster = build_estate(rows).clusters[id_key(rows[CLUSTER]["id"])]
    assert "properties.agentPoolProfiles" in cluster.pools_unread and not cluster.uses_managed_vnet
    udr001 = _outcomes(registry, rows, "UDR001")
    # skipped naming the datum, never "runs in an AKS-managed VNet"
    status, message = udr001[("UDR001", rows[CLUSTER]["id"].lower(), "")]
    assert status is Status.SKIPPED and "properties.agentPoolProfiles" in message
    status, message = _cluster_outcome(registry, rows, "AKS002", "agentPools")
    assert status is Status.SKIPPED and "properties.agentPoolProfiles" in message
    status, message = _cluster_outcome(registry, rows, "AKS004")
    assert status is Status.SKIPPED and "properties.agentPoolProfiles" in message
    result = run_checks(registry.checks, rows)
    assert not result.complete and any("properties.agentPoolProfiles" in w for w in result.warnings)


@pytest.mark.parametrize("check_id,datum", [
    ("AKS001", "properties.networkProfile"), ("AKS004", "properties.networkProfile"),
    ("AKS005", "properties.networkProfile")])
def test_a_cluster_without_a_network_profile_is_skipped_by_what_needs_it(registry, check_id, datum):
    rows = _rows()
    del rows[CLUSTER]["properties"]["networkProfile"]
    status, message = _cluster_outcome(registry, rows, check_id)
    assert status is Status.SKIPPED and f"'{datum}' is missing" in message


@pytest.mark.parametrize("field,check_id", [
    ("outboundType", "AKS001"), ("serviceCidr", "AKS005"), ("dnsServiceIP", "AKS005")])
def test_each_network_profile_datum_is_named_when_missing(registry, field, check_id):
    rows = _rows()
    net = rows[CLUSTER]["properties"]["networkProfile"]
    net.pop(field)
    net.pop(field + "s", None)
    status, message = _cluster_outcome(registry, rows, check_id)
    assert status is Status.SKIPPED and f"properties.networkProfile.{field}" in message


def test_a_pool_without_enable_node_public_ip_is_skipped_not_passed(registry):
    rows = _rows()
    pool = rows[CLUSTER]["properties"]["agentPoolProfiles"][0]
    del pool["enableNodePublicIP"]
    status, message = _cluster_outcome(registry, rows, "AKS002", f"agentPools/{pool['name']}")
    assert status is Status.SKIPPED and "enableNodePublicIP" in message


def test_an_overlay_cluster_without_its_pod_cidr_is_not_judged_on_no_pod_cidr(registry):
    rows = _rows()
    net = rows[CLUSTER]["properties"]["networkProfile"]
    net.update(networkPlugin="azure", networkPluginMode="overlay")
    net.pop("podCidr", None), net.pop("podCidrs", None)
    status, message = _cluster_outcome(registry, rows, "AKS004")
    assert status is Status.SKIPPED and "podCidr" in message


@pytest.mark.parametrize("outbound,status", [
    ("none", Status.PASS), ("block", Status.PASS), ("userDefinedRouting", Status.PASS),
    ("loadBalancer", Status.FAIL), ("managedNATGatewayV2", Status.FAIL), ("someFutureType", Status.SKIPPED)])
def test_outbound_types_as_azure_documents_them(registry, outbound, status):
    rows = _rows()
    rows[CLUSTER]["properties"]["networkProfile"]["outboundType"] = outbound
    assert _cluster_outcome(registry, rows, "AKS001")[0] is status


def test_a_subnet_without_properties_is_an_unknown_path_not_a_missing_route_table(registry):
    rows = _rows()
    subnet = next(s for s in rows[SPOKE]["properties"]["subnets"] if "routeTable" in s["properties"])
    del subnet["properties"]
    outcomes = _outcomes(registry, rows, "UDR001")
    assert outcomes[("UDR001", subnet["id"].lower(), "")][0] is Status.SKIPPED
    # what the path's gap can name (the routing code words its own message today)
    assert build_estate(rows).gap(subnet["id"]).endswith(".properties' is missing or null")


def test_a_vnet_without_address_space_skips_the_service_cidr_check(registry):
    rows = _rows()
    rows[SPOKE]["properties"]["addressSpace"]["addressPrefixes"] = []
    status, message = _cluster_outcome(registry, rows, "AKS004")
    assert status is Status.SKIPPED and "addressSpace.addressPrefixes" in message


def test_duplicate_ids_with_different_content_are_a_named_gap(registry):
    rows = _rows()
    twin = copy.deepcopy(rows[CLUSTER])
    twin["id"] = twin["id"].upper()  # ARM compares ids case-insensitively: the same resource
    twin["properties"]["networkProfile"]["outboundType"] = "loadBalancer"
    rows.append(twin)
    estate = build_estate(rows)
    assert {r.index for r in estate.rejected} == {CLUSTER, len(rows) - 1}
    assert all("same id" in r.reason for r in estate.rejected)
    assert id_key(twin["id"]) not in estate.clusters
    result = run_checks(registry.checks, rows)
    assert not result.complete
    assert not {f for f in failures(result) if f[0] == "AKS001"}  # neither copy judged


def test_identical_duplicates_are_one_row(registry):
    rows = _rows() + [copy.deepcopy(ROWS[CLUSTER])]
    rows[-1]["id"] = rows[-1]["id"].lower()
    result = run_checks(registry.checks, rows)
    assert result.complete and not build_estate(rows).rejected


def test_ids_compare_as_arm_compares_them_ascii_only():
    assert id_key("/Subscriptions/ABC/") == "/subscriptions/abc"
    kelvin, k = "/subscriptions/s/resourceGroups/\u212a", "/subscriptions/s/resourceGroups/k"
    assert id_key(kelvin) != id_key(k)  # 'K' (Kelvin sign) is not 'k' to ARM
    assert ascii_lower("\u0130STANBUL") == "\u0130stanbul"


def test_ids_differing_only_by_unicode_folding_are_two_resources():
    rows = _rows()
    twin = copy.deepcopy(rows[CLUSTER])
    twin["id"] = twin["id"][:-1] + "\u212a"  # ends in Kelvin sign instead of its last letter
    twin["properties"]["networkProfile"]["outboundType"] = "loadBalancer"
    estate = build_estate(rows + [twin])
    assert not estate.rejected and id_key(twin["id"]) in estate.clusters and id_key(rows[CLUSTER]["id"]) in estate.clusters


@pytest.mark.parametrize("estate,name,path,check_id,datum", [
    # a collection without its action: allow or deny is unknown, for each of its rules
    ("checks/firewall/fw004_wildcard_application_rule/bad.json", "rcg-child",
     ("properties", "ruleCollections", 0, "action"), "FW004", "action.type"),
    # a route table without its route list routes something unknown, not nothing
    ("checks/routing/udr003_next_hop_not_appliance/bad.json", "rt-aks", ("properties", "routes"), "UDR003",
     "properties.routes"),
    # a firewall without its IP configuration may be the next hop nothing else answers on
    ("examples/tutorial.json", "myAzureFirewall", ("properties", "ipConfigurations", 0), "AKS003",
     "properties.ipConfigurations"),
    # a classic firewall's threat intelligence mode is always returned: missing is not 'Alert'
    ("checks/firewall/fw006_threat_intel_off/bad.json", "afw-lab-weu", ("properties", "threatIntelMode"), "FW006",
     "properties.threatIntelMode"),
])
def test_an_unread_datum_is_skipped_by_name(registry, estate, name, path, check_id, datum):
    """One datum deleted from a complete estate: the check that needed it says `skipped`, naming it,
    where it failed before (the monotonic property, pinned on cases Hypothesis may not draw)."""
    document = json.loads((ROOT / estate).read_text())
    rows = copy.deepcopy(document["estate"] if isinstance(document, dict) else document)
    before = {key for key, (status, _) in _outcomes(registry, rows, check_id).items() if status is Status.FAIL}
    target = next(r for r in rows if r.get("name") == name)
    parent = target
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    after = _outcomes(registry, rows, check_id)
    assert before and all(after.get(key, (Status.SKIPPED,))[0] is not Status.PASS for key in before)
    assert any(status is Status.SKIPPED and datum in message for status, message in after.values()), after
