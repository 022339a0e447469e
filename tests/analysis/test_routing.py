"""Routing computed over the address space: unreadable routes, IPv6, hub-scoped firewalls, peerings.

Each test starts from a compliant estate (the hub-and-spoke example, the Virtual WAN scenarios),
changes one datum and names what must follow: a skip naming the datum, a finding, or nothing.
"""
from __future__ import annotations

import copy
import ipaddress
import json

import pytest

from aksaudit.analysis.egress_paths import FIREWALL, UNKNOWN, UNRESOLVED
from aksaudit.results.findings import Status
from aksaudit.model.estate import build_estate
from aksaudit.model.resources import Route, parse_network
from aksaudit.analysis.route_partition import NON_PUBLIC_V6, decide, partition
from aksaudit.testing import failures, run_checks

from conftest import EXAMPLES
from test_scenarios import T_CONNECTION, rows as scenario_rows

ROUTING_CHECKS = ("UDR002", "UDR003", "UDR004", "UDR005", "UDR006", "UDR007")


def _route(name, prefix, hop="VirtualAppliance", ip="10.0.1.4"):
    return Route(f"/rt/routes/{name}", name, prefix, parse_network(prefix) if prefix else None, hop, ip)


def _hub_spoke():
    return copy.deepcopy(json.loads((EXAMPLES / "hub-spoke.json").read_text()))


# --- unreadable routes fail closed ----------------------------------------------------------------

@pytest.mark.parametrize("field,value,needle", [
    ("addressPrefix", None, "has no addressPrefix"),
    ("addressPrefix", "10.0.0.0/33", "neither a CIDR prefix nor a service tag"),
    ("nextHopType", None, "has no nextHopType"),
    ("nextHopType", "Firewall", "not a known next hop type"),
    ("nextHopIpAddress", None, "nextHopIpAddress is none"),
    ("nextHopIpAddress", "afw-hub", "'afw-hub', which is not an IP address"),
])
def test_an_unreadable_route_skips_the_verdicts_of_its_table_naming_it(field, value, needle, registry):
    rows = _hub_spoke()
    table = next(r for r in rows if r["type"] == "microsoft.network/routetables")
    route = next(r for r in table["properties"]["routes"] if r["properties"]["addressPrefix"] == "0.0.0.0/0")
    if value is None:
        del route["properties"][field]
    else:
        route["properties"][field] = value
    result = run_checks([c for c in registry.checks if c.meta.id in ROUTING_CHECKS], rows)
    assert not result.complete
    skipped = {s.check_id: s for s in result.skipped if s.resource_id.lower() == table["id"].lower()}
    assert set(skipped) == set(ROUTING_CHECKS)
    assert all(needle in s.reason and route["name"] in s.reason for s in skipped.values())
    estate = build_estate(rows)
    passed_here = {(check.meta.id, o.resource_id) for check in registry.checks if check.meta.id in ROUTING_CHECKS
                   for o in check.evaluate(estate, dict(check.meta.options))
                   if o.status is Status.PASS and o.resource_id.lower().startswith(table["id"].lower())}
    assert passed_here == set()


def test_a_route_without_prefix_is_never_ignored_even_beside_a_default_route():
    routes = (_route("default", "0.0.0.0/0"), _route("mystery", "", "Internet", ""))
    decision = decide(routes)
    assert decision.unknown and "has no addressPrefix" in decision.unknown[0]


def test_a_defective_route_that_wins_nothing_public_does_not_matter():
    routes = (_route("default", "0.0.0.0/0"), _route("onprem", "10.0.0.0/8", "Firewall", ""))
    assert decide(routes).unknown == ()


def test_a_service_tag_route_is_a_route():
    decision = decide((_route("default", "0.0.0.0/0"), _route("tag", "AzureCloud.westeurope", "Internet", "")))
    assert [r.name for r in decision.service_tag_routes] == ["tag"] and decision.unknown == ()
    broken = decide((_route("default", "0.0.0.0/0"), _route("tag", "Storage", "", "")))
    assert broken.unknown and "has no nextHopType" in broken.unknown[0]


# --- IPv6 -------------------------------------------------------------------------------------------

def test_ipv6_longest_prefix_over_global_unicast():
    default = _route("v6-default", "::/0", ip="fd00:10::4")
    assert not decide((default,), 6).uncovered
    assert [r.name for r in decide((default,), 6).deciding] == ["v6-default"]
    assert decide((_route("v4", "0.0.0.0/0"),), 6).uncovered  # an IPv4 default says nothing about IPv6
    assert decide((default,), 4).uncovered  # nor the reverse
    ula_only = decide((_route("ula", "fc00::/7", ip="fd00:10::4"),), 6)
    assert ula_only.uncovered and not ula_only.deciding  # unique local space is never the Internet
    halves = decide((_route("low", "2000::/4", ip="fd00:10::4"), _route("high", "3000::/4", "Internet", "")), 6)
    assert not halves.uncovered and {r.name for r in halves.deciding} == {"low", "high"}


