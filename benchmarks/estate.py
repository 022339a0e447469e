"""Deterministic hub-and-spoke estates of any size, with injected misconfigurations and their ground truth.

    python benchmarks/estate.py --clusters 1000 -o /tmp/estate-1k.json

writes `estate-1k.json` (a JSON array of Resource Graph rows, what `az graph query` returns and
`aksaudit scan --snapshot` reads) and `estate-1k.expected.json` beside it: the exact set of
`(check_id, lower-cased resource id, locus)` failures a correct scan reports, plus the
management groups and subscription names the emulator needs to serve the same tenant.

Why a generator and not recorded data: the benchmark must scale from a thousand rows to a
million with the same shape, and its correctness verdict needs a ground truth that does not come
from aksaudit itself. Every misconfiguration is injected here on purpose, and the findings it
must cause are written down here from the checks' documented semantics, not by running them.

The shape (per the Azure landing-zone pattern):

* hubs (one per `spokes_per_hub` spokes, each in its own connectivity subscription): a hub VNet
  peered to its spokes, an Azure Firewall with public IPs, a child firewall policy deriving from
  one organisation-wide base policy, rule collection groups with hundreds of rules, IP groups;
* spokes (`clusters_per_subscription` per landing-zone subscription): a VNet with node, pod,
  private-endpoint and gateway subnets, a route table sending 0.0.0.0/0 to the hub firewall, an
  AKS cluster with three pools, its internal load balancer, NICs, an NSG and a public IP.

Rows per spoke: 10; rows per hub: 17; plus 3 organisation-wide rows. NICs and NSGs are types no
check needs: they cost parsing offline and are never queried live, as in a real tenant.

Determinism: names, GUIDs and choices derive from `seed` and indexes only (string-seeded
`random.Random` and SHA-256), so the same arguments give byte-identical files on any machine.
"""
from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import random
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

TENANT = "5f0c6e2a-8b1d-4c3e-9a7f-2d4b6e8f0a1c"
REGIONS = ("westeurope", "northeurope", "eastus2", "westus2", "uksouth", "francecentral", "southeastasia",
           "australiaeast")
ROWS_PER_SPOKE = 10
ROWS_PER_HUB = 17
GLOBAL_ROWS = 3

HUB_FIREWALL_IP = "10.0.0.4"  # every hub reuses the same address plan: hubs never peer with each other
HUB_SPACE = "10.0.0.0/22"
SPOKE_SUPERNET = "10.0.0.0/10"  # what the AKS IP group lists: every spoke block of a hub (and the hub)
SERVICE_CIDR = "172.16.0.0/16"
DNS_SERVICE_IP = "172.16.0.10"
OVERLAY_POD_CIDR = "192.168.0.0/16"

# Spoke misconfigurations: each causes exactly the findings `_spoke_truth` lists.
SPOKE_KINDS = (
    "no_route_table",          # UDR001 on the node subnet
    "missing_default_route",   # UDR002 on the route table
    "internet_default_route",  # UDR003 on the default route
    "wrong_next_hop_ip",       # UDR004 on the default route
    "firewall_public_ip_hop",  # UDR005 on the default route
    "internet_hole_route",     # UDR006 on the hole
    "peering_disconnected",    # UDR007 on the spoke's peering
    "public_outbound_type",    # AKS001 on the cluster
    "node_public_ip",          # AKS002 on the cluster, locus agentPools/user1
    "service_cidr_overlap",    # AKS004 on the cluster
    "dns_ip_outside_service",  # AKS005 on the cluster
    "public_load_balancer",    # AKS006 on the load balancer
)
# Spoke kinds whose node subnet no longer reaches a firewall: AKS003 cannot judge them.
UNJUDGED = frozenset(SPOKE_KINDS[:5])

# Hub misconfigurations, assigned to every second hub in this order.
HUB_KINDS = (
    "any_any_network_rule",     # FW003 and FW005 on the workload rule collection group
    "required_egress_blocked",  # AKS003 on every judged cluster behind the hub
    "wildcard_application_rule",  # FW004 on the workload rule collection group
    "threat_intel_off",         # FW006 on the hub's child policy
    "firewall_subnet_too_small",  # FW002 on AzureFirewallSubnet
    "firewall_wrong_subnet",    # FW001 on the firewall
)

OPEN_HUBS = frozenset({"any_any_network_rule", "wildcard_application_rule"})  # they let any destination through

Finding = tuple[str, str, str]  # (check id, lower-cased resource id, locus)


