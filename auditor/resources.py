"""Typed, immutable views of the ARG resource types aksaudit reasons about.

Each parser takes one ARG row (ARM body as Resource Graph returns it) and raises RowError naming
the key when the row's shape is wrong. Networks are kept as `ipaddress` objects so all CIDR math
uses the standard library.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from .firewall_rules import FirewallRule, classic_rules, policy_rules
from .rows import RowError, arr, flag, id_key, last_segment, obj, parent_id, ref_id, strings, text

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

T_CLUSTER = "microsoft.containerservice/managedclusters"
T_VNET = "microsoft.network/virtualnetworks"
T_ROUTE_TABLE = "microsoft.network/routetables"
T_FIREWALL = "microsoft.network/azurefirewalls"
T_POLICY = "microsoft.network/firewallpolicies"
T_RCG = "microsoft.network/firewallpolicies/rulecollectiongroups"
T_IP_GROUP = "microsoft.network/ipgroups"
T_PUBLIC_IP = "microsoft.network/publicipaddresses"
T_LOAD_BALANCER = "microsoft.network/loadbalancers"
T_VIRTUAL_HUB = "microsoft.network/virtualhubs"
# Not Resource Graph types: the live collector reads them through the network and AKS APIs and
# carries them in snapshots as extra rows with ARM child ids (see the parsers below).
T_ROUTING_INTENT = "microsoft.network/virtualhubs/routingintent"
T_HUB_CONNECTION = "microsoft.network/virtualhubs/hubvirtualnetworkconnections"
T_HUB_ROUTE_TABLE = "microsoft.network/virtualhubs/hubroutetables"
T_OUTBOUND_ENDPOINTS = "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints"

SPECIAL_SUBNETS = frozenset(
    name.lower()
    for name in ("GatewaySubnet", "AzureFirewallSubnet", "AzureFirewallManagementSubnet",
                 "RouteServerSubnet", "AzureBastionSubnet")
)


# Dotted-quad IPv4 with an optional decimal prefix: by far the most common prefix spelling.
_DOTTED_V4 = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?:/([0-9]{1,2}))?")


@lru_cache(maxsize=65536)
def parse_network(value: str) -> IPNetwork | None:
    """A CIDR or bare address as a network; None for service tags and other non-CIDR strings.

    Every subnet, route, peering and rule address goes through here, so plain IPv4 prefixes take
    a shortcut (integers into `IPv4Network`, skipping its string parser) that accepts exactly
    what the parser accepts; anything else, and everything it would reject, takes the full path.
    Cached: the same prefixes (0.0.0.0/0, 10.0.0.0/8, a hub's space) recur throughout an estate.
    """
    text = value.strip()
    match = _DOTTED_V4.fullmatch(text)
    if match:
        *octets, prefix = match.groups()
        if all(o == "0" or (o[0] != "0" and int(o) <= 255) for o in octets) and (prefix is None or int(prefix) <= 32):
            address = (int(octets[0]) << 24) | (int(octets[1]) << 16) | (int(octets[2]) << 8) | int(octets[3])
            return ipaddress.IPv4Network((address, 32 if prefix is None else int(prefix)), strict=False)
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def parse_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A single IP address, None when the text is not one."""
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def parse_networks(values: tuple[str, ...], key: str) -> tuple[IPNetwork, ...]:
    """Prefixes that must be CIDRs (address spaces, subnet prefixes): a bad one rejects the row."""
    networks = []
    for value in values:
        network = parse_network(value)
        if network is None:
            raise RowError(f"'{key}' holds '{value}', which is not a CIDR prefix")
        networks.append(network)
    return tuple(networks)


@dataclass(frozen=True)
class Header:
    """The columns every ARG row has."""

    id: str
    name: str
    type: str
    location: str
    resource_group: str
    subscription_id: str
    tags: Mapping[str, Any]

    @property
    def key(self) -> str:
        return id_key(self.id)


def parse_header(row: Mapping[str, Any]) -> Header:
    resource_id = text(row.get("id"), "id")
    if not resource_id.startswith("/"):
        raise RowError("'id' is missing or is not an ARM id")
    return Header(
        id=resource_id,
        name=text(row.get("name"), "name") or last_segment(resource_id),
        type=text(row.get("type"), "type").lower(),
        location=text(row.get("location"), "location"),
        resource_group=text(row.get("resourceGroup"), "resourceGroup"),
        subscription_id=text(row.get("subscriptionId"), "subscriptionId"),
        tags=dict(obj(row.get("tags"), "tags")),
    )


def properties(row: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj(row.get("properties"), "properties")


# --- virtual networks -------------------------------------------------------------------------

@dataclass(frozen=True)
class Subnet:
    id: str
    name: str
    vnet_id: str
    prefixes: tuple[IPNetwork, ...]
    route_table_id: str
    nat_gateway_id: str

    @property
    def is_special(self) -> bool:
        """Platform subnets (gateway, firewall, bastion ...) are never AKS subnets."""
        return self.name.lower() in SPECIAL_SUBNETS


@dataclass(frozen=True)
class Peering:
    id: str
    name: str
    remote_vnet_id: str
    state: str
    remote_prefixes: tuple[IPNetwork, ...]
    allow_forwarded_traffic: bool
    # Subnet peering: `peerCompleteVnets: false` links only `localSubnetNames` of this VNet with
    # `remoteSubnetNames` of the remote one. Absent, the network API's default (true) applies.
    complete: bool = True
    local_subnet_names: tuple[str, ...] = ()
    remote_subnet_names: tuple[str, ...] = ()

    @property
    def connected(self) -> bool:
        return self.state.lower() == "connected"

    def links(self, local_subnet: str, remote_subnet: str) -> bool:
        """Whether this peering carries traffic from `local_subnet` (of this VNet) to `remote_subnet`."""
        if self.complete:
            return True
        local = {n.lower() for n in self.local_subnet_names}
        remote = {n.lower() for n in self.remote_subnet_names}
        return local_subnet.lower() in local and remote_subnet.lower() in remote


@dataclass(frozen=True)
class VirtualNetwork:
    header: Header
    address_prefixes: tuple[IPNetwork, ...]
    subnets: tuple[Subnet, ...]
    peerings: tuple[Peering, ...]

    @property
    def id(self) -> str:
        return self.header.id


def _subnet(vnet_id: str, index: int, raw: Any) -> Subnet:
    where = f"properties.subnets[{index}]"
    raw = obj(raw, where)
    name = text(raw.get("name"), f"{where}.name")
    props = obj(raw.get("properties"), f"{where}.properties")
    prefixes = strings(props.get("addressPrefixes"), f"{where}.properties.addressPrefixes")
    single = text(props.get("addressPrefix"), f"{where}.properties.addressPrefix")
    if single:
        prefixes = (single, *prefixes)
    return Subnet(
        id=text(raw.get("id"), f"{where}.id") or f"{vnet_id}/subnets/{name}",
        name=name,
        vnet_id=vnet_id,
        prefixes=parse_networks(prefixes, f"{where}.properties.addressPrefix"),
        route_table_id=ref_id(props.get("routeTable"), f"{where}.properties.routeTable"),
        nat_gateway_id=ref_id(props.get("natGateway"), f"{where}.properties.natGateway"),
    )


def _peering(vnet_id: str, index: int, raw: Any) -> Peering:
    where = f"properties.virtualNetworkPeerings[{index}]"
    raw = obj(raw, where)
    name = text(raw.get("name"), f"{where}.name")
    props = obj(raw.get("properties"), f"{where}.properties")
    remote = obj(props.get("remoteAddressSpace"), f"{where}.properties.remoteAddressSpace")
    return Peering(
        id=text(raw.get("id"), f"{where}.id") or f"{vnet_id}/virtualNetworkPeerings/{name}",
        name=name,
        remote_vnet_id=ref_id(props.get("remoteVirtualNetwork"), f"{where}.properties.remoteVirtualNetwork"),
        state=text(props.get("peeringState"), f"{where}.properties.peeringState"),
        remote_prefixes=parse_networks(
            strings(remote.get("addressPrefixes"), f"{where}.properties.remoteAddressSpace.addressPrefixes"),
            f"{where}.properties.remoteAddressSpace.addressPrefixes"),
        allow_forwarded_traffic=flag(props.get("allowForwardedTraffic"), f"{where}.properties.allowForwardedTraffic"),
        complete=props.get("peerCompleteVnets") is None
                 or flag(props.get("peerCompleteVnets"), f"{where}.properties.peerCompleteVnets"),
        local_subnet_names=strings(props.get("localSubnetNames"), f"{where}.properties.localSubnetNames"),
        remote_subnet_names=strings(props.get("remoteSubnetNames"), f"{where}.properties.remoteSubnetNames"),
    )


def parse_vnet(row: Mapping[str, Any]) -> VirtualNetwork:
    header = parse_header(row)
    props = properties(row)
    space = obj(props.get("addressSpace"), "properties.addressSpace")
    return VirtualNetwork(
        header=header,
        address_prefixes=parse_networks(strings(space.get("addressPrefixes"), "properties.addressSpace.addressPrefixes"),
                                        "properties.addressSpace.addressPrefixes"),
        subnets=tuple(_subnet(header.id, i, s) for i, s in enumerate(arr(props.get("subnets"), "properties.subnets"))),
        peerings=tuple(_peering(header.id, i, p) for i, p in
                       enumerate(arr(props.get("virtualNetworkPeerings"), "properties.virtualNetworkPeerings"))),
    )


# --- route tables -----------------------------------------------------------------------------

# `RouteNextHopType` of the network API (Microsoft.Network/routeTables/routes).
NEXT_HOP_TYPES = frozenset(t.lower() for t in (
    "VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None"))
APPLIANCE_HOP_TYPES = frozenset({"virtualappliance", "virtualapplianceecmp"})
# A service tag's name: letters and digits, optionally '.<region or service>' parts
# ('AzureCloud', 'Storage.WestEurope', 'AzureFrontDoor.Backend'). Azure refuses any other prefix
# that is not a CIDR when the route is created, so a prefix of another shape is unreadable data.
_SERVICE_TAG = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*")


@dataclass(frozen=True)
class Route:
    id: str
    name: str
    address_prefix: str
    network: IPNetwork | None  # None for service-tag prefixes such as 'AzureCloud' (and unreadable ones)
    next_hop_type: str
    next_hop_ip: str

    @property
    def to_appliance(self) -> bool:
        return self.next_hop_type.lower() in APPLIANCE_HOP_TYPES

    @property
    def is_service_tag(self) -> bool:
        """The prefix names a service tag: the route wins that tag's (unlisted) addresses."""
        return self.network is None and _SERVICE_TAG.fullmatch(self.address_prefix.strip()) is not None

    @property
    def defect(self) -> str:
        """Why where this route sends traffic cannot be known ('' when it can).

        A route is only half a datum without its prefix, its next hop type, or (for an appliance)
        the IP it forwards to: treating such a route as absent could turn a failure into a pass.
        """
        where = f"route {self.id}"
        if not self.address_prefix.strip():
            return f"{where} has no addressPrefix, so which destinations it decides is unknown"
        if self.network is None and not self.is_service_tag:
            return (f"{where} has addressPrefix '{self.address_prefix}', which is neither a CIDR prefix nor a "
                    f"service tag, so which destinations it decides is unknown")
        hop_type = self.next_hop_type.strip().lower()
        if not hop_type:
            return f"{where} has no nextHopType, so where its traffic goes is unknown"
        if hop_type not in NEXT_HOP_TYPES and hop_type not in APPLIANCE_HOP_TYPES:
            return f"{where} has nextHopType '{self.next_hop_type}', which is not a known next hop type"
        if self.to_appliance and parse_address(self.next_hop_ip) is None:
            shown = f"'{self.next_hop_ip}', which is not an IP address" if self.next_hop_ip else "none"
            return f"{where} sends traffic to a virtual appliance, but its nextHopIpAddress is {shown}"
        return ""


@dataclass(frozen=True)
class RouteTable:
    header: Header
    routes: tuple[Route, ...]
    disable_bgp_route_propagation: bool

    @property
    def id(self) -> str:
        return self.header.id


def _route(table_id: str, index: int, raw: Any) -> Route:
    where = f"properties.routes[{index}]"
    raw = obj(raw, where)
    name = text(raw.get("name"), f"{where}.name")
    props = obj(raw.get("properties"), f"{where}.properties")
    prefix = text(props.get("addressPrefix"), f"{where}.properties.addressPrefix")
    return Route(
        id=text(raw.get("id"), f"{where}.id") or f"{table_id}/routes/{name}",
        name=name,
        address_prefix=prefix,
        network=parse_network(prefix),
        next_hop_type=text(props.get("nextHopType"), f"{where}.properties.nextHopType"),
        next_hop_ip=text(props.get("nextHopIpAddress"), f"{where}.properties.nextHopIpAddress").strip(),
    )


def parse_route_table(row: Mapping[str, Any]) -> RouteTable:
    header = parse_header(row)
    props = properties(row)
    return RouteTable(
        header=header,
        routes=tuple(_route(header.id, i, r) for i, r in enumerate(arr(props.get("routes"), "properties.routes"))),
        disable_bgp_route_propagation=flag(props.get("disableBgpRoutePropagation"),
                                           "properties.disableBgpRoutePropagation"),
    )


# --- firewalls, policies, rule collection groups, IP groups, public IPs ------------------------

@dataclass(frozen=True)
class FirewallIpConfig:
    name: str
    private_ip: str
    subnet_id: str
    public_ip_id: str
    management: bool  # the managementIpConfiguration (forced-tunnelling / management NIC)


@dataclass(frozen=True)
class Firewall:
    header: Header
    sku_name: str
    ip_configs: tuple[FirewallIpConfig, ...]
    hub_private_ip: str
    hub_public_ips: tuple[str, ...]
    virtual_hub_id: str
    policy_id: str
    threat_intel_mode: str
    classic_rules: tuple[FirewallRule, ...]

    @property
    def id(self) -> str:
        return self.header.id

    @property
    def private_ips(self) -> tuple[str, ...]:
        ips = [c.private_ip for c in self.ip_configs if c.private_ip and not c.management]
        if self.hub_private_ip:
            ips.append(self.hub_private_ip)
        return tuple(ips)


def _ip_config(index: int, raw: Any, where: str, management: bool) -> FirewallIpConfig:
    raw = obj(raw, where)
    props = obj(raw.get("properties"), f"{where}.properties")
    return FirewallIpConfig(
        name=text(raw.get("name"), f"{where}.name") or str(index),
        private_ip=text(props.get("privateIPAddress"), f"{where}.properties.privateIPAddress").strip(),
        subnet_id=ref_id(props.get("subnet"), f"{where}.properties.subnet"),
        public_ip_id=ref_id(props.get("publicIPAddress"), f"{where}.properties.publicIPAddress"),
        management=management,
    )


def parse_firewall(row: Mapping[str, Any]) -> Firewall:
    header = parse_header(row)
    props = properties(row)
    configs = [_ip_config(i, c, f"properties.ipConfigurations[{i}]", False)
               for i, c in enumerate(arr(props.get("ipConfigurations"), "properties.ipConfigurations"))]
    if props.get("managementIpConfiguration") is not None:
        configs.append(_ip_config(0, props.get("managementIpConfiguration"), "properties.managementIpConfiguration", True))
    hub = obj(props.get("hubIPAddresses"), "properties.hubIPAddresses")
    public = obj(hub.get("publicIPs"), "properties.hubIPAddresses.publicIPs")
    hub_public = tuple(
        text(obj(a, f"properties.hubIPAddresses.publicIPs.addresses[{i}]").get("address"),
             f"properties.hubIPAddresses.publicIPs.addresses[{i}].address")
        for i, a in enumerate(arr(public.get("addresses"), "properties.hubIPAddresses.publicIPs.addresses")))
    sku = obj(props.get("sku"), "properties.sku")
    return Firewall(
        header=header,
        sku_name=text(sku.get("name"), "properties.sku.name"),
        ip_configs=tuple(configs),
        hub_private_ip=text(hub.get("privateIPAddress"), "properties.hubIPAddresses.privateIPAddress").strip(),
        hub_public_ips=tuple(ip for ip in hub_public if ip),
        virtual_hub_id=ref_id(props.get("virtualHub"), "properties.virtualHub"),
        policy_id=ref_id(props.get("firewallPolicy"), "properties.firewallPolicy"),
        threat_intel_mode=text(props.get("threatIntelMode"), "properties.threatIntelMode"),
        classic_rules=classic_rules(header.id, props),
    )


@dataclass(frozen=True)
class FirewallPolicy:
    header: Header
    base_policy_id: str
    rule_collection_group_ids: tuple[str, ...]
    threat_intel_mode: str

    @property
    def id(self) -> str:
        return self.header.id


def parse_policy(row: Mapping[str, Any]) -> FirewallPolicy:
    header = parse_header(row)
    props = properties(row)
    groups = arr(props.get("ruleCollectionGroups"), "properties.ruleCollectionGroups")
    return FirewallPolicy(
        header=header,
        base_policy_id=ref_id(props.get("basePolicy"), "properties.basePolicy"),
        rule_collection_group_ids=tuple(ref_id(g, f"properties.ruleCollectionGroups[{i}]")
                                        for i, g in enumerate(groups)),
        threat_intel_mode=text(props.get("threatIntelMode"), "properties.threatIntelMode"),
    )


@dataclass(frozen=True)
class RuleCollectionGroup:
    header: Header
    policy_id: str
    priority: int
    rules: tuple[FirewallRule, ...]
    rules_readable: bool  # False when the row came without properties.ruleCollections

    @property
    def id(self) -> str:
        return self.header.id


def parse_rule_collection_group(row: Mapping[str, Any]) -> RuleCollectionGroup:
    header = parse_header(row)
    props = properties(row)
    priority = props.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise RowError(f"'properties.priority' is {type(priority).__name__}, expected an integer")
    parts = header.id.rstrip("/").split("/")
    return RuleCollectionGroup(
        header=header,
        policy_id="/".join(parts[:-2]),
        priority=priority,
        rules=policy_rules(header.id, props),
        rules_readable="ruleCollections" in props,
    )


@dataclass(frozen=True)
class IpGroup:
    header: Header
    # None when the row came without `properties.ipAddresses` (Azure always returns the list, even
    # empty): an IP group whose contents were not read denotes unknown addresses, not no addresses.
    addresses: tuple[str, ...] | None

    @property
    def id(self) -> str:
        return self.header.id


def parse_ip_group(row: Mapping[str, Any]) -> IpGroup:
    raw = properties(row).get("ipAddresses")
    return IpGroup(parse_header(row), None if raw is None else strings(raw, "properties.ipAddresses"))


@dataclass(frozen=True)
class PublicIp:
    header: Header
    address: str
    ip_configuration_id: str

    @property
    def id(self) -> str:
        return self.header.id


def parse_public_ip(row: Mapping[str, Any]) -> PublicIp:
    props = properties(row)
    return PublicIp(parse_header(row), text(props.get("ipAddress"), "properties.ipAddress").strip(),
                    ref_id(props.get("ipConfiguration"), "properties.ipConfiguration"))


# --- load balancers ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Frontend:
    name: str
    public_ip_id: str
    private_ip: str
    inbound_rule_ids: tuple[str, ...]  # load-balancing and inbound NAT rules using this frontend
    outbound_rule_ids: tuple[str, ...]

    @property
    def serves_inbound(self) -> bool:
        """A frontend that only carries outbound (SNAT) rules accepts no connections from outside."""
        return bool(self.inbound_rule_ids) or not self.outbound_rule_ids


@dataclass(frozen=True)
class LoadBalancer:
    header: Header
    frontends: tuple[Frontend, ...]

    @property
    def id(self) -> str:
        return self.header.id


def _refs(value: Any, key: str) -> tuple[str, ...]:
    return tuple(ref_id(item, f"{key}[{index}]") for index, item in enumerate(arr(value, key)))


def _frontend(index: int, raw: Any) -> Frontend:
    where = f"properties.frontendIPConfigurations[{index}]"
    raw = obj(raw, where)
    props = obj(raw.get("properties"), f"{where}.properties")
    inbound = [*_refs(props.get("loadBalancingRules"), f"{where}.properties.loadBalancingRules"),
               *_refs(props.get("inboundNatRules"), f"{where}.properties.inboundNatRules"),
               *_refs(props.get("inboundNatPools"), f"{where}.properties.inboundNatPools")]
    return Frontend(
        name=text(raw.get("name"), f"{where}.name") or str(index),
        public_ip_id=ref_id(props.get("publicIPAddress"), f"{where}.properties.publicIPAddress"),
        private_ip=text(props.get("privateIPAddress"), f"{where}.properties.privateIPAddress").strip(),
        inbound_rule_ids=tuple(inbound),
        outbound_rule_ids=_refs(props.get("outboundRules"), f"{where}.properties.outboundRules"),
    )


def parse_load_balancer(row: Mapping[str, Any]) -> LoadBalancer:
    frontends = arr(properties(row).get("frontendIPConfigurations"), "properties.frontendIPConfigurations")
    return LoadBalancer(parse_header(row), tuple(_frontend(i, f) for i, f in enumerate(frontends)))


# --- Virtual WAN ------------------------------------------------------------------------------

@dataclass(frozen=True)
class VirtualHub:
    header: Header
    firewall_id: str
    virtual_wan_id: str
    address_prefix: str

    @property
    def id(self) -> str:
        return self.header.id


def parse_virtual_hub(row: Mapping[str, Any]) -> VirtualHub:
    props = properties(row)
    return VirtualHub(parse_header(row), ref_id(props.get("azureFirewall"), "properties.azureFirewall"),
                      ref_id(props.get("virtualWan"), "properties.virtualWan"),
                      text(props.get("addressPrefix"), "properties.addressPrefix"))


@dataclass(frozen=True)
class RoutingPolicy:
    name: str
    destinations: tuple[str, ...]  # 'Internet' and/or 'PrivateTraffic'
    next_hop: str  # the resource id of the hub firewall (or NVA) the traffic goes to

    @property
    def steers_internet(self) -> bool:
        return any(d.strip().lower() == "internet" for d in self.destinations)


@dataclass(frozen=True)
class RoutingIntent:
    """`Microsoft.Network/virtualHubs/routingIntent`, as the network API returns it.

    Row: `{"id": "<hub id>/routingIntent/<name>", "type": "microsoft.network/virtualhubs/routingintent",
    "properties": {"routingPolicies": [{"name", "destinations": ["Internet"], "nextHop": "<firewall id>"}]}}`.
    """

    header: Header
    hub_id: str
    policies: tuple[RoutingPolicy, ...]

    @property
    def id(self) -> str:
        return self.header.id


def parse_routing_intent(row: Mapping[str, Any]) -> RoutingIntent:
    header = parse_header(row)
    policies = []
    for index, raw in enumerate(arr(properties(row).get("routingPolicies"), "properties.routingPolicies")):
        where = f"properties.routingPolicies[{index}]"
        raw = obj(raw, where)
        policies.append(RoutingPolicy(text(raw.get("name"), f"{where}.name"),
                                      strings(raw.get("destinations"), f"{where}.destinations"),
                                      text(raw.get("nextHop"), f"{where}.nextHop").strip()))
    return RoutingIntent(header, parent_id(header.id), tuple(policies))


@dataclass(frozen=True)
class HubConnection:
    """`Microsoft.Network/virtualHubs/hubVirtualNetworkConnections`: a spoke VNet attached to a hub.

    Row: `{"id": "<hub id>/hubVirtualNetworkConnections/<name>", "type":
    "microsoft.network/virtualhubs/hubvirtualnetworkconnections", "properties": {"remoteVirtualNetwork":
    {"id"}, "enableInternetSecurity": true}}`. `enableInternetSecurity: false` keeps the hub's default
    route away from the spoke, so routing intent does not steer its Internet traffic.
    """

    header: Header
    hub_id: str
    remote_vnet_id: str
    internet_security: bool
    # `routingConfiguration.associatedRouteTable.id`: the hub route table whose routes the spoke
    # learns ('' when the row does not say; then which table applies is unknown).
    associated_route_table_id: str = ""

    @property
    def id(self) -> str:
        return self.header.id


def parse_hub_connection(row: Mapping[str, Any]) -> HubConnection:
    header = parse_header(row)
    props = properties(row)
    security = props.get("enableInternetSecurity")
    routing = obj(props.get("routingConfiguration"), "properties.routingConfiguration")
    return HubConnection(header, parent_id(header.id),
                         ref_id(props.get("remoteVirtualNetwork"), "properties.remoteVirtualNetwork"),
                         True if security is None else flag(security, "properties.enableInternetSecurity"),
                         ref_id(routing.get("associatedRouteTable"),
                                "properties.routingConfiguration.associatedRouteTable"))


@dataclass(frozen=True)
class HubStaticRoute:
    """One static route of a hub route table: `{name, destinationType, destinations, nextHopType, nextHop}`."""

    id: str  # '<table id>/routes/<name>' (hub routes have no ARM id of their own), for findings and evidence
    name: str
    destination_type: str  # 'CIDR', 'ResourceId' or 'Service'
    destinations: tuple[str, ...]
    networks: tuple[IPNetwork, ...]  # the CIDR destinations
    next_hop_type: str  # 'ResourceId' (a firewall, or a connection to an appliance in a spoke)
    next_hop: str

    @property
    def defect(self) -> str:
        """Why the destinations or next hop of this route cannot be known ('' when they can)."""
        where = f"hub route '{self.name}' of {self.id.rsplit('/routes/', 1)[0]}"
        kind = self.destination_type.strip().lower()
        if kind not in ("cidr", "resourceid", "service"):
            return f"{where} has destinationType '{self.destination_type}', which is not a known one"
        if not self.destinations:
            return f"{where} has no destinations"
        if kind == "cidr" and len(self.networks) != len(self.destinations):
            return f"{where} has a destination that is not a CIDR prefix ({', '.join(self.destinations)})"
        if not self.next_hop.strip():
            return f"{where} has no nextHop, so where its traffic goes is unknown"
        return ""


@dataclass(frozen=True)
class HubRouteTable:
    """`Microsoft.Network/virtualHubs/hubRouteTables`, as the network API lists them per hub.

    Row: `{"id": "<hub id>/hubRouteTables/<name>", "type": "microsoft.network/virtualhubs/hubroutetables",
    "properties": {"routes": [{"name", "destinationType": "CIDR", "destinations": ["0.0.0.0/0"],
    "nextHopType": "ResourceId", "nextHop": "<firewall id>"}], "labels", "associatedConnections",
    "propagatingConnections"}}`. With routing intent off, Firewall Manager's secured hub steers
    Internet traffic by a static `0.0.0.0/0` route to the hub firewall in `defaultRouteTable`.
    """

    header: Header
    hub_id: str
    routes: tuple[HubStaticRoute, ...]

    @property
    def id(self) -> str:
        return self.header.id


def _hub_static_route(table_id: str, index: int, raw: Any) -> HubStaticRoute:
    where = f"properties.routes[{index}]"
    raw = obj(raw, where)
    name = text(raw.get("name"), f"{where}.name") or str(index)
    destinations = tuple(d.strip() for d in strings(raw.get("destinations"), f"{where}.destinations"))
    networks = tuple(n for n in (parse_network(d) for d in destinations) if n is not None)
    return HubStaticRoute(f"{table_id}/routes/{name}", name, text(raw.get("destinationType"), f"{where}.destinationType"),
                          destinations, networks, text(raw.get("nextHopType"), f"{where}.nextHopType"),
                          text(raw.get("nextHop"), f"{where}.nextHop").strip())


def parse_hub_route_table(row: Mapping[str, Any]) -> HubRouteTable:
    header = parse_header(row)
    routes = arr(properties(row).get("routes"), "properties.routes")
    return HubRouteTable(header, parent_id(header.id),
                         tuple(_hub_static_route(header.id, i, r) for i, r in enumerate(routes)))


# --- AKS outbound network dependencies ---------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    domain: str
    ports: tuple[tuple[int, str], ...]  # (port, protocol) pairs


@dataclass(frozen=True)
class OutboundEndpoints:
    """One category of a cluster's own outbound dependency list (`outboundNetworkDependenciesEndpoints`).

    Row: `{"id": "<cluster id>/outboundNetworkDependenciesEndpoints/<category>", "type":
    "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints", "properties":
    {"category", "endpoints": [{"domainName", "endpointDetails": [{"port", "protocol"}]}]}}`.
    """

    header: Header
    cluster_id: str
    category: str
    endpoints: tuple[Endpoint, ...]

    @property
    def id(self) -> str:
        return self.header.id


def _endpoint(index: int, raw: Any) -> Endpoint:
    where = f"properties.endpoints[{index}]"
    raw = obj(raw, where)
    ports = []
    for d_index, detail in enumerate(arr(raw.get("endpointDetails"), f"{where}.endpointDetails")):
        detail_where = f"{where}.endpointDetails[{d_index}]"
        detail = obj(detail, detail_where)
        port = detail.get("port")
        if not isinstance(port, int) or isinstance(port, bool):
            raise RowError(f"'{detail_where}.port' is {type(port).__name__}, expected an integer")
        ports.append((port, text(detail.get("protocol"), f"{detail_where}.protocol")))
    return Endpoint(text(raw.get("domainName"), f"{where}.domainName").strip().lower(), tuple(ports))


def parse_outbound_endpoints(row: Mapping[str, Any]) -> OutboundEndpoints:
    header = parse_header(row)
    props = properties(row)
    return OutboundEndpoints(
        header, parent_id(header.id), text(props.get("category"), "properties.category") or header.name,
        tuple(_endpoint(i, e) for i, e in enumerate(arr(props.get("endpoints"), "properties.endpoints"))))


# --- managed clusters -------------------------------------------------------------------------

@dataclass(frozen=True)
class AgentPool:
    name: str
    vnet_subnet_id: str
    pod_subnet_id: str
    enable_node_public_ip: bool
    mode: str


@dataclass(frozen=True)
class ManagedCluster:
    header: Header
    pools: tuple[AgentPool, ...]
    network_plugin: str
    network_plugin_mode: str
    outbound_type: str
    service_cidrs: tuple[str, ...]
    pod_cidrs: tuple[str, ...]
    dns_service_ip: str
    private_cluster: bool
    fqdn: str
    node_resource_group: str
    ip_families: tuple[str, ...] = ()  # networkProfile.ipFamilies; absent means IPv4 only (the API's default)

    @property
    def id(self) -> str:
        return self.header.id

    @property
    def dual_stack(self) -> bool:
        return any(family.strip().lower() == "ipv6" for family in self.ip_families)

    def subnet_ids(self) -> tuple[str, ...]:
        """Node and pod subnets, each once, in pool order (pod subnets are AKS subnets too)."""
        seen: dict[str, str] = {}
        for pool in self.pools:
            for subnet_id in (pool.vnet_subnet_id, pool.pod_subnet_id):
                if subnet_id:
                    seen.setdefault(id_key(subnet_id), subnet_id)
        return tuple(seen.values())

    @property
    def uses_managed_vnet(self) -> bool:
        """No pool names a subnet: AKS created the VNet itself, so no UDR can be attached."""
        return not any(pool.vnet_subnet_id for pool in self.pools)


def _pool(index: int, raw: Any) -> AgentPool:
    where = f"properties.agentPoolProfiles[{index}]"
    raw = obj(raw, where)
    return AgentPool(
        name=text(raw.get("name"), f"{where}.name") or str(index),
        vnet_subnet_id=text(raw.get("vnetSubnetID"), f"{where}.vnetSubnetID"),
        pod_subnet_id=text(raw.get("podSubnetID"), f"{where}.podSubnetID"),
        enable_node_public_ip=flag(raw.get("enableNodePublicIP"), f"{where}.enableNodePublicIP"),
        mode=text(raw.get("mode"), f"{where}.mode"),
    )


def parse_cluster(row: Mapping[str, Any]) -> ManagedCluster:
    header = parse_header(row)
    props = properties(row)
    net = obj(props.get("networkProfile"), "properties.networkProfile")
    api = obj(props.get("apiServerAccessProfile"), "properties.apiServerAccessProfile")
    service = strings(net.get("serviceCidrs"), "properties.networkProfile.serviceCidrs")
    single_service = text(net.get("serviceCidr"), "properties.networkProfile.serviceCidr")
    pods = strings(net.get("podCidrs"), "properties.networkProfile.podCidrs")
    single_pod = text(net.get("podCidr"), "properties.networkProfile.podCidr")
    return ManagedCluster(
        header=header,
        pools=tuple(_pool(i, p) for i, p in enumerate(arr(props.get("agentPoolProfiles"),
                                                          "properties.agentPoolProfiles"))),
        network_plugin=text(net.get("networkPlugin"), "properties.networkProfile.networkPlugin"),
        network_plugin_mode=text(net.get("networkPluginMode"), "properties.networkProfile.networkPluginMode"),
        outbound_type=text(net.get("outboundType"), "properties.networkProfile.outboundType"),
        service_cidrs=_merge(single_service, service),
        pod_cidrs=_merge(single_pod, pods),
        dns_service_ip=text(net.get("dnsServiceIP"), "properties.networkProfile.dnsServiceIP"),
        private_cluster=flag(api.get("enablePrivateCluster"), "properties.apiServerAccessProfile.enablePrivateCluster"),
        fqdn=text(props.get("fqdn"), "properties.fqdn"),
        node_resource_group=text(props.get("nodeResourceGroup"), "properties.nodeResourceGroup"),
        ip_families=strings(net.get("ipFamilies"), "properties.networkProfile.ipFamilies"),
    )


def _merge(single: str, many: tuple[str, ...]) -> tuple[str, ...]:
    """serviceCidr and serviceCidrs (likewise pod) say the same thing twice; keep each once."""
    merged = ([single] if single else []) + [value for value in many if value != single]
    return tuple(merged)


PARSERS = {
    T_CLUSTER: parse_cluster,
    T_VNET: parse_vnet,
    T_ROUTE_TABLE: parse_route_table,
    T_FIREWALL: parse_firewall,
    T_POLICY: parse_policy,
    T_RCG: parse_rule_collection_group,
    T_IP_GROUP: parse_ip_group,
    T_PUBLIC_IP: parse_public_ip,
    T_LOAD_BALANCER: parse_load_balancer,
    T_VIRTUAL_HUB: parse_virtual_hub,
    T_ROUTING_INTENT: parse_routing_intent,
    T_HUB_CONNECTION: parse_hub_connection,
    T_HUB_ROUTE_TABLE: parse_hub_route_table,
    T_OUTBOUND_ENDPOINTS: parse_outbound_endpoints,
}
