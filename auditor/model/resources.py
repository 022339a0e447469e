"""Typed, immutable views of the ARG resource types aksaudit reasons about.

Each parser takes one ARG row (ARM body as Resource Graph returns it) and raises RowError naming
the key when the row's shape is wrong. Networks are kept as `ipaddress` objects so all CIDR math
uses the standard library.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Any, Mapping

from aksaudit.model.firewall_rules import CLASSIC_COLLECTIONS, FirewallRule, classic_rules, policy_rules
from aksaudit.model.row_fields import (
    RowError, arr, ascii_lower, flag, id_key, last_segment, named_ref_id, obj, optional, parent_id, ref_id, required,
    strings, text, unread, within,
)

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
# The routes Azure applies to one network interface (Network Interfaces - Get Effective Route
# Table), read with `--effective-routes` for one node NIC per AKS subnet.
T_EFFECTIVE_ROUTES = "microsoft.network/networkinterfaces/effectiveroutetable"

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


@lru_cache(maxsize=4096)
def parse_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A single IP address, None when the text is not one. (Cached: every spoke route names its
    hub firewall's address, and each egress path asks again whether its route's is one.)"""
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
    # Positional (id, name, type, location, resource group, subscription, tags): every row makes one,
    # and keywords cost a third more.
    return Header(
        resource_id,
        text(row.get("name"), "name") or last_segment(resource_id),
        text(row.get("type"), "type").lower(),
        text(row.get("location"), "location"),
        # Resource Graph repeats both in columns; the id says them too, and is what identifies the row.
        text(row.get("resourceGroup"), "resourceGroup") or _id_segment(resource_id, "resourcegroups"),
        text(row.get("subscriptionId"), "subscriptionId") or _id_segment(resource_id, "subscriptions"),
        _tags(obj(row.get("tags"), "tags")),
    )


# One shared empty mapping for the common case: a row without tags, a resource read whole. Every
# resource holds both, and an empty dict (and its read-only view) apiece cost a million rows about
# 150 MB, for nothing anyone can tell apart.
_NOTHING: Mapping[str, Any] = MappingProxyType({})