@dataclass(frozen=True)
class Plan:
    """What to generate. The defaults are the benchmark's; tests use small ones."""

    clusters: int
    seed: int = 1
    misconfig_rate: float = 0.1  # share of spokes with one injected misconfiguration
    spokes_per_hub: int = 250  # Azure allows 500 peerings per VNet; half of it is a busy hub
    clusters_per_subscription: int = 4
    workload_rules: int = 240  # rules in each hub's workload rule collection group
    base_rules: int = 120  # rules in the organisation-wide base policy
    # Every hub firewall lacks AKS's required egress, so AKS003 judges every cluster behind one
    # and a live scan must ask the AKS API for each such cluster's own dependency list: the
    # estate where those lookups are the main cost.
    aks_egress_blocked: bool = False

    @property
    def hubs(self) -> int:
        return max(1, -(-self.clusters // self.spokes_per_hub))

    @property
    def rows(self) -> int:
        return GLOBAL_ROWS + self.hubs * ROWS_PER_HUB + self.clusters * ROWS_PER_SPOKE


def clusters_for_rows(rows: int, **plan: Any) -> int:
    """The cluster count whose estate has about `rows` rows (the benchmark sizes estates by rows)."""
    per_cluster = ROWS_PER_SPOKE + ROWS_PER_HUB / Plan(1, **plan).spokes_per_hub
    return max(1, int((rows - GLOBAL_ROWS) / per_cluster))


@dataclass
class Manifest:
    """What the generator knows about the estate it wrote: the ground truth and the tenant layout."""

    plan: Plan
    rows: int = 0
    findings: set[Finding] = field(default_factory=set)
    spoke_kinds: dict[str, int] = field(default_factory=dict)
    hub_kinds: dict[str, int] = field(default_factory=dict)
    subscription_names: dict[str, str] = field(default_factory=dict)
    management_groups: dict[str, list[str]] = field(default_factory=dict)
    type_counts: dict[str, int] = field(default_factory=dict)  # rows per (lower-case) type
    bytes: int = 0

    def document(self) -> dict[str, Any]:
        return {
            "format": "aksaudit-benchmark-estate", "version": 1,
            "plan": vars(self.plan), "rows": self.rows, "bytes": self.bytes, "clusters": self.plan.clusters,
            "hubs": self.plan.hubs, "subscriptions": len(self.subscription_names),
            "type_counts": dict(sorted(self.type_counts.items())),
            "injected": {"spokes": dict(sorted(self.spoke_kinds.items())), "hubs": dict(sorted(self.hub_kinds.items()))},
            "expected": sorted(list(f) for f in self.findings),
            "subscription_names": self.subscription_names,
            "management_groups": self.management_groups,
        }


def expected_path(estate_path: str | Path) -> Path:
    path = Path(estate_path)
    return path.with_name(path.name.removesuffix(".json") + ".expected.json")


def load_expected(estate_path: str | Path) -> dict[str, Any]:
    return json.loads(expected_path(estate_path).read_text(encoding="utf-8"))


def expected_findings(document: dict[str, Any]) -> frozenset[Finding]:
    return frozenset((c, r.lower(), l) for c, r, l in document["expected"])


# --- deterministic names -------------------------------------------------------------------------

def guid(seed: int, name: str) -> str:
    return str(uuid.UUID(bytes=hashlib.sha256(f"{seed}/{name}".encode()).digest()[:16], version=4))


def short_hash(seed: int, name: str) -> str:
    return hashlib.sha256(f"{seed}#{name}".encode()).hexdigest()[:8]


def arm_id(sub: str, group: str, provider: str, *parts: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/{provider}/" + "/".join(parts)


def _row(resource_id: str, rtype: str, sub: str, group: str, location: str, properties: dict[str, Any], *,
         tags: dict[str, str] | None = None, sku: dict[str, str] | None = None, zones: list[str] | None = None,
         seed: int = 0) -> dict[str, Any]:
    """One row as Resource Graph returns it from `resources`: the ARM body plus ARG's own columns."""
    return {
        "id": resource_id, "name": resource_id.rsplit("/", 1)[-1], "type": rtype, "tenantId": TENANT, "kind": "",
        "location": location, "resourceGroup": group, "subscriptionId": sub, "managedBy": "", "sku": sku,
        "plan": None, "properties": {"provisioningState": "Succeeded", **properties}, "tags": tags or {},
        "identity": None, "zones": zones, "extendedLocation": None,
    }


def _etag(seed: int, name: str) -> str:
    return f'W/"{guid(seed, "etag/" + name)}"'


def _net(base: int, prefix: int) -> str:
    return f"{ipaddress.IPv4Address(base)}/{prefix}"


# --- the organisation-wide base policy ------------------------------------------------------------

@dataclass(frozen=True)
class Platform:
    sub: str
    group: str
    base_policy_id: str
    base_group_id: str
    ip_group_id: str


def _platform(seed: int) -> Platform:
    sub = guid(seed, "subscription/platform")
    group = "rg-platform-fwpolicy"
    policy = arm_id(sub, group, "Microsoft.Network", "firewallPolicies", "afwp-org-base")
    return Platform(sub, group, policy, f"{policy}/ruleCollectionGroups/rcg-org-base",
                    arm_id(sub, group, "Microsoft.Network", "ipGroups", "ipg-org-private"))


def _base_rows(plan: Plan, platform: Platform) -> Iterator[dict[str, Any]]:
    seed, tags = plan.seed, {"owner": "platform-security", "env": "prod"}
    yield _row(platform.ip_group_id, "microsoft.network/ipgroups", platform.sub, platform.group, "westeurope",
               {"ipAddresses": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], "firewalls": [],
                "firewallPolicies": [{"id": platform.base_policy_id}]}, tags=tags)
    yield _row(platform.base_policy_id, "microsoft.network/firewallpolicies", platform.sub, platform.group,
               "westeurope", {
                   # No threatIntelMode: each hub's child policy sets its own (FW006 judges the chain).
                   "sku": {"tier": "Premium"}, "dnsSettings": {"enableProxy": True, "servers": []},
                   "snat": {"privateRanges": ["IANAPrivateRanges"]}, "childPolicies": [], "firewalls": [],
                   "ruleCollectionGroups": [{"id": platform.base_group_id}], "size": "0.2MB"}, tags=tags)
    network, application = [], []
    for n in range(plan.base_rules):
        if n % 2:
            network.append({
                "name": f"org-net-{n:03d}", "ruleType": "NetworkRule", "ipProtocols": ["TCP"],
                "sourceAddresses": [], "sourceIpGroups": [platform.ip_group_id],
                "destinationAddresses": [f"10.250.{n // 256}.{n % 256}"], "destinationIpGroups": [],
                "destinationFqdns": [], "destinationPorts": [str(1024 + n)]})
        else:
            application.append({
                "name": f"org-app-{n:03d}", "ruleType": "ApplicationRule",
                "protocols": [{"protocolType": "Https", "port": 443}], "sourceAddresses": [],
                "sourceIpGroups": [platform.ip_group_id], "targetFqdns": [f"api{n}.tools.contoso-platform.net"],
                "targetUrls": [], "fqdnTags": [], "terminateTLS": False, "webCategories": [],
                "destinationAddresses": [], "httpHeadersToInsert": []})
    yield _row(platform.base_group_id, "microsoft.network/firewallpolicies/rulecollectiongroups", platform.sub,
               platform.group, "", {"priority": 100, "size": "0.1MB", "ruleCollections": [
                   {"name": "net-org-shared", "priority": 100, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "action": {"type": "Allow"}, "rules": network},
                   {"name": "app-org-shared", "priority": 200, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "action": {"type": "Allow"}, "rules": application},
               ]})


# --- hubs -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hub:
    index: int
    sub: str
    region: str
    net_group: str
    policy_group: str
    vnet_id: str
    firewall_id: str
    firewall_public_ip: str
    policy_id: str
    aks_group_id: str  # rule collection group holding AKS's required egress
    workload_group_id: str
    nat_group_id: str
    aks_ip_group_id: str
    kind: str  # the injected misconfiguration, '' for none
    blocks_aks_egress: bool = False  # its rules lack AKS's required egress

    @property
    def firewall_subnet(self) -> str:
        return "fw-subnet" if self.kind == "firewall_wrong_subnet" else "AzureFirewallSubnet"


def _hub(plan: Plan, index: int) -> Hub:
    seed = plan.seed
    sub = guid(seed, f"subscription/hub-{index}")
    region = REGIONS[index % len(REGIONS)]
    net_group, policy_group = f"rg-hub-net-{index:04d}", f"rg-hub-fwpolicy-{index:04d}"
    policy = arm_id(sub, policy_group, "Microsoft.Network", "firewallPolicies", f"afwp-hub-{index:04d}")
    return Hub(
        index=index, sub=sub, region=region, net_group=net_group, policy_group=policy_group,
        vnet_id=arm_id(sub, net_group, "Microsoft.Network", "virtualNetworks", f"vnet-hub-{index:04d}"),
        firewall_id=arm_id(sub, net_group, "Microsoft.Network", "azureFirewalls", f"afw-hub-{index:04d}"),
        firewall_public_ip=f"20.50.{index >> 8}.{index & 255}",
        policy_id=policy,
        aks_group_id=f"{policy}/ruleCollectionGroups/rcg-aks-egress",
        workload_group_id=f"{policy}/ruleCollectionGroups/rcg-workloads",
        nat_group_id=f"{policy}/ruleCollectionGroups/rcg-dnat",
        aks_ip_group_id=arm_id(sub, policy_group, "Microsoft.Network", "ipGroups", f"ipg-aks-spokes-{index:04d}"),
        kind=(kind := HUB_KINDS[(index // 2) % len(HUB_KINDS)] if index % 2 == 0 else ""),
        # A hub whose rules let any destination through (any/any, '*') does not block AKS, however written.
        blocks_aks_egress=kind == "required_egress_blocked" or (plan.aks_egress_blocked and kind not in OPEN_HUBS),
    )


def _hub_rows(plan: Plan, hub: Hub, platform: Platform, spokes: list["Spoke"]) -> Iterator[dict[str, Any]]:
    seed, index = plan.seed, hub.index
    tags = {"owner": "platform-network", "env": "prod", "hub": f"{index:04d}"}
    sub, region = hub.sub, hub.region
    pip_id = arm_id(sub, hub.net_group, "Microsoft.Network", "publicIPAddresses", f"pip-afw-{index:04d}")
    mgmt_pip_id = arm_id(sub, hub.net_group, "Microsoft.Network", "publicIPAddresses", f"pip-afw-mgmt-{index:04d}")
    fw_subnet = f"{hub.vnet_id}/subnets/{hub.firewall_subnet}"
    mgmt_subnet = f"{hub.vnet_id}/subnets/AzureFirewallManagementSubnet"
    fw_prefix = "10.0.0.0/27" if hub.kind == "firewall_subnet_too_small" else "10.0.0.0/26"

    def subnet(name: str, prefix: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "id": f"{hub.vnet_id}/subnets/{name}", "etag": _etag(seed, f"{hub.vnet_id}/{name}"),
                "type": "Microsoft.Network/virtualNetworks/subnets",
                "properties": {"provisioningState": "Succeeded", "addressPrefix": prefix, "serviceEndpoints": [],
                               "delegations": [], "privateEndpointNetworkPolicies": "Disabled",
                               "privateLinkServiceNetworkPolicies": "Enabled", **extra}}

    peerings = [{
        "name": f"peer-to-{s.vnet_name}", "id": f"{hub.vnet_id}/virtualNetworkPeerings/peer-to-{s.vnet_name}",
        "etag": _etag(seed, f"{hub.vnet_id}/peer/{s.index}"), "type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
        "properties": {"provisioningState": "Succeeded", "peeringState": s.peering_state, "peeringSyncLevel": "FullyInSync",
                       "remoteVirtualNetwork": {"id": s.vnet_id}, "allowVirtualNetworkAccess": True,
                       "allowForwardedTraffic": True, "allowGatewayTransit": True, "useRemoteGateways": False,
                       "remoteAddressSpace": {"addressPrefixes": [s.block]}}} for s in spokes]
    yield _row(hub.vnet_id, "microsoft.network/virtualnetworks", sub, hub.net_group, region, {
        "resourceGuid": guid(seed, hub.vnet_id), "addressSpace": {"addressPrefixes": [HUB_SPACE]},
        "subnets": [subnet(hub.firewall_subnet, fw_prefix, ipConfigurations=[{"id": f"{hub.firewall_id}/azureFirewallIpConfigurations/ipconfig1"}]),
                    subnet("AzureFirewallManagementSubnet", "10.0.0.64/26"),
                    subnet("GatewaySubnet", "10.0.0.128/27"),
                    subnet("AzureBastionSubnet", "10.0.0.192/26"),
                    subnet("snet-dns-inbound", "10.0.1.0/28")],
        "virtualNetworkPeerings": peerings, "enableDdosProtection": False}, tags=tags)
    for pid, address in ((pip_id, hub.firewall_public_ip), (mgmt_pip_id, f"20.51.{index >> 8}.{index & 255}")):
        yield _row(pid, "microsoft.network/publicipaddresses", sub, hub.net_group, region, {
            "resourceGuid": guid(seed, pid), "ipAddress": address, "publicIPAddressVersion": "IPv4",
            "publicIPAllocationMethod": "Static", "idleTimeoutInMinutes": 4, "ipTags": [],
            "ipConfiguration": {"id": f"{hub.firewall_id}/azureFirewallIpConfigurations/ipconfig1"}},
            tags=tags, sku={"name": "Standard", "tier": "Regional"}, zones=["1", "2", "3"])
    yield _row(hub.firewall_id, "microsoft.network/azurefirewalls", sub, hub.net_group, region, {
        "sku": {"name": "AZFW_VNet", "tier": "Premium"}, "threatIntelMode": "Alert", "additionalProperties": {},
        "ipConfigurations": [{"name": "ipconfig1", "id": f"{hub.firewall_id}/azureFirewallIpConfigurations/ipconfig1",
                              "etag": _etag(seed, hub.firewall_id), "type": "Microsoft.Network/azureFirewalls/azureFirewallIpConfigurations",
                              "properties": {"provisioningState": "Succeeded", "privateIPAddress": HUB_FIREWALL_IP,
                                             "privateIPAllocationMethod": "Dynamic", "subnet": {"id": fw_subnet},
                                             "publicIPAddress": {"id": pip_id}}}],
        "managementIpConfiguration": {"name": "mgmt", "id": f"{hub.firewall_id}/azureFirewallIpConfigurations/mgmt",
                                      "properties": {"provisioningState": "Succeeded", "subnet": {"id": mgmt_subnet},
                                                     "publicIPAddress": {"id": mgmt_pip_id}}},
        "firewallPolicy": {"id": hub.policy_id}, "networkRuleCollections": [], "applicationRuleCollections": [],
        "natRuleCollections": []}, tags=tags, zones=["1", "2", "3"])
    yield _row(hub.policy_id, "microsoft.network/firewallpolicies", sub, hub.policy_group, region, {
        "threatIntelMode": "Off" if hub.kind == "threat_intel_off" else ("Deny" if index % 3 else "Alert"),
        "sku": {"tier": "Premium"}, "threatIntelWhitelist": {"fqdns": [], "ipAddresses": []},
        "dnsSettings": {"enableProxy": True, "servers": []}, "snat": {"privateRanges": ["IANAPrivateRanges"]},
        "intrusionDetection": {"mode": "Alert", "configuration": {"signatureOverrides": [], "bypassTrafficSettings": []}},
        "basePolicy": {"id": platform.base_policy_id}, "childPolicies": [], "firewalls": [{"id": hub.firewall_id}],
        "ruleCollectionGroups": [{"id": g} for g in (hub.nat_group_id, hub.aks_group_id, hub.workload_group_id)],
        "size": "0.5MB"}, tags=tags)
    app_groups = []
    for n in range(8):
        gid = arm_id(sub, hub.policy_group, "Microsoft.Network", "ipGroups", f"ipg-app-{n}-{index:04d}")
        app_groups.append(gid)
        yield _row(gid, "microsoft.network/ipgroups", sub, hub.policy_group, region, {
            "ipAddresses": [f"10.200.{n * 16 + j}.0/24" for j in range(4)], "firewalls": [{"id": hub.firewall_id}],
            "firewallPolicies": [{"id": hub.policy_id}]}, tags=tags)
    yield _row(hub.aks_ip_group_id, "microsoft.network/ipgroups", sub, hub.policy_group, region, {
        "ipAddresses": [SPOKE_SUPERNET], "firewalls": [{"id": hub.firewall_id}],
        "firewallPolicies": [{"id": hub.policy_id}]}, tags=tags)
    yield from _hub_groups(plan, hub, app_groups)


def _filter(name: str, priority: int, action: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "priority": priority, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
            "action": {"type": action}, "rules": rules}


def _app_rule(name: str, sources: dict[str, Any], targets: list[str], tags: list[str] = (),
              protocols: tuple[tuple[str, int], ...] = (("Https", 443),)) -> dict[str, Any]:
    return {"name": name, "ruleType": "ApplicationRule", "protocols": [{"protocolType": p, "port": n} for p, n in protocols],
            **sources, "targetFqdns": list(targets), "targetUrls": [], "fqdnTags": list(tags), "terminateTLS": False,
            "webCategories": [], "destinationAddresses": [], "httpHeadersToInsert": []}


def _net_rule(name: str, sources: dict[str, Any], protocols: list[str], ports: list[str], *,
              addresses: list[str] = (), groups: list[str] = (), fqdns: list[str] = ()) -> dict[str, Any]:
    return {"name": name, "ruleType": "NetworkRule", "ipProtocols": protocols, **sources,
            "destinationAddresses": list(addresses), "destinationIpGroups": list(groups),
            "destinationFqdns": list(fqdns), "destinationPorts": ports}


ANY_ANY = ("net-temp-debug", "allow-any-any")
WILDCARD = ("app-partner-apis", "allow-all-web")


def _hub_groups(plan: Plan, hub: Hub, app_groups: list[str]) -> Iterator[dict[str, Any]]:
    aks = {"sourceAddresses": [], "sourceIpGroups": [hub.aks_ip_group_id]}
    region = hub.region
    aks_network = [
        _net_rule("apiudp", aks, ["UDP"], ["1194"], addresses=[f"AzureCloud.{region}"]),
        _net_rule("apitcp", aks, ["TCP"], ["9000"], addresses=[f"AzureCloud.{region}"]),
        _net_rule("time", aks, ["UDP"], ["123"], fqdns=["ntp.ubuntu.com"]),
    ]
    aks_app = [_app_rule("ubuntu-updates", aks, ["security.ubuntu.com", "azure.archive.ubuntu.com",
                                                 "changelogs.ubuntu.com"], protocols=(("Http", 80),))]
    if not hub.blocks_aks_egress:
        aks_app.insert(0, _app_rule("aks-fqdn-tag", aks, [], ["AzureKubernetesService"],
                                    protocols=(("Http", 80), ("Https", 443))))
    yield _row(hub.aks_group_id, "microsoft.network/firewallpolicies/rulecollectiongroups", hub.sub, hub.policy_group,
               "", {"priority": 200, "size": "0.01MB", "ruleCollections": [
                   _filter("net-aks-required", 100, "Allow", aks_network),
                   _filter("app-aks-required", 200, "Allow", aks_app)]})

    collections: list[dict[str, Any]] = []
    per = max(1, plan.workload_rules // 6)
    for c in range(3):
        rules = []
        for n in range(per):
            group = app_groups[(c * per + n) % len(app_groups)]
            source = {"sourceAddresses": [], "sourceIpGroups": [group]}
            if n % 3 == 0:
                rules.append(_net_rule(f"db-{c}-{n:03d}", source, ["TCP"], [("1433", "5432", "6379")[(n // 3) % 3]],
                                       groups=[app_groups[(n + 1) % len(app_groups)]]))
            elif n % 3 == 1:
                rules.append(_net_rule(f"svc-{c}-{n:03d}", source, ["TCP"], ["443", "8443"],
                                       addresses=[f"10.210.{c}.{n % 256}/32"]))
            else:
                rules.append(_net_rule(f"dns-{c}-{n:03d}", source, ["UDP", "TCP"], ["53"],
                                       addresses=[f"10.220.{c}.{n % 256}"]))
        collections.append(_filter(f"net-workloads-{c}", 300 + c * 10, "Allow", rules))
    collections.append(_filter("app-deny-known-bad", 250, "Deny", [
        _app_rule(f"deny-{n:03d}", {"sourceAddresses": ["*"], "sourceIpGroups": []},
                  [f"*.bad{n}.threat-feed.example.net"]) for n in range(per // 2)]))
    for c in range(2):
        rules = [_app_rule(f"partner-{c}-{n:03d}", {"sourceAddresses": [], "sourceIpGroups": [app_groups[n % len(app_groups)]]},
                           [f"api{n}.partner{c}.example.com", f"*.cdn{n}.partner{c}.example.com"])
                 for n in range(per)]
        if c == 0 and hub.kind == "wildcard_application_rule":
            rules.append(_app_rule(WILDCARD[1], {"sourceAddresses": ["10.0.0.0/8"], "sourceIpGroups": []}, ["*"],
                                   protocols=(("Http", 80), ("Https", 443))))
        collections.append(_filter(WILDCARD[0] if c == 0 else f"app-partner-apis-{c}", 400 + c * 10, "Allow", rules))
    if hub.kind == "any_any_network_rule":
        collections.append(_filter(ANY_ANY[0], 150, "Allow", [
            _net_rule(ANY_ANY[1], {"sourceAddresses": ["*"], "sourceIpGroups": []}, ["Any"], ["*"], addresses=["*"])]))
    yield _row(hub.workload_group_id, "microsoft.network/firewallpolicies/rulecollectiongroups", hub.sub,
               hub.policy_group, "", {"priority": 300, "size": "0.3MB", "ruleCollections": collections})
    nat = [{"name": f"dnat-{n:02d}", "ruleType": "NatRule", "ipProtocols": ["TCP"], "sourceAddresses": ["*"],
            "sourceIpGroups": [], "destinationAddresses": [hub.firewall_public_ip], "destinationPorts": [str(8000 + n)],
            "translatedAddress": f"10.210.9.{n}", "translatedPort": "443"} for n in range(12)]
    yield _row(hub.nat_group_id, "microsoft.network/firewallpolicies/rulecollectiongroups", hub.sub, hub.policy_group,
               "", {"priority": 100, "size": "0.01MB", "ruleCollections": [
                   {"name": "dnat-published", "priority": 100, "ruleCollectionType": "FirewallPolicyNatRuleCollection",
                    "action": {"type": "DNAT"}, "rules": nat}]})


def _hub_truth(hub: Hub) -> set[Finding]:
    """What a hub's misconfiguration must produce (AKS003 is per cluster: see `_spoke_truth`)."""
    if hub.kind == "any_any_network_rule":
        locus = f"ruleCollections/{ANY_ANY[0]}/rules/{ANY_ANY[1]}"
        return {("FW003", hub.workload_group_id.lower(), locus), ("FW005", hub.workload_group_id.lower(), locus)}
    if hub.kind == "wildcard_application_rule":
        return {("FW004", hub.workload_group_id.lower(), f"ruleCollections/{WILDCARD[0]}/rules/{WILDCARD[1]}")}
    if hub.kind == "threat_intel_off":
        return {("FW006", hub.policy_id.lower(), "")}
    if hub.kind == "firewall_subnet_too_small":
        return {("FW002", f"{hub.vnet_id}/subnets/{hub.firewall_subnet}".lower(), "")}
    if hub.kind == "firewall_wrong_subnet":
        return {("FW001", hub.firewall_id.lower(), "")}
    return set()


# --- spokes -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spoke:
    index: int  # global
    hub: Hub
    sub: str
    kind: str
    block_base: int  # the spoke VNet's /20, as an integer

    @property
    def vnet_name(self) -> str:
        return f"vnet-spoke-{self.index:06d}"

    @property
    def net_group(self) -> str:
        return f"rg-lz-{self.index:06d}-net"

    @property
    def aks_group(self) -> str:
        return f"rg-lz-{self.index:06d}-aks"

    @property
    def vnet_id(self) -> str:
        return arm_id(self.sub, self.net_group, "Microsoft.Network", "virtualNetworks", self.vnet_name)

    @property
    def block(self) -> str:
        return _net(self.block_base, 20)

    @property
    def peering_state(self) -> str:
        return "Disconnected" if self.kind == "peering_disconnected" else "Connected"


def _spoke(plan: Plan, index: int, hubs: list[Hub]) -> Spoke:
    rng = random.Random(f"{plan.seed}:spoke:{index}")
    kind = rng.choice(SPOKE_KINDS) if rng.random() < plan.misconfig_rate else ""
    local = index % plan.spokes_per_hub
    base = int(ipaddress.IPv4Address("10.0.0.0")) + ((16 + local) << 12)  # /20 blocks after the hub's
    sub = guid(plan.seed, f"subscription/lz-{index // plan.clusters_per_subscription}")
    return Spoke(index, hubs[index // plan.spokes_per_hub], sub, kind, base)


def _spoke_rows(plan: Plan, spoke: Spoke) -> Iterator[dict[str, Any]]:
    seed, hub, k = plan.seed, spoke.hub, spoke.index
    region, sub = hub.region, spoke.sub
    tags = {"env": ("prod", "staging", "dev")[k % 3], "app": f"app-{k:06d}", "costCenter": f"CC-{1000 + k % 900}"}
    rt_id = arm_id(sub, spoke.net_group, "Microsoft.Network", "routeTables", f"rt-spoke-{k:06d}-egress")
    nsg_id = arm_id(sub, spoke.net_group, "Microsoft.Network", "networkSecurityGroups", f"nsg-snet-pe-{k:06d}")
    base = spoke.block_base
    uses_pod_subnet = k % 2 == 0
    nodes = f"{spoke.vnet_id}/subnets/snet-aks-nodes"
    pods = f"{spoke.vnet_id}/subnets/snet-aks-pods"
    aks_subnets = [nodes, pods] if uses_pod_subnet else [nodes]

    def subnet(name: str, prefix: str, table: bool, **extra: Any) -> dict[str, Any]:
        props: dict[str, Any] = {"provisioningState": "Succeeded", "addressPrefix": prefix, "serviceEndpoints": [],
                                 "delegations": [], "privateEndpointNetworkPolicies": "Disabled",
                                 "privateLinkServiceNetworkPolicies": "Enabled", "defaultOutboundAccess": False, **extra}
        if table:
            props["routeTable"] = {"id": rt_id}
        return {"name": name, "id": f"{spoke.vnet_id}/subnets/{name}", "etag": _etag(seed, f"{spoke.vnet_id}/{name}"),
                "type": "Microsoft.Network/virtualNetworks/subnets", "properties": props}

    subnets = [subnet("snet-aks-nodes", _net(base, 22), spoke.kind != "no_route_table"),
               subnet("snet-pe", _net(base + 1024, 24), False, networkSecurityGroup={"id": nsg_id}),
               subnet("snet-agw", _net(base + 1280, 24), False)]
    if uses_pod_subnet:
        subnets.append(subnet("snet-aks-pods", _net(base + 2048, 21), True))
    peering = f"{spoke.vnet_id}/virtualNetworkPeerings/peer-to-hub"
    yield _row(spoke.vnet_id, "microsoft.network/virtualnetworks", sub, spoke.net_group, region, {
        "resourceGuid": guid(seed, spoke.vnet_id), "addressSpace": {"addressPrefixes": [spoke.block]},
        "subnets": subnets, "enableDdosProtection": False,
        "virtualNetworkPeerings": [{
            "name": "peer-to-hub", "id": peering, "etag": _etag(seed, peering),
            "type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
            "properties": {"provisioningState": "Succeeded", "peeringState": spoke.peering_state,
                           "peeringSyncLevel": "FullyInSync", "remoteVirtualNetwork": {"id": hub.vnet_id},
                           "allowVirtualNetworkAccess": True, "allowForwardedTraffic": True,
                           "allowGatewayTransit": False, "useRemoteGateways": False,
                           "remoteAddressSpace": {"addressPrefixes": [HUB_SPACE]}}}]}, tags=tags)

    def route(name: str, prefix: str, hop: str, ip: str = "") -> dict[str, Any]:
        props: dict[str, Any] = {"provisioningState": "Succeeded", "addressPrefix": prefix, "nextHopType": hop,
                                 "hasBgpOverride": False}
        if ip:
            props["nextHopIpAddress"] = ip
        return {"name": name, "id": f"{rt_id}/routes/{name}", "etag": _etag(seed, f"{rt_id}/{name}"),
                "type": "Microsoft.Network/routeTables/routes", "properties": props}

    default_hop = {"internet_default_route": ("Internet", ""), "wrong_next_hop_ip": ("VirtualAppliance", "10.0.0.100"),
                   "firewall_public_ip_hop": ("VirtualAppliance", hub.firewall_public_ip)}.get(
        spoke.kind, ("VirtualAppliance", HUB_FIREWALL_IP))
    routes = [route("to-hub-private", "10.0.0.0/8", "VirtualAppliance", HUB_FIREWALL_IP),
              route("to-onprem", "192.168.0.0/16", "VirtualNetworkGateway")]
    if spoke.kind != "missing_default_route":
        routes.insert(0, route("default-to-firewall", "0.0.0.0/0", *default_hop))
    if spoke.kind == "internet_hole_route":
        routes.append(route("storage-direct", "52.239.0.0/16", "Internet"))
    yield _row(rt_id, "microsoft.network/routetables", sub, spoke.net_group, region, {
        "resourceGuid": guid(seed, rt_id), "disableBgpRoutePropagation": True, "routes": routes,
        "subnets": [{"id": s} for s in aks_subnets if not (s == nodes and spoke.kind == "no_route_table")]}, tags=tags)

    cluster_name = f"aks-{k:06d}"
    cluster_id = (f"/subscriptions/{sub}/resourcegroups/{spoke.aks_group}/providers/Microsoft.ContainerService/"
                  f"managedClusters/{cluster_name}")
    node_group = f"MC_{spoke.aks_group}_{cluster_name}_{region}"
    service_cidr, dns_ip = SERVICE_CIDR, DNS_SERVICE_IP
    if spoke.kind == "service_cidr_overlap":
        service_cidr = _net(base + 3840, 24)
        dns_ip = str(ipaddress.IPv4Address(base + 3840 + 10))
    elif spoke.kind == "dns_ip_outside_service":
        dns_ip = "172.17.0.10"

    def pool(name: str, mode: str, count: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": name, "count": count, "vmSize": "Standard_D4ds_v5", "osDiskSizeGB": 128, "osDiskType": "Ephemeral",
            "kubeletDiskType": "OS", "maxPods": 110, "type": "VirtualMachineScaleSets",
            "availabilityZones": ["1", "2", "3"], "enableAutoScaling": mode == "User", "scaleDownMode": "Delete",
            "powerState": {"code": "Running"}, "orchestratorVersion": "1.31.5", "currentOrchestratorVersion": "1.31.5",
            "enableNodePublicIP": spoke.kind == "node_public_ip" and name == "user1", "mode": mode,
            "osType": "Linux", "osSKU": "AzureLinux", "nodeImageVersion": "AKSAzureLinux-V2gen2-202503.17.0",
            "upgradeSettings": {"maxSurge": "33%"}, "enableFIPS": False, "vnetSubnetID": nodes}
        if uses_pod_subnet:
            item["podSubnetID"] = pods
        return item

    network_profile: dict[str, Any] = {
        "networkPlugin": "azure", "networkPolicy": "cilium", "networkDataplane": "cilium",
        "serviceCidr": service_cidr, "serviceCidrs": [service_cidr], "dnsServiceIP": dns_ip,
        "outboundType": "loadBalancer" if spoke.kind == "public_outbound_type" else "userDefinedRouting",
        "loadBalancerSku": "standard", "ipFamilies": ["IPv4"]}
    if not uses_pod_subnet:
        network_profile.update(networkPluginMode="overlay", podCidr=OVERLAY_POD_CIDR, podCidrs=[OVERLAY_POD_CIDR])
    private = k % 3 == 0
    fqdn = f"{cluster_name}-{short_hash(seed, cluster_id)}.hcp.{region}.azmk8s.io"
    yield {**_row(cluster_id, "microsoft.containerservice/managedclusters", sub, spoke.aks_group, region, {
        "powerState": {"code": "Running"}, "kubernetesVersion": "1.31.5", "currentKubernetesVersion": "1.31.5",
        "dnsPrefix": cluster_name, "fqdn": fqdn, "azurePortalFQDN": fqdn.replace(".hcp.", ".portal.hcp."),
        "agentPoolProfiles": [pool("system", "System", 3), pool("user1", "User", 4), pool("user2", "User", 2)],
        "nodeResourceGroup": node_group, "enableRBAC": True, "supportPlan": "KubernetesOfficial",
        "networkProfile": network_profile,
        "apiServerAccessProfile": {"enablePrivateCluster": private, "privateDNSZone": "system" if private else None},
        "identityProfile": {"kubeletidentity": {"clientId": guid(seed, f"kubelet/{k}")}},
        "oidcIssuerProfile": {"enabled": True}, "securityProfile": {"workloadIdentity": {"enabled": True}},
        "addonProfiles": {"omsagent": {"enabled": k % 4 == 0, "config": {}}}},
        tags=tags, sku={"name": "Base", "tier": "Standard"}), "identity": {"type": "SystemAssigned"}}

    pip_id = arm_id(sub, spoke.net_group, "Microsoft.Network", "publicIPAddresses", f"pip-agw-{k:06d}")
    lb_id = arm_id(sub, node_group, "Microsoft.Network", "loadBalancers", "kubernetes-internal")
    frontends = [{"name": "internal-ingress", "id": f"{lb_id}/frontendIPConfigurations/internal-ingress",
                  "properties": {"privateIPAddress": str(ipaddress.IPv4Address(base + 1000)),
                                 "privateIPAllocationMethod": "Static", "subnet": {"id": nodes},
                                 "loadBalancingRules": [{"id": f"{lb_id}/loadBalancingRules/ingress-443"}]}}]
    if spoke.kind == "public_load_balancer":
        frontends.append({"name": "public-web", "id": f"{lb_id}/frontendIPConfigurations/public-web",
                          "properties": {"publicIPAddress": {"id": pip_id},
                                         "loadBalancingRules": [{"id": f"{lb_id}/loadBalancingRules/web-80"}]}})
    yield _row(lb_id, "microsoft.network/loadbalancers", sub, node_group, region, {
        "resourceGuid": guid(seed, lb_id), "frontendIPConfigurations": frontends,
        "backendAddressPools": [{"name": "kubernetes", "id": f"{lb_id}/backendAddressPools/kubernetes"}],
        "loadBalancingRules": [{"name": "ingress-443", "id": f"{lb_id}/loadBalancingRules/ingress-443"}],
        "probes": [], "inboundNatRules": [], "outboundRules": []},
        tags={"aks-managed-cluster-name": cluster_name}, sku={"name": "Standard", "tier": "Regional"})
    yield _row(pip_id, "microsoft.network/publicipaddresses", sub, spoke.net_group, region, {
        "resourceGuid": guid(seed, pip_id), "ipAddress": f"51.{100 + (k >> 16)}.{(k >> 8) & 255}.{k & 255}",
        "publicIPAddressVersion": "IPv4", "publicIPAllocationMethod": "Static", "idleTimeoutInMinutes": 4, "ipTags": []},
        tags=tags, sku={"name": "Standard", "tier": "Regional"}, zones=["1", "2", "3"])
    yield _row(nsg_id, "microsoft.network/networksecuritygroups", sub, spoke.net_group, region, {
        "resourceGuid": guid(seed, nsg_id), "securityRules": [{
            "name": "deny-internet-in", "id": f"{nsg_id}/securityRules/deny-internet-in",
            "properties": {"protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*",
                           "sourceAddressPrefix": "Internet", "destinationAddressPrefix": "*", "access": "Deny",
                           "priority": 4000, "direction": "Inbound"}}],
        "subnets": [{"id": f"{spoke.vnet_id}/subnets/snet-pe"}]}, tags=tags)
    for n in range(4):
        nic = arm_id(sub, spoke.net_group, "Microsoft.Network", "networkInterfaces", f"pe-{k:06d}-{n}.nic")
        yield _row(nic, "microsoft.network/networkinterfaces", sub, spoke.net_group, region, {
            "resourceGuid": guid(seed, nic), "macAddress": "", "enableAcceleratedNetworking": False,
            "ipConfigurations": [{"name": "privateEndpointIpConfig", "id": f"{nic}/ipConfigurations/privateEndpointIpConfig",
                                  "properties": {"privateIPAddress": str(ipaddress.IPv4Address(base + 1028 + n)),
                                                 "privateIPAllocationMethod": "Dynamic", "primary": True,
                                                 "subnet": {"id": f"{spoke.vnet_id}/subnets/snet-pe"}}}],
            "nicType": "Standard", "privateEndpoint": {"id": f"{nic}-pe"}}, tags=tags)


def _spoke_truth(spoke: Spoke) -> set[Finding]:
    """The findings one spoke must produce, given its own misconfiguration and its hub's."""
    rt = arm_id(spoke.sub, spoke.net_group, "Microsoft.Network", "routeTables", f"rt-spoke-{spoke.index:06d}-egress")
    cluster = (f"/subscriptions/{spoke.sub}/resourcegroups/{spoke.aks_group}/providers/Microsoft.ContainerService/"
               f"managedClusters/aks-{spoke.index:06d}")
    node_group = f"MC_{spoke.aks_group}_aks-{spoke.index:06d}_{spoke.hub.region}"
    by_kind = {
        "no_route_table": ("UDR001", f"{spoke.vnet_id}/subnets/snet-aks-nodes", ""),
        "missing_default_route": ("UDR002", rt, ""),
        "internet_default_route": ("UDR003", f"{rt}/routes/default-to-firewall", ""),
        "wrong_next_hop_ip": ("UDR004", f"{rt}/routes/default-to-firewall", ""),
        "firewall_public_ip_hop": ("UDR005", f"{rt}/routes/default-to-firewall", ""),
        "internet_hole_route": ("UDR006", f"{rt}/routes/storage-direct", ""),
        "peering_disconnected": ("UDR007", f"{spoke.vnet_id}/virtualNetworkPeerings/peer-to-hub", ""),
        "public_outbound_type": ("AKS001", cluster, ""),
        "node_public_ip": ("AKS002", cluster, "agentPools/user1"),
        "service_cidr_overlap": ("AKS004", cluster, ""),
        "dns_ip_outside_service": ("AKS005", cluster, ""),
        "public_load_balancer": ("AKS006", arm_id(spoke.sub, node_group, "Microsoft.Network", "loadBalancers",
                                                  "kubernetes-internal"), ""),
    }
    found: set[Finding] = set()
    if spoke.kind:
        check, resource, locus = by_kind[spoke.kind]
        found.add((check, resource.lower(), locus))
    if spoke.hub.blocks_aks_egress and spoke.kind not in UNJUDGED:
        found.add(("AKS003", cluster.lower(), ""))
    return found


# --- the whole estate ---------------------------------------------------------------------------------

def generate(plan: Plan, manifest: Manifest | None = None) -> Iterator[dict[str, Any]]:
    """Every row, in a fixed order; fills `manifest` (ground truth, tenant layout) as it goes."""
    manifest = manifest if manifest is not None else Manifest(plan)
    platform = _platform(plan.seed)
    hubs = [_hub(plan, h) for h in range(plan.hubs)]
    connectivity = [platform.sub] + [h.sub for h in hubs]
    manifest.management_groups["mg-connectivity"] = connectivity
    manifest.subscription_names[platform.sub] = "Platform Security"
    yield from _base_rows(plan, platform)
    for hub in hubs:
        manifest.subscription_names[hub.sub] = f"Connectivity Hub {hub.index:04d} ({hub.region})"
        spokes = [_spoke(plan, k, hubs) for k in range(hub.index * plan.spokes_per_hub,
                                                       min(plan.clusters, (hub.index + 1) * plan.spokes_per_hub))]
        if hub.kind:
            manifest.hub_kinds[hub.kind] = manifest.hub_kinds.get(hub.kind, 0) + 1
        manifest.findings |= _hub_truth(hub)
        yield from _hub_rows(plan, hub, platform, spokes)
        landing = manifest.management_groups.setdefault(f"mg-landing-zones-{hub.index:04d}", [])
        for spoke in spokes:
            if spoke.sub not in manifest.subscription_names:
                manifest.subscription_names[spoke.sub] = f"Landing Zone {spoke.index // plan.clusters_per_subscription:05d}"
                landing.append(spoke.sub)
            if spoke.kind:
                manifest.spoke_kinds[spoke.kind] = manifest.spoke_kinds.get(spoke.kind, 0) + 1
            manifest.findings |= _spoke_truth(spoke)
            yield from _spoke_rows(plan, spoke)


def write_estate(plan: Plan, path: str | Path) -> Manifest:
    """Stream the rows to `path` (a JSON array, one row per line) and the ground truth beside it."""
    manifest = Manifest(plan)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for count, row in enumerate(generate(plan, manifest)):
            out.write(",\n" if count else "\n")
            out.write(json.dumps(row, separators=(",", ":")))
            manifest.rows = count + 1
            manifest.type_counts[row["type"]] = manifest.type_counts.get(row["type"], 0) + 1
        out.write("\n]\n")
    manifest.bytes = path.stat().st_size
    expected_path(path).write_text(json.dumps(manifest.document(), indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/estate.py", description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--clusters", type=int, help="number of AKS clusters (one spoke each)")
    size.add_argument("--rows", type=int, help="approximate number of rows instead")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--misconfig-rate", type=float, default=0.1, help="share of spokes with an injected misconfiguration")
    parser.add_argument("--aks-egress-blocked", action="store_true",
                        help="no hub firewall allows AKS's required egress (every cluster needs its AKS lookup)")
    parser.add_argument("-o", "--output", required=True, help="estate file; the ground truth goes beside it (*.expected.json)")
    args = parser.parse_args(argv)
    clusters = args.clusters if args.clusters is not None else clusters_for_rows(args.rows)
    manifest = write_estate(Plan(clusters, seed=args.seed, misconfig_rate=args.misconfig_rate,
                                 aks_egress_blocked=args.aks_egress_blocked), args.output)
    print(f"{manifest.rows} rows, {clusters} clusters, {manifest.plan.hubs} hubs, "
          f"{len(manifest.subscription_names)} subscriptions, {len(manifest.findings)} expected findings "
          f"-> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