def test_partition_agrees_with_a_packet_by_packet_walk_on_every_boundary():
    entries = [(parse_network(p), p) for p in ("::/0", "2000::/3", "2400::/6", "2a01:111::/32", "2001:db8::/32")]
    winners, uncovered = partition(entries, 6)
    assert not uncovered

    def walk(address):
        matching = [(net.prefixlen, -i, owner) for i, (net, owner) in enumerate(entries) if address in net]
        return max(matching)[2] if matching else None

    def public(address):
        return not any(address in block for block in NON_PUBLIC_V6)

    boundaries = {ipaddress.IPv6Address(int(n.network_address) + d) for n, _ in entries for d in (0, -1)
                  if 0 <= int(n.network_address) + d < 2 ** 128}
    boundaries |= {n.broadcast_address for n, _ in entries}
    expected = {walk(a) for a in boundaries if public(a)}
    assert expected <= set(winners)
    assert "2001:db8::/32" not in winners  # documentation space is never public


# --- hub firewalls: only through the hub the VNet is connected to ----------------------------------

def _data_spoke_default_to_hub_firewall(rows):
    table = next(r for r in rows if r["type"] == "microsoft.network/routetables")
    table["properties"]["routes"][0]["properties"]["addressPrefix"] = "0.0.0.0/0"
    return table


def test_a_udr_to_a_hub_firewall_ip_resolves_only_through_the_connected_hub():
    rows = scenario_rows("vwan-secured-hub.json")
    table = _data_spoke_default_to_hub_firewall(rows)
    data = next(p for p in build_estate(rows).egress_paths if p.route_table and p.route_table.id == table["id"])
    assert {h.next_hop.kind for h in data.hops} == {FIREWALL}
    # The same spoke, no longer connected to the hub: the hub firewall's IP means nothing to it.
    disconnected = [r for r in rows if not (r["type"] == T_CONNECTION and "data" in r["name"])]
    data = next(p for p in build_estate(disconnected).egress_paths
                if p.route_table and p.route_table.id == table["id"])
    assert {h.next_hop.kind for h in data.hops} == {UNKNOWN}


def test_a_hub_firewall_ip_with_the_hub_routing_unread_is_unresolved_not_a_firewall():
    rows = [r for r in scenario_rows("vwan-secured-hub.json") if not r["type"].startswith("microsoft.network/virtualhubs/")]
    _data_spoke_default_to_hub_firewall(rows)
    estate = build_estate(rows)
    data = next(p for p in estate.egress_paths if p.route_table is not None)
    assert {h.next_hop.kind for h in data.hops} == {UNRESOLVED}
    assert all("were not read" in h.next_hop.reason for h in data.hops)


def test_two_hubs_with_the_same_firewall_ip_do_not_stand_in_for_each_other():
    rows = scenario_rows("vwan-secured-hub.json")
    _data_spoke_default_to_hub_firewall(rows)
    hub = next(r for r in rows if r["type"] == "microsoft.network/virtualhubs")
    firewall = next(r for r in rows if r["type"] == "microsoft.network/azurefirewalls")
    other_hub, other_fw = copy.deepcopy(hub), copy.deepcopy(firewall)
    other_hub["id"] = hub["id"].replace("vhub-weu", "vhub-neu")
    other_fw["id"] = firewall["id"].replace("afw-vhub-weu", "afw-vhub-neu")
    other_hub["properties"]["azureFirewall"]["id"] = other_fw["id"]
    other_fw["properties"]["virtualHub"]["id"] = other_hub["id"]
    rows += [other_hub, other_fw]
    for row in rows:  # the data spoke now connects to the other hub, whose firewall has the same IP
        if row["type"] == T_CONNECTION and "data" in row["name"]:
            row["id"] = row["id"].replace("vhub-weu", "vhub-neu")
    estate = build_estate(rows, hub_lookups={other_hub["id"]: ""})
    data = next(p for p in estate.egress_paths if p.route_table is not None)
    resolved = {h.next_hop.firewall.id for h in data.hops if h.next_hop and h.next_hop.firewall}
    assert resolved == {other_fw["id"]}


# --- peerings ---------------------------------------------------------------------------------------

def _spoke_peering(rows):
    spoke = next(r for r in rows if r["name"] == "vnet-spoke-payments-weu")
    return spoke["properties"]["virtualNetworkPeerings"][0]


