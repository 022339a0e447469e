"""AKS007 judged over address sets and failing closed, on variations of its own bad fixture and of
the secured-hub scenario.

The outcome sets are worked out from Azure's documented behaviour: the firewall SNATs the nodes'
traffic to one of its public addresses (picked per connection), and the API server admits a
caller when some authorized range contains its address.
"""
from __future__ import annotations

import copy
import ipaddress
import json
from pathlib import Path

import pytest

from aksaudit.run.registry import load_registry
from aksaudit.testing import load_fixture, run_checks

CHECK = load_registry().by_id()["AKS007"]
BAD = load_fixture(CHECK.folder / "bad.json")
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "vwan-secured-hub.json"
FIREWALL_IP = "20.86.114.27"
HUB_IPS = ("20.76.201.14", "20.76.201.15")


def _one_cluster(name: str = "aks-orders-prod") -> list[dict]:
    """The bad fixture with one cluster left, so every outcome below is about it."""
    return [copy.deepcopy(r) for r in BAD.rows
            if not r["type"].endswith("managedclusters") or r["name"] == name]


def _cluster(rows: list[dict]) -> dict:
    return next(r for r in rows if r["type"].endswith("managedclusters"))


def _named(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["name"] == name)


def _outcomes(rows: list[dict]) -> tuple[set[str], dict[str, str], int]:
    """(failed cluster names, skipped cluster name -> reason, how many resources were judged)."""
    result = run_checks([CHECK], rows)  # a row lacking data it always has is also a scan error: not asked here
    name = lambda resource_id: resource_id.rsplit("/", 1)[-1]  # noqa: E731
    return ({name(f.resource_id) for f in result.findings},
            {name(s.resource_id): s.reason for s in result.skipped}, result.resources_evaluated)


def _with_ranges(rows: list[dict], ranges) -> list[dict]:
    _cluster(rows)["properties"]["apiServerAccessProfile"]["authorizedIPRanges"] = ranges
    return rows


@pytest.mark.parametrize("prefixlen", range(0, 33))
def test_a_range_containing_the_firewall_address_admits_it_at_any_prefix_length(prefixlen):
    covering = ipaddress.ip_network(f"{FIREWALL_IP}/{prefixlen}", strict=False)
    assert _outcomes(_with_ranges(_one_cluster(), ["198.51.100.0/24", str(covering)])) == (set(), {}, 1)


@pytest.mark.parametrize("prefixlen", range(1, 33))
def test_the_neighbouring_range_of_the_same_size_does_not(prefixlen):
    covering = ipaddress.ip_network(f"{FIREWALL_IP}/{prefixlen}", strict=False)
    flipped = int(covering.network_address) ^ (1 << (32 - prefixlen))
    neighbour = ipaddress.ip_network((flipped, prefixlen))
    failed, skipped, _ = _outcomes(_with_ranges(_one_cluster(), [str(neighbour)]))
    assert (failed, skipped) == ({"aks-orders-prod"}, {})


def test_ranges_that_cover_the_address_only_together_are_not_needed_each():
    """Two halves of a /31 admit the address the /31 admits: the union is what counts."""
    assert _outcomes(_with_ranges(_one_cluster(), ["20.86.114.26/32", "20.86.114.27/32"])) == (set(), {}, 1)


def test_the_finding_names_the_missing_address_and_the_ranges():
    result = run_checks([CHECK], _one_cluster())
    (finding,) = result.findings
    assert FIREWALL_IP in finding.message and "203.0.113.0/24" in finding.message
    assert finding.evidence["missing"] == [FIREWALL_IP]
    assert set(finding.evidence["authorized_ip_ranges"]) == set(_cluster(_one_cluster())["properties"][
        "apiServerAccessProfile"]["authorizedIPRanges"])


@pytest.mark.parametrize("profile", [
    {"enablePrivateCluster": True, "authorizedIPRanges": ["203.0.113.0/24"]},
    {"enableVnetIntegration": True, "authorizedIPRanges": ["203.0.113.0/24"]},
    {"authorizedIPRanges": []},
    {"authorizedIPRanges": None},
    {},
])
def test_not_applicable_without_a_restricted_public_endpoint_the_nodes_use(profile):
    rows = _one_cluster()
    _cluster(rows)["properties"]["apiServerAccessProfile"] = profile
    assert _outcomes(rows) == (set(), {}, 0)


def _skip_reason(rows: list[dict]) -> str:
    failed, skipped, _ = _outcomes(rows)
    assert failed == set() and set(skipped) == {"aks-orders-prod"}, (failed, skipped)
    return skipped["aks-orders-prod"]


def test_a_firewall_public_ip_not_in_the_estate_is_skipped_naming_it():
    rows = [r for r in _one_cluster() if r["name"] != "pip-afw-hub-weu"]
    assert "pip-afw-hub-weu" in _skip_reason(rows)


def test_a_public_ip_without_its_address_is_skipped_naming_it():
    rows = _one_cluster()
    del _named(rows, "pip-afw-hub-weu")["properties"]["ipAddress"]
    assert "ipAddress" in _skip_reason(rows)