def _tags(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A row's tags: the decoded object itself (nothing else holds it), or the shared empty one."""
    if not value:
        return _NOTHING
    return value if type(value) is dict else dict(value)


def read_gaps(gaps: dict[str, str]) -> Mapping[str, str]:
    """A parser's gaps (row path -> why not read), read-only; the shared empty one when none."""
    return MappingProxyType(gaps) if gaps else _NOTHING


def _id_segment(resource_id: str, name: str) -> str:
    """The segment after '/<name>/' in an ARM id ('' when there is none)."""
    parts = resource_id.split("/")
    for index, part in enumerate(parts[:-1]):
        if ascii_lower(part) == name:
            return parts[index + 1]
    return ""


def properties(row: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj(row.get("properties"), "properties")


def readable_properties(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """The properties of a row that has to have them: without them nothing of the resource is
    known, so the row is rejected (a data gap for everything that refers to it)."""
    if row.get("properties") is None:
        raise RowError("'properties' is missing or null")
    return properties(row)


# --- virtual networks -------------------------------------------------------------------------

@dataclass(frozen=True)
class Subnet:
    id: str
    name: str
    vnet_id: str
    prefixes: tuple[IPNetwork, ...]
    route_table_id: str  # '' when the subnet has no route table (Azure omits the field)
    nat_gateway_id: str
    # Datums of this subnet that could not be read (path in the VNet row -> why); a subnet with
    # any is not offered for lookups, so its egress path is unknown rather than "no route table".
    gaps: Mapping[str, str] = field(default_factory=dict)
    # Of a GatewaySubnet or RouteServerSubnet: the VPN/ExpressRoute gateways and route servers
    # whose IP configurations sit in it (`properties.ipConfigurations[].id`), or the subnet's own
    # id when the row has no list to tell. They learn routes over BGP and hand them to the VNet's
    # subnets.
    route_sources: tuple[str, ...] = ()

    @property
    def unread(self) -> str:
        """Why this subnet's prefixes or route table are unknown ('' when they are known)."""
        if not self.gaps:  # asked of every subnet when the estate is indexed; most read whole
            return ""
        reason = unread(self.gaps, *self.gaps)
        return f"subnet {self.id}: {reason}" if reason else ""


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
    # `useRemoteGateways`: this VNet takes the remote VNet's gateway (and its BGP-learned routes).
    use_remote_gateways: bool = False

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
    # Datums that could not be read (path in the row -> why), its subnets' included: an unread
    # address space is not an empty one, and an unread subnet list is not a VNet without subnets.
    gaps: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.header.id

    def unread(self, *paths: str) -> str:
        """Why a datum at one of these row paths could not be read ('' when it could)."""
        reason = unread(self.gaps, *paths)
        return f"virtual network {self.id}: {reason}" if reason else ""

    def peerings_to(self, vnet_id: str) -> tuple[Peering, ...]:
        """This VNet's peerings whose remote VNet is `vnet_id` (ids compared as ARM compares them).

        Indexed once per VNet: a hub holds a peering per spoke, and every spoke's path asks its hub
        for the peering back, so a scan over the list made routing quadratic in spokes per hub.
        """
        return self._peerings_by_remote.get(id_key(vnet_id), ())

    @cached_property
    def _peerings_by_remote(self) -> dict[str, tuple[Peering, ...]]:
        found: dict[str, list[Peering]] = {}
        for peering in self.peerings:
            found.setdefault(id_key(peering.remote_vnet_id), []).append(peering)
        return {key: tuple(value) for key, value in found.items()}

    @property
    def route_sources(self) -> tuple[str, ...]:
        """The gateways and route servers in this VNet that can propagate learned routes to its subnets."""
        return tuple(dict.fromkeys(source for subnet in self.subnets for source in subnet.route_sources))

    @property
    def address_space_unread(self) -> str:
        return self.unread(ADDRESS_SPACE)

    @property
    def peerings_unread(self) -> str:
        return self.unread(PEERINGS)

    @property
    def subnets_unread(self) -> str:
        """Why the subnet list may be incomplete: a subnet that is not found may be one not read."""
        return self.unread(SUBNETS)


ADDRESS_SPACE = "properties.addressSpace.addressPrefixes"
PEERINGS = "properties.virtualNetworkPeerings"
SUBNETS = "properties.subnets"


def _cidr_list(value: Any, key: str) -> tuple[IPNetwork, ...]:
    return parse_networks(strings(value, key), key)


def _address_space(value: Any, key: str) -> tuple[IPNetwork, ...]:
    """A VNet always has an address space: an empty one is a datum not read, not a VNet holding nothing."""
    prefixes = _cidr_list(value, key)
    if not prefixes:
        raise RowError(f"'{key}' is empty, yet every virtual network has an address space")
    return prefixes


def _subnet(gaps: dict[str, str], vnet_id: str, index: int, raw: Any) -> Subnet | None:
    where = f"{SUBNETS}[{index}]"
    raw = required(gaps, raw, where, obj, None)
    if raw is None:
        return None
    own: dict[str, str] = {}
    subnet_id = optional(own, raw.get("id"), f"{where}.id", text, "")
    name = optional(own, raw.get("name"), f"{where}.name", text, "") or (last_segment(subnet_id) if subnet_id else "")
    if not name:
        gaps[where] = f"'{where}' has neither an id nor a name"
        return None
    props = required(own, raw.get("properties"), f"{where}.properties", obj, {})
    single = optional(own, props.get("addressPrefix"), f"{where}.properties.addressPrefix", _cidr_list, ())
    many = optional(own, props.get("addressPrefixes"), f"{where}.properties.addressPrefixes", _cidr_list, ())
    if props and not single and not many and not own:
        own[f"{where}.properties.addressPrefix"] = (f"'{where}.properties.addressPrefix' and "
                                                   f"'{where}.properties.addressPrefixes' are missing or empty")
    route_table_id = optional(own, props.get("routeTable"), f"{where}.properties.routeTable", named_ref_id, "")
    nat_gateway_id = optional(own, props.get("natGateway"), f"{where}.properties.natGateway", named_ref_id, "")
    gaps.update(own)
    subnet_id = subnet_id or f"{vnet_id}/subnets/{name}"
    prefixes = (*single, *(n for n in many if n not in single)) if many else single
    # Positional, in field order: a VNet row holds several subnets, and keywords cost a third more.
    return Subnet(subnet_id, name, vnet_id, prefixes, route_table_id, nat_gateway_id, read_gaps(own),
                  _route_sources(name, props.get("ipConfigurations"), subnet_id))


# Where BGP-learned routes come from: a gateway's IP configuration in GatewaySubnet
# (`.../virtualNetworkGateways/<gw>/ipConfigurations/<n>`), a route server's in RouteServerSubnet
# (`.../virtualHubs/<rs>/ipConfigurations/<n>`).
_ROUTE_SOURCE_KINDS = {"gatewaysubnet": "virtualnetworkgateways", "routeserversubnet": "virtualhubs"}


def _route_source_id(config_id: str, kind: str) -> str:
    parts = config_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if kind in lowered:
        at = lowered.index(kind)
        return "/" + "/".join(parts[:at + 2]) if at + 1 < len(parts) else ""
    return ""


def _route_sources(subnet_name: str, configs: Any, where: str) -> tuple[str, ...]:
    """The gateways or route servers in the subnet. A GatewaySubnet or RouteServerSubnet whose row
    has no readable `ipConfigurations` list may hold one (an export may leave the list out): the
    subnet itself stands for it, so the risk is reported rather than assumed away."""
    kind = _ROUTE_SOURCE_KINDS.get(subnet_name.lower())
    if kind is None:
        return ()
    if not isinstance(configs, list):
        return (where,)
    if not all(isinstance(c, Mapping) and isinstance(c.get("id"), str) for c in configs):
        return (where,)  # an entry that cannot be read may be the gateway's
    found = (_route_source_id(c["id"], kind) for c in configs)
    return tuple(dict.fromkeys(f for f in found if f))


def _use_remote_gateways(props: Mapping[str, Any], key: str) -> bool:
    """Absent is Azure's default (false); null is not a value the API returns, and reading it as
    false would assume away the gateway routes the peering may bring."""
    if "useRemoteGateways" not in props:
        return False
    if props["useRemoteGateways"] is None:
        raise RowError(f"'{key}' is null, so whether the peering uses the remote VNet's gateway is unknown")
    return flag(props["useRemoteGateways"], key)


def _peering(vnet_id: str, index: int, raw: Any) -> Peering:
    where = f"properties.virtualNetworkPeerings[{index}]"
    raw = obj(raw, where)
    name = text(raw.get("name"), f"{where}.name")
    props = obj(raw.get("properties"), f"{where}.properties")
    remote = obj(props.get("remoteAddressSpace"), f"{where}.properties.remoteAddressSpace")
    prefixes_key = f"{where}.properties.remoteAddressSpace.addressPrefixes"
    # Positional, in field order (as for subnets: many per row, and keywords cost a third more).
    return Peering(
        text(raw.get("id"), f"{where}.id") or f"{vnet_id}/virtualNetworkPeerings/{name}",
        name,
        ref_id(props.get("remoteVirtualNetwork"), f"{where}.properties.remoteVirtualNetwork"),
        text(props.get("peeringState"), f"{where}.properties.peeringState"),
        parse_networks(strings(remote.get("addressPrefixes"), prefixes_key), prefixes_key),
        flag(props.get("allowForwardedTraffic"), f"{where}.properties.allowForwardedTraffic"),
        props.get("peerCompleteVnets") is None
        or flag(props.get("peerCompleteVnets"), f"{where}.properties.peerCompleteVnets"),  # complete
        strings(props.get("localSubnetNames"), f"{where}.properties.localSubnetNames"),
        strings(props.get("remoteSubnetNames"), f"{where}.properties.remoteSubnetNames"),
        _use_remote_gateways(props, f"{where}.properties.useRemoteGateways"),
    )


def parse_vnet(row: Mapping[str, Any]) -> VirtualNetwork:
    header = parse_header(row)
    gaps: dict[str, str] = {}
    props = readable_properties(row)
    space = required(gaps, props.get("addressSpace"), "properties.addressSpace", obj, {})
    subnets = (_subnet(gaps, header.id, i, s) for i, s in enumerate(required(gaps, props.get("subnets"), SUBNETS, arr, [])))
    return VirtualNetwork(
        header=header,
        address_prefixes=required(gaps, space.get("addressPrefixes"), ADDRESS_SPACE, _address_space, ()),
        subnets=tuple(s for s in subnets if s is not None),
        # Azure returns the list, empty for a VNet without peerings: a missing one is not "no peering".
        peerings=tuple(_peering(header.id, i, p) for i, p in
                       enumerate(required(gaps, props.get("virtualNetworkPeerings"), PEERINGS, arr, []))),
        gaps=read_gaps(gaps),
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
    # Positional, in field order (id, name, prefix, network, next hop type and IP): many per row.
    return Route(
        text(raw.get("id"), f"{where}.id") or f"{table_id}/routes/{name}",
        name,
        prefix,
        parse_network(prefix),
        text(props.get("nextHopType"), f"{where}.properties.nextHopType"),
        text(props.get("nextHopIpAddress"), f"{where}.properties.nextHopIpAddress").strip(),
    )


def parse_route_table(row: Mapping[str, Any]) -> RouteTable:
    """The network API always returns `routes`, empty for a table without routes: a table whose
    route list is missing is one whose routes were not read, never one that routes nothing."""
    header = parse_header(row)
    props = readable_properties(row)
    if props.get("routes") is None:
        raise RowError("'properties.routes' is missing or null, so which routes the table holds is unknown")
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
    # Datums that could not be read (path in the row -> why): an IP configuration without its
    # subnet or private IP is not a firewall answering nowhere, and a missing mode is not 'Alert'.
    gaps: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.header.id

    @property
    def private_ips(self) -> tuple[str, ...]:
        ips = [c.private_ip for c in self.ip_configs if c.private_ip and not c.management]
        if self.hub_private_ip:
            ips.append(self.hub_private_ip)
        return tuple(ips)

    def unread(self, *paths: str) -> str:
        """Why a datum at one of these row paths could not be read ('' when it could)."""
        reason = unread(self.gaps, *paths)
        return f"firewall {self.id}: {reason}" if reason else ""

    @property
    def rules_unread(self) -> tuple[str, ...]:
        """Why some of the firewall's own (classic) rules could not be read, one reason per place."""
        return tuple(f"firewall {self.id}: {why}" for path, why in self.gaps.items()
                     if any(within(path, f"properties.{key}") for key, _ in CLASSIC_COLLECTIONS))

    @property
    def addresses_unread(self) -> str:
        """Why where the firewall sits and which private IPs it answers on are not fully known."""
        return self.unread(IP_CONFIGURATIONS, "properties.managementIpConfiguration", "properties.hubIPAddresses")


IP_CONFIGURATIONS = "properties.ipConfigurations"


def _ip_config(gaps: dict[str, str], index: int, raw: Any, where: str, management: bool) -> FirewallIpConfig | None:
    """One IP configuration. The first one places the firewall (its subnet and private IP, which
    Azure always returns); further ones carry only another public IP, so their absence is Azure's."""
    raw = required(gaps, raw, where, obj, None)
    if raw is None:
        return None
    props = required(gaps, raw.get("properties"), f"{where}.properties", obj, {})
    placing = index == 0 and not management
    read = required if placing else optional
    return FirewallIpConfig(
        name=optional(gaps, raw.get("name"), f"{where}.name", text, "") or str(index),
        private_ip=read(gaps, props.get("privateIPAddress"), f"{where}.properties.privateIPAddress", text, "").strip(),
        subnet_id=read(gaps, props.get("subnet"), f"{where}.properties.subnet", named_ref_id, ""),
        # absent with forced tunnelling; present, it must name one
        public_ip_id=optional(gaps, props.get("publicIPAddress"), f"{where}.properties.publicIPAddress", named_ref_id, ""),
        management=management,
    )


def parse_firewall(row: Mapping[str, Any]) -> Firewall:
    header = parse_header(row)
    props = readable_properties(row)
    gaps: dict[str, str] = {}
    hub_id = ref_id(props.get("virtualHub"), "properties.virtualHub")
    # A secured hub's firewall has no IP configurations of its own (its addresses are
    # `hubIPAddresses`); every other firewall is placed by its first one.
    raw_configs = (optional if hub_id else required)(gaps, props.get("ipConfigurations"), IP_CONFIGURATIONS, arr, [])
    configs = [_ip_config(gaps, i, c, f"{IP_CONFIGURATIONS}[{i}]", False) for i, c in enumerate(raw_configs)]
    if not hub_id and not raw_configs and not unread(gaps, IP_CONFIGURATIONS):
        gaps[IP_CONFIGURATIONS] = f"'{IP_CONFIGURATIONS}' is empty, yet a firewall outside a virtual hub has one"
    if props.get("managementIpConfiguration") is not None:
        configs.append(_ip_config(gaps, 0, props.get("managementIpConfiguration"),
                                  "properties.managementIpConfiguration", True))
    hub = obj(props.get("hubIPAddresses"), "properties.hubIPAddresses")
    public = obj(hub.get("publicIPs"), "properties.hubIPAddresses.publicIPs")
    hub_public = tuple(
        text(obj(a, f"properties.hubIPAddresses.publicIPs.addresses[{i}]").get("address"),
             f"properties.hubIPAddresses.publicIPs.addresses[{i}].address")
        for i, a in enumerate(arr(public.get("addresses"), "properties.hubIPAddresses.publicIPs.addresses")))
    hub_private_ip = text(hub.get("privateIPAddress"), "properties.hubIPAddresses.privateIPAddress").strip()
    if hub_id and not hub_private_ip:
        gaps["properties.hubIPAddresses"] = ("'properties.hubIPAddresses.privateIPAddress' is missing, yet a secured "
                                             "hub's firewall has one")
    sku = obj(props.get("sku"), "properties.sku")
    rules, rule_gaps = classic_rules(header.id, props)
    gaps.update(rule_gaps)
    # Azure returns the three classic collection lists together (empty for a firewall with a policy);
    # a row holding some of them lacks the others, it does not have none.
    present = [key for key, _ in CLASSIC_COLLECTIONS if key in props]
    for key, _ in CLASSIC_COLLECTIONS:
        if present and props.get(key) is None:
            gaps[f"properties.{key}"] = f"'properties.{key}' is missing or null, yet the row holds {', '.join(present)}"
    policy_id = optional(gaps, props.get("firewallPolicy"), "properties.firewallPolicy", named_ref_id, "")
    # A classic firewall's own mode decides; Azure returns it (default 'Alert') for every one.
    mode = (optional if policy_id else required)(gaps, props.get("threatIntelMode"), THREAT_INTEL_MODE, text, "")
    return Firewall(
        header=header,
        sku_name=text(sku.get("name"), "properties.sku.name"),
        ip_configs=tuple(c for c in configs if c is not None),
        hub_private_ip=hub_private_ip,
        hub_public_ips=tuple(ip for ip in hub_public if ip),
        virtual_hub_id=hub_id,
        policy_id=policy_id,
        threat_intel_mode=mode,
        classic_rules=rules,
        gaps=read_gaps(gaps),
    )


THREAT_INTEL_MODE = "properties.threatIntelMode"


@dataclass(frozen=True)
class FirewallPolicy:
    header: Header
    base_policy_id: str
    rule_collection_group_ids: tuple[str, ...]
    threat_intel_mode: str
    gaps: Mapping[str, str] = field(default_factory=dict)  # path in the row -> why it could not be read

    @property
    def id(self) -> str:
        return self.header.id


def parse_policy(row: Mapping[str, Any]) -> FirewallPolicy:
    """A policy without its group list, or with a base policy reference naming nothing, cannot say
    which rules it applies: the row is rejected. Azure returns the list (empty for a policy without
    groups); an absent `basePolicy` is a policy that inherits nothing."""
    header = parse_header(row)
    props = readable_properties(row)
    if props.get("ruleCollectionGroups") is None:
        raise RowError("'properties.ruleCollectionGroups' is missing or null, so which rules the policy holds is unknown")
    groups = arr(props.get("ruleCollectionGroups"), "properties.ruleCollectionGroups")
    base = props.get("basePolicy")
    gaps: dict[str, str] = {}
    # An unset mode sets nothing: a child inherits its base's, and a chain setting none has Azure's default.
    mode = optional(gaps, props.get("threatIntelMode"), THREAT_INTEL_MODE, text, "")
    return FirewallPolicy(
        header=header,
        base_policy_id="" if base is None else named_ref_id(base, "properties.basePolicy"),
        rule_collection_group_ids=tuple(named_ref_id(g, f"properties.ruleCollectionGroups[{i}]")
                                        for i, g in enumerate(groups)),
        threat_intel_mode=mode,
        gaps=read_gaps(gaps),
    )


@dataclass(frozen=True)
class RuleCollectionGroup:
    header: Header
    policy_id: str
    priority: int
    rules: tuple[FirewallRule, ...]
    rules_readable: bool  # False when the row came without properties.ruleCollections
    # What of the rules could not be read (path in the row -> why): a null collection or rule, a
    # collection without its rule list, and every rule with a datum missing (`FirewallRule.gaps`).
    gaps: Mapping[str, str] = field(default_factory=dict)

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
    rules, gaps = policy_rules(header.id, props)
    readable = props.get("ruleCollections") is not None
    if not readable:
        gaps["properties.ruleCollections"] = "'properties.ruleCollections' is missing or null"
    return RuleCollectionGroup(
        header=header,
        policy_id="/".join(parts[:-2]),
        priority=priority,
        rules=rules,
        rules_readable=readable,
        gaps=read_gaps(gaps),
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
    address: str  # '' while a dynamic address is not allocated
    ip_configuration_id: str
    gaps: Mapping[str, str] = field(default_factory=dict)  # path in the row -> why it could not be read

    @property
    def id(self) -> str:
        return self.header.id

    @property
    def unread(self) -> str:
        reason = unread(self.gaps, *self.gaps)
        return f"public IP {self.id}: {reason}" if reason else ""


def parse_public_ip(row: Mapping[str, Any]) -> PublicIp:
    """A static address (every Standard SKU one) or one in use always has `ipAddress`; only a
    dynamic address nothing uses may lack it, so a missing address is a gap unless that is known."""
    gaps: dict[str, str] = {}
    props = readable_properties(row)
    config = optional(gaps, props.get("ipConfiguration"), "properties.ipConfiguration", named_ref_id, "")
    method = required(gaps, props.get("publicIPAllocationMethod"), "properties.publicIPAllocationMethod", text, "")
    address = optional(gaps, props.get("ipAddress"), "properties.ipAddress", text, "").strip()
    if not address and (config or method.lower() != "dynamic") and not gaps:
        gaps["properties.ipAddress"] = "'properties.ipAddress' is missing, yet the address is static or in use"
    return PublicIp(parse_header(row), address, config, read_gaps(gaps))


# --- load balancers ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Frontend:
    name: str
    public_ip_id: str  # '' for an internal frontend (one in a subnet)
    private_ip: str
    inbound_rule_ids: tuple[str, ...]  # load-balancing and inbound NAT rules using this frontend
    outbound_rule_ids: tuple[str, ...]
    subnet_id: str = ""  # set for an internal frontend
    gaps: Mapping[str, str] = field(default_factory=dict)  # path in the row -> why it could not be read

    @property
    def undecided(self) -> str:
        """Why whether this frontend is public and serves inbound traffic is unknown ('' when known).

        A frontend known to be internal (a subnet, no public IP) is decided whatever else is missing."""
        if self.subnet_id and not self.public_ip_id and not any(k.endswith(".publicIPAddress") for k in self.gaps):
            return ""
        return "; ".join(self.gaps.values())

    @property
    def serves_inbound(self) -> bool:
        """A frontend that only carries outbound (SNAT) rules accepts no connections from outside."""
        return bool(self.inbound_rule_ids) or not self.outbound_rule_ids


@dataclass(frozen=True)
class LoadBalancer:
    header: Header
    frontends: tuple[Frontend, ...]
    # Datums that could not be read (path in the row -> why) other than a readable frontend's own:
    # the frontend list, or a frontend that could not be read at all.
    gaps: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.header.id

    @property
    def unread(self) -> str:
        """Why it is unknown whether some frontend is public and serves inbound traffic ('' when known)."""
        reasons = [*self.gaps.values(), *(f.undecided for f in self.frontends if f.undecided)]
        return f"load balancer {self.id}: " + "; ".join(reasons) if reasons else ""


def _refs(value: Any, key: str) -> tuple[str, ...]:
    return tuple(ref_id(item, f"{key}[{index}]") for index, item in enumerate(arr(value, key)))


def _frontend(list_gaps: dict[str, str], index: int, raw: Any) -> Frontend | None:
    where = f"properties.frontendIPConfigurations[{index}]"
    raw = required(list_gaps, raw, where, obj, None)
    props = required(list_gaps, raw.get("properties"), f"{where}.properties", obj, None) if raw is not None else None
    if props is None:
        return None
    gaps: dict[str, str] = {}
    rules = {key: optional(gaps, props.get(key), f"{where}.properties.{key}", _refs, ())
             for key in ("loadBalancingRules", "inboundNatRules", "inboundNatPools", "outboundRules")}
    public_ip_id = optional(gaps, props.get("publicIPAddress"), f"{where}.properties.publicIPAddress", named_ref_id, "")
    subnet_id = optional(gaps, props.get("subnet"), f"{where}.properties.subnet", named_ref_id, "")
    if not public_ip_id and not subnet_id and not gaps:
        # Every frontend is either public (a public IP) or internal (a subnet): with neither, which
        # one it is was not read.
        gaps[f"{where}.properties.publicIPAddress"] = f"'{where}.properties' names neither a public IP nor a subnet"
    return Frontend(
        name=optional(gaps, raw.get("name"), f"{where}.name", text, "") or str(index),
        public_ip_id=public_ip_id,
        private_ip=optional(gaps, props.get("privateIPAddress"), f"{where}.properties.privateIPAddress", text, "").strip(),
        inbound_rule_ids=(*rules["loadBalancingRules"], *rules["inboundNatRules"], *rules["inboundNatPools"]),
        outbound_rule_ids=rules["outboundRules"],
        subnet_id=subnet_id,
        gaps=read_gaps(gaps),
    )


def parse_load_balancer(row: Mapping[str, Any]) -> LoadBalancer:
    gaps: dict[str, str] = {}
    props = readable_properties(row)
    raw = required(gaps, props.get("frontendIPConfigurations"), "properties.frontendIPConfigurations", arr, [])
    frontends = (_frontend(gaps, i, f) for i, f in enumerate(raw))
    return LoadBalancer(parse_header(row), tuple(f for f in frontends if f is not None), read_gaps(gaps))


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
    """Which VNet a connection attaches and whether it takes the hub's default route are what the
    connection is: without either the row is rejected (Azure returns both)."""
    header = parse_header(row)
    props = readable_properties(row)
    security = props.get("enableInternetSecurity")
    if security is None:
        raise RowError("'properties.enableInternetSecurity' is missing or null, so whether the spoke takes the "
                       "hub's default route is unknown")
    routing = obj(props.get("routingConfiguration"), "properties.routingConfiguration")
    return HubConnection(header, parent_id(header.id),
                         named_ref_id(props.get("remoteVirtualNetwork"), "properties.remoteVirtualNetwork"),
                         flag(security, "properties.enableInternetSecurity"),
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
    """One dependency: a domain and the ports it is reached on. The AKS API lists both for each; a
    dependency without them is one not read, and a list missing one would ask the firewall for less."""
    where = f"properties.endpoints[{index}]"
    if raw is None:
        raise RowError(f"'{where}' is null")
    raw = obj(raw, where)
    ports = []
    details = arr(raw.get("endpointDetails"), f"{where}.endpointDetails")
    if not details:
        raise RowError(f"'{where}.endpointDetails' is missing or empty")
    if not text(raw.get("domainName"), f"{where}.domainName").strip():
        raise RowError(f"'{where}.domainName' is missing or empty")
    for d_index, detail in enumerate(details):
        detail_where = f"{where}.endpointDetails[{d_index}]"
        if detail is None:
            raise RowError(f"'{detail_where}' is null")
        detail = obj(detail, detail_where)
        port = detail.get("port")
        if not isinstance(port, int) or isinstance(port, bool):
            raise RowError(f"'{detail_where}.port' is {type(port).__name__}, expected an integer")
        ports.append((port, text(detail.get("protocol"), f"{detail_where}.protocol")))
    return Endpoint(text(raw.get("domainName"), f"{where}.domainName").strip().lower(), tuple(ports))


def parse_outbound_endpoints(row: Mapping[str, Any]) -> OutboundEndpoints:
    header = parse_header(row)
    props = readable_properties(row)
    if props.get("endpoints") is None:
        raise RowError("'properties.endpoints' is missing or null")
    return OutboundEndpoints(
        header, parent_id(header.id), text(props.get("category"), "properties.category") or header.name,
        tuple(_endpoint(i, e) for i, e in enumerate(arr(props.get("endpoints"), "properties.endpoints"))))


# --- effective routes ------------------------------------------------------------------------

@dataclass(frozen=True)
class EffectiveRoute:
    """One route Azure applies to a network interface, as the network API reports it: where it
    comes from (`Default`, `User`, `VirtualNetworkGateway`), whether it is in force (`Active`),
    its prefixes and its next hop."""

    source: str
    state: str
    prefixes: tuple[IPNetwork, ...]
    next_hop_type: str
    next_hop_ips: tuple[str, ...]
    name: str = ""

    @property
    def active(self) -> bool:
        return self.state.lower() == "active"

    def describe(self) -> str:
        """'0.0.0.0/0 -> VirtualNetworkGateway 10.1.0.4 (from VirtualNetworkGateway)'."""
        hop = " ".join((self.next_hop_type, *self.next_hop_ips))
        return f"{', '.join(str(p) for p in self.prefixes)} -> {hop} (from {self.source})"


@dataclass(frozen=True)
class EffectiveRouteTable:
    """What `POST .../networkInterfaces/<nic>/effectiveRouteTable` returned for one node NIC of an
    AKS subnet. Row: `{"id": "<nic id>/effectiveRouteTable", "type": T_EFFECTIVE_ROUTES,
    "properties": {"subnetId", "networkInterfaceId", "routes": [EffectiveRoute as ARM writes it]}}`."""

    header: Header
    subnet_id: str
    nic_id: str
    routes: tuple[EffectiveRoute, ...]

    @property
    def id(self) -> str:
        return self.header.id


_EFFECTIVE_ROUTE_KEYS = ("source", "state", "addressPrefix", "nextHopType", "nextHopIpAddress")


def _effective_route(index: int, raw: Any) -> EffectiveRoute:
    """A prefix that is not a CIDR would be a destination nobody can place: the row is not read.
    The network API always returns every key but `name` (an empty list where a route has no next
    hop address): one missing or null would make the route read as inactive or as routing nothing,
    so the row is not read either."""
    where = f"properties.routes[{index}]"
    raw = obj(raw, where)
    missing = [key for key in _EFFECTIVE_ROUTE_KEYS if raw.get(key) is None]
    if missing:
        raise RowError(f"'{where}.{missing[0]}' is missing or null, so what the route does is unknown")
    prefixes = strings(raw.get("addressPrefix"), f"{where}.addressPrefix")
    return EffectiveRoute(
        source=text(raw.get("source"), f"{where}.source"),
        state=text(raw.get("state"), f"{where}.state"),
        prefixes=parse_networks(prefixes, f"{where}.addressPrefix"),
        next_hop_type=text(raw.get("nextHopType"), f"{where}.nextHopType"),
        next_hop_ips=strings(raw.get("nextHopIpAddress"), f"{where}.nextHopIpAddress"),
        name=text(raw.get("name"), f"{where}.name"),
    )


def parse_effective_routes(row: Mapping[str, Any]) -> EffectiveRouteTable:
    header = parse_header(row)
    props = readable_properties(row)
    if props.get("routes") is None:
        raise RowError("'properties.routes' is missing or null, so which routes Azure applies is unknown")
    subnet_id = text(props.get("subnetId"), "properties.subnetId")
    if not subnet_id:
        raise RowError("'properties.subnetId' is missing: the subnet these routes apply to is unknown")
    return EffectiveRouteTable(
        header, subnet_id, text(props.get("networkInterfaceId"), "properties.networkInterfaceId") or parent_id(header.id),
        tuple(_effective_route(i, r) for i, r in enumerate(arr(props.get("routes"), "properties.routes"))))


# --- managed clusters -------------------------------------------------------------------------

@dataclass(frozen=True)
class AgentPool:
    name: str
    vnet_subnet_id: str  # '' when the pool runs in an AKS-managed VNet (Azure omits the field)
    pod_subnet_id: str  # '' when pods take addresses from the node subnet or an overlay
    enable_node_public_ip: bool
    mode: str
    path: str = ""  # where the pool sits in the row ('properties.agentPoolProfiles[0]'), for its gaps


# Plugins whose pods take addresses from a pod CIDR, so Azure returns `podCidr(s)` for them.
_POD_CIDR_PLUGINS = frozenset({"kubenet"})


@dataclass(frozen=True)
class ManagedCluster:
    """A managed cluster, with every datum a verdict needs; `gaps` names the ones that could not be
    read (path in the row -> why). A stand-in ('' or ()) takes the place of an unread datum so
    code that only shows it keeps working, but a verdict must ask `unread` first."""

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
    # apiServerAccessProfile.authorizedIPRanges as written (empty: the public endpoint admits every
    # address) and enableVnetIntegration (nodes reach the API server inside the VNet, not over it).
    authorized_ip_ranges: tuple[str, ...] = ()
    vnet_integration: bool = False
    gaps: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.header.id

    @property
    def dual_stack(self) -> bool:
        return any(family.strip().lower() == "ipv6" for family in self.ip_families)

    def unread(self, *paths: str) -> str:
        """Why a datum at one of these row paths could not be read ('' when it could)."""
        reason = unread(self.gaps, *paths)
        return f"cluster {self.id}: {reason}" if reason else ""

    @property
    def pools_unread(self) -> str:
        """Why the node and pod subnets are not known ('' when they are)."""
        if not self.gaps:  # asked per cluster by most checks; most clusters read whole
            return ""
        subnets = self.unread(*(f"{pool.path}.{key}" for pool in self.pools for key in ("vnetSubnetID", "podSubnetID")))
        return "; ".join(reason for reason in (self.pool_list_unread, subnets) if reason)

    @property
    def outbound_type_unread(self) -> str:
        return self.unread(OUTBOUND_TYPE)

    @property
    def service_cidrs_unread(self) -> str:
        return self.unread(SERVICE_CIDRS, SERVICE_CIDRS + "s")

    @property
    def pod_cidrs_unread(self) -> str:
        return self.unread(POD_CIDRS, POD_CIDRS + "s")

    @property
    def dns_service_ip_unread(self) -> str:
        return self.unread(DNS_SERVICE_IP)

    @property
    def private_cluster_unread(self) -> str:
        """An absent `apiServerAccessProfile` is a public cluster; one of the wrong shape is unknown."""
        return self.unread(PRIVATE_CLUSTER)

    @property
    def api_server_access_unread(self) -> str:
        """Why who may reach the API server's public endpoint, and whether nodes use it, is unknown."""
        return self.unread(PRIVATE_CLUSTER, AUTHORIZED_IP_RANGES, VNET_INTEGRATION)

    @property
    def node_resource_group_unread(self) -> str:
        return self.unread(NODE_RESOURCE_GROUP)

    def pool_unread(self, pool: AgentPool, *keys: str) -> str:
        """Why one datum of a pool (its `name`, `enableNodePublicIP` ...) could not be read."""
        return self.unread(*(f"{pool.path}.{key}" for key in keys))

    @property
    def pool_list_unread(self) -> str:
        """Why the list of pools itself is incomplete (a pool that could not be read at all), as
        opposed to one datum of a pool that is there ('' when the list is complete)."""
        if not self.gaps:
            return ""
        inside_pools = tuple(pool.path for pool in self.pools)
        reasons = [reason for known, reason in self.gaps.items()
                   if within(POOLS, known) or (within(known, POOLS) and
                                                     not any(within(known, p) for p in inside_pools))]
        return f"cluster {self.id}: " + "; ".join(reasons) if reasons else ""

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
        """No pool names a subnet: AKS created the VNet itself, so no UDR can be attached.

        Only when the pools were read: a cluster whose pools are unknown is not known to be
        anywhere, and saying "AKS-managed VNet" would be a verdict on a missing datum."""
        return not self.pools_unread and not any(pool.vnet_subnet_id for pool in self.pools)


POOLS = "properties.agentPoolProfiles"
NETWORK = "properties.networkProfile"
OUTBOUND_TYPE = f"{NETWORK}.outboundType"
SERVICE_CIDRS = f"{NETWORK}.serviceCidr"
POD_CIDRS = f"{NETWORK}.podCidr"
DNS_SERVICE_IP = f"{NETWORK}.dnsServiceIP"
NODE_RESOURCE_GROUP = "properties.nodeResourceGroup"
API_SERVER_ACCESS = "properties.apiServerAccessProfile"
PRIVATE_CLUSTER = f"{API_SERVER_ACCESS}.enablePrivateCluster"
AUTHORIZED_IP_RANGES = f"{API_SERVER_ACCESS}.authorizedIPRanges"
VNET_INTEGRATION = f"{API_SERVER_ACCESS}.enableVnetIntegration"


def _pools(value: Any, key: str) -> list[Any]:
    pools = arr(value, key)
    if not pools:
        raise RowError(f"'{key}' holds no agent pool, yet every cluster has a system pool")
    return pools


@lru_cache(maxsize=64)
def _pool_path(index: int) -> str:
    """`properties.agentPoolProfiles[i]`, one string per position: each pool keeps its path, and
    a million clusters need not hold a copy apiece."""
    return f"{POOLS}[{index}]"


def _pool(gaps: dict[str, str], index: int, raw: Any) -> AgentPool | None:
    where = _pool_path(index)
    raw = required(gaps, raw, where, obj, None)
    if raw is None:
        return None
    name = required(gaps, raw.get("name"), f"{where}.name", text, "")
    # Positional, in field order (name, node and pod subnet, node public IP, mode, path): many per row.
    return AgentPool(
        name or str(index),
        optional(gaps, raw.get("vnetSubnetID"), f"{where}.vnetSubnetID", text, ""),
        optional(gaps, raw.get("podSubnetID"), f"{where}.podSubnetID", text, ""),
        required(gaps, raw.get("enableNodePublicIP"), f"{where}.enableNodePublicIP", flag, False),
        optional(gaps, raw.get("mode"), f"{where}.mode", text, ""),
        where,
    )


def _cidrs(gaps: dict[str, str], net: Mapping[str, Any], single_key: str, needed: bool) -> tuple[str, ...]:
    """`serviceCidr` and `serviceCidrs` (likewise pod) say the same thing twice; keep each once.

    Either one is enough; when both are absent and the datum is `needed`, that is a gap."""
    path = f"{NETWORK}.{single_key}"
    single = optional(gaps, net.get(single_key), path, text, "")
    many = optional(gaps, net.get(single_key + "s"), path + "s", strings, ())
    if needed and not single and not many and not unread(gaps, path, path + "s"):
        gaps[path] = f"'{path}' and '{path}s' are missing or empty"
    return tuple(([single] if single else []) + [value for value in many if value != single])


def _ranges(value: Any, key: str) -> tuple[str, ...]:
    """Authorized IP ranges: a null or blank entry is not "no range", it is a range not read."""
    found = tuple(item.strip() for item in strings(value, key))
    blank = [index for index, item in enumerate(found) if not item]
    if blank:
        raise RowError(f"'{key}[{blank[0]}]' is empty or null, yet every entry is an address or CIDR")
    return found


def parse_cluster(row: Mapping[str, Any]) -> ManagedCluster:
    header = parse_header(row)
    gaps: dict[str, str] = {}
    props = readable_properties(row)
    net = required(gaps, props.get("networkProfile"), NETWORK, obj, {})
    api = optional(gaps, props.get("apiServerAccessProfile"), API_SERVER_ACCESS, obj, {})
    raw_pools = required(gaps, props.get("agentPoolProfiles"), POOLS, _pools, [])
    pools = tuple(p for p in (_pool(gaps, i, raw) for i, raw in enumerate(raw_pools)) if p is not None)
    plugin = required(gaps, net.get("networkPlugin"), f"{NETWORK}.networkPlugin", text, "")
    mode = optional(gaps, net.get("networkPluginMode"), f"{NETWORK}.networkPluginMode", text, "")
    # Pod CIDRs exist for kubenet and overlay clusters only; for them a missing one is a gap.
    pod_cidrs_needed = plugin.lower() in _POD_CIDR_PLUGINS or mode.lower() == "overlay"
    pods = _cidrs(gaps, net, "podCidr", pod_cidrs_needed)
    plugin_gap = unread(gaps, f"{NETWORK}.networkPlugin")
    if not pods and plugin_gap and not unread(gaps, POD_CIDRS):
        gaps[POD_CIDRS] = f"whether the cluster has a pod CIDR is unknown: {plugin_gap}"
    return ManagedCluster(
        header=header,
        ip_families=optional(gaps, net.get("ipFamilies"), f"{NETWORK}.ipFamilies", strings, ()),
        pools=pools,
        network_plugin=plugin,
        network_plugin_mode=mode,
        outbound_type=required(gaps, net.get("outboundType"), OUTBOUND_TYPE, text, "").strip(),
        service_cidrs=_cidrs(gaps, net, "serviceCidr", True),
        pod_cidrs=pods,
        dns_service_ip=required(gaps, net.get("dnsServiceIP"), DNS_SERVICE_IP, text, "").strip(),
        private_cluster=optional(gaps, api.get("enablePrivateCluster"), PRIVATE_CLUSTER, flag, False),
        authorized_ip_ranges=optional(gaps, api.get("authorizedIPRanges"), AUTHORIZED_IP_RANGES, _ranges, ()),
        vnet_integration=optional(gaps, api.get("enableVnetIntegration"), VNET_INTEGRATION, flag, False),
        fqdn=optional(gaps, props.get("fqdn"), "properties.fqdn", text, ""),
        node_resource_group=required(gaps, props.get("nodeResourceGroup"), NODE_RESOURCE_GROUP, text, ""),
        gaps=read_gaps(gaps),
    )


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
    T_EFFECTIVE_ROUTES: parse_effective_routes,
}