def _payments_hops(rows):
    estate = build_estate(rows)
    return [h for p in estate.egress_paths if p.vnet.header.name == "vnet-spoke-payments-weu" for h in p.hops]


def test_a_complete_connected_peering_carries_the_subnet():
    assert {h.next_hop.blocked for h in _payments_hops(_hub_spoke())} == {""}


@pytest.mark.parametrize("local,remote,carried", [
    (["snet-aks-prod", "snet-aks-staging"], ["AzureFirewallSubnet"], True),
    (["snet-private-endpoints"], ["AzureFirewallSubnet"], False),
    (["snet-aks-prod", "snet-aks-staging"], ["GatewaySubnet"], False),
])
def test_a_subnet_peering_carries_only_its_named_subnets(local, remote, carried):
    rows = _hub_spoke()
    peering = _spoke_peering(rows)
    peering["properties"].update(peerCompleteVnets=False, localSubnetNames=local, remoteSubnetNames=remote)
    hub = next(r for r in rows if r["name"] == "vnet-hub-weu")
    for back in hub["properties"]["virtualNetworkPeerings"]:
        if "payments" in back["properties"]["remoteVirtualNetwork"]["id"]:
            back["properties"].update(peerCompleteVnets=False, localSubnetNames=remote, remoteSubnetNames=local)
    hops = _payments_hops(rows)
    assert hops and all(h.next_hop.kind == FIREWALL for h in hops)
    assert all(bool(h.next_hop.blocked) is not carried for h in hops)


def test_the_remote_side_must_be_connected_too(registry):
    rows = _hub_spoke()
    hub = next(r for r in rows if r["name"] == "vnet-hub-weu")
    back = next(p for p in hub["properties"]["virtualNetworkPeerings"]
                if "payments" in p["properties"]["remoteVirtualNetwork"]["id"])
    back["properties"]["peeringState"] = "Disconnected"
    hops = _payments_hops(rows)
    assert hops and all("back to this VNet is 'Disconnected'" in h.next_hop.blocked for h in hops)
    result = run_checks([registry.by_id()["UDR007"]], rows)
    assert {(k[0], k[1]) for k in failures(result)} == {("UDR007", _spoke_peering(rows)["id"].lower())}


# --- UDR008: IPv6 egress of dual-stack clusters -----------------------------------------------------

def _udr008_good():
    from aksaudit.testing import load_fixture
    from aksaudit.run.registry import load_registry
    check = load_registry().by_id()["UDR008"]
    return check, copy.deepcopy(load_fixture(check.folder / "good.json").rows)


def _outcomes(check, rows):
    return {(o.status, o.resource_id.lower()): o for o in check.evaluate(build_estate(rows), dict(check.meta.options))}


def test_udr008_an_unreadable_ipv6_route_is_a_skip_naming_it():
    check, rows = _udr008_good()
    table = next(r for r in rows if r["name"] == "rt-filtered")
    del table["properties"]["routes"][1]["properties"]["nextHopIpAddress"]
    outcomes = _outcomes(check, rows)
    skip = outcomes[(Status.SKIPPED, table["id"].lower())]
    assert "default-v6" in skip.message and "nextHopIpAddress" in skip.message
    assert not any(status is Status.PASS and rid.startswith(table["id"].lower()) for status, rid in outcomes)


def test_udr008_a_cluster_without_outbound_type_is_skipped_not_passed():
    check, rows = _udr008_good()
    cluster = next(r for r in rows if r["name"] == "aks-filtered")
    del cluster["properties"]["networkProfile"]["outboundType"]
    assert (Status.SKIPPED, cluster["id"].lower()) in _outcomes(check, rows)


def test_udr008_an_ipv4_default_route_does_not_cover_ipv6():
    check, rows = _udr008_good()
    table = next(r for r in rows if r["name"] == "rt-filtered")
    table["properties"]["routes"] = table["properties"]["routes"][:1]  # 0.0.0.0/0 only
    outcomes = _outcomes(check, rows)
    assert (Status.FAIL, table["id"].lower()) in outcomes


def test_udr008_the_ipv6_next_hop_must_be_a_firewall_that_filters_ipv6():
    check, rows = _udr008_good()
    firewall = next(r for r in rows if r["type"] == "microsoft.network/azurefirewalls")
    del firewall["properties"]["firewallPolicy"]  # classic rules: no IPv6 support
    table = next(r for r in rows if r["name"] == "rt-filtered")
    route_id = table["properties"]["routes"][1]["id"].lower()
    outcome = _outcomes(check, rows)[(Status.FAIL, route_id)]
    assert "classic" in outcome.evidence["reason"]