def test_a_nat_gateway_on_the_firewall_subnet_owns_the_egress_address():
    rows = _one_cluster()
    hub = _named(rows, "vnet-hub-weu")
    subnet = next(s for s in hub["properties"]["subnets"] if s["name"] == "AzureFirewallSubnet")
    gateway = hub["id"].split("/providers/")[0] + "/providers/Microsoft.Network/natGateways/ng-afw"
    subnet["properties"]["natGateway"] = {"id": gateway}
    assert "ng-afw" in _skip_reason(rows)


def test_a_forced_tunnelling_firewall_without_a_public_ip_is_skipped():
    rows = _one_cluster()
    for config in _named(rows, "afw-hub-weu")["properties"]["ipConfigurations"]:
        config["properties"].pop("publicIPAddress", None)
    assert "forced tunnelling" in _skip_reason(rows)


@pytest.mark.parametrize("ranges, named", [(["203.0.113.0/24", "not-a-range"], "not-a-range"),
                                           (42, "authorizedIPRanges")])
def test_unreadable_ranges_are_skipped_naming_them(ranges, named):
    assert named in _skip_reason(_with_ranges(_one_cluster(), ranges))


def test_a_subnet_split_between_the_firewall_and_the_internet_is_skipped():
    rows = _one_cluster()
    table = _named(rows, "rt-spoke-orders-weu-egress")
    default = next(r for r in table["properties"]["routes"] if r["properties"]["addressPrefix"] == "0.0.0.0/0")
    default["properties"]["addressPrefix"] = "0.0.0.0/1"
    upper = copy.deepcopy(default)
    upper["name"] = "upper-half-direct"
    upper["id"] = default["id"].rsplit("/", 1)[0] + "/upper-half-direct"
    upper["properties"].update(addressPrefix="128.0.0.0/1", nextHopType="Internet")
    upper["properties"].pop("nextHopIpAddress")
    table["properties"]["routes"].append(upper)
    assert "upper-half-direct" in _skip_reason(rows)


def test_a_service_tag_route_around_the_firewall_may_carry_the_api_server():
    rows = _one_cluster()
    table = _named(rows, "rt-spoke-orders-weu-egress")
    route = copy.deepcopy(table["properties"]["routes"][0])
    route["name"] = "azurecloud-direct"
    route["id"] = route["id"].rsplit("/", 1)[0] + "/azurecloud-direct"
    route["properties"].update(addressPrefix="AzureCloud", nextHopType="Internet")
    route["properties"].pop("nextHopIpAddress", None)
    table["properties"]["routes"].append(route)
    assert "azurecloud-direct" in _skip_reason(rows)


def test_a_host_route_to_the_firewall_own_address_does_not_split_the_traffic():
    """The fixture's table sends 20.86.114.27/32 to the Internet (Microsoft's tutorial does): the API
    server is not at the firewall's own address, so the cluster is still judged."""
    routes = _named(_one_cluster(), "rt-spoke-orders-weu-egress")["properties"]["routes"]
    assert any(r["properties"]["addressPrefix"] == f"{FIREWALL_IP}/32" for r in routes)
    assert _outcomes(_one_cluster())[:2] == ({"aks-orders-prod"}, {})


def test_a_cluster_whose_egress_bypasses_every_firewall_is_not_judged():
    rows = _one_cluster()
    rows = [r for r in rows if r["type"] != "microsoft.network/routetables"]
    for subnet in _named(rows, "vnet-spoke-orders-weu")["properties"]["subnets"]:
        subnet["properties"].pop("routeTable", None)
    assert _outcomes(rows) == (set(), {}, 0)


# --- a Virtual WAN secured hub: the firewall's addresses are hubIPAddresses.publicIPs -----------

def _hub_rows(ranges) -> tuple[list[dict], str]:
    rows = json.loads(SCENARIO.read_text())
    public = [r for r in rows if r["type"].endswith("managedclusters")
              and not r["properties"].get("apiServerAccessProfile", {}).get("enablePrivateCluster")]
    name = public[0]["name"]
    public[0]["properties"]["apiServerAccessProfile"]["authorizedIPRanges"] = ranges
    return rows, name


def test_hub_firewall_every_address_must_be_admitted():
    rows, name = _hub_rows([f"{HUB_IPS[0]}/32"])
    result = run_checks([CHECK], rows)
    assert {f.resource_id.rsplit("/", 1)[-1] for f in result.findings} == {name}
    (finding,) = result.findings
    assert finding.evidence["missing"] == [HUB_IPS[1]]


def test_hub_firewall_addresses_admitted_by_one_covering_range():
    rows, name = _hub_rows(["20.76.201.14/31"])
    result = run_checks([CHECK], rows)
    assert (result.findings, result.skipped, result.resources_evaluated) == ((), (), 1)


def test_hub_firewall_without_public_addresses_is_skipped_naming_the_field():
    rows, name = _hub_rows(["203.0.113.0/24"])
    for row in rows:
        if row["type"] == "microsoft.network/azurefirewalls" and row["properties"].get("hubIPAddresses"):
            row["properties"]["hubIPAddresses"]["publicIPs"]["addresses"] = []
    result = run_checks([CHECK], rows)
    assert not result.findings
    assert {s.resource_id.rsplit("/", 1)[-1] for s in result.skipped} == {name}
    assert "hubIPAddresses.publicIPs.addresses" in result.skipped[0].reason
