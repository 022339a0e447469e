"""Resolve, for every AKS subnet, the egress path: subnet -> route table -> next hop -> firewall.

Private IPs repeat across isolated VNets, so a next hop IP is resolved only among firewalls of
the subnet's own VNet and of VNets peered to it (and vWAN hub firewalls), never globally.

A spoke VNet connected to a Virtual WAN secured hub needs no UDR: the hub's routing intent
advertises the default route to the hub firewall over the connection. That routing applies to
whatever public space the subnet's own routes leave uncovered, unless its route table disables
gateway route propagation (then the spoke never learns the hub's route).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .resources import (
    SPECIAL_SUBNETS, Firewall, HubConnection, ManagedCluster, Peering, Route, RouteTable, Subnet, VirtualNetwork,
)
from .routing import RouteDecision, decide
from .rows import id_key, last_segment, parent_id

if TYPE_CHECKING:
    from .model import Estate

FIREWALL = "firewall"  # a firewall's private IP (same VNet, peered VNet or vWAN hub)
FIREWALL_PUBLIC_IP = "firewall-public-ip"
UNKNOWN = "unknown"  # nothing known has that IP
UNRESOLVED = "unresolved"  # a firewall could be hiding in data we could not read


@dataclass(frozen=True)
class NextHop:
    kind: str
    ip: str
    firewall: Firewall | None = None
    peering: Peering | None = None  # the peering that reaches the firewall's VNet, if any
    reason: str = ""


@dataclass(frozen=True)
class Hop:
    route: Route
    next_hop: NextHop | None  # None when the route's next hop type is not an appliance


@dataclass(frozen=True)
class HubRoute:
    """Internet egress steered to a secured hub's firewall by the hub's routing intent."""

    connection: HubConnection
    intent_id: str
    policy: str  # the routing policy that sends 'Internet' to the firewall
    firewall_id: str
    firewall: Firewall | None  # None when the firewall the intent names is not in the estate
    gap: str  # why the firewall could not be read ('' when it could)


@dataclass(frozen=True)
class EgressPath:
    cluster: ManagedCluster
    pools: tuple[str, ...]  # pools whose node or pod subnet this is
    subnet_id: str  # as the cluster references it
    subnet: Subnet | None
    vnet: VirtualNetwork | None
    route_table: RouteTable | None
    decision: RouteDecision | None
    hops: tuple[Hop, ...]  # one per deciding route
    gap: str  # why the path could not be fully resolved ('' when it could)
    exception_hops: tuple[Hop, ...] = ()  # narrower public winners and service-tag routes
    hub_route: HubRoute | None = None  # set when a secured hub steers what the routes leave uncovered
    # Set when what the routes leave uncovered might be steered by a virtual hub whose routing
    # intent or connections could not be read: the path's Internet egress is then unknown.
    hub_unknown: str = ""

    @property
    def hub_steered(self) -> bool:
        """Internet traffic the subnet's own routes do not decide goes to a secured hub's firewall."""
        return self.hub_route is not None and (self.decision is None or self.decision.uncovered)

    @property
    def firewalls(self) -> tuple[Firewall, ...]:
        seen = {}
        for hop in self.hops:
            if hop.next_hop and hop.next_hop.firewall and hop.next_hop.kind == FIREWALL:
                seen.setdefault(id_key(hop.next_hop.firewall.id), hop.next_hop.firewall)
        if self.hub_steered and self.hub_route.firewall is not None:
            seen.setdefault(id_key(self.hub_route.firewall.id), self.hub_route.firewall)
        return tuple(seen.values())

    @property
    def hub_gaps(self) -> tuple[str, ...]:
        """Why `firewalls` may lack a hub's firewall: the hub names one that could not be read, or a
        hub whose routing could not be read may send this subnet's traffic somewhere."""
        unread_firewall = self.hub_route.gap if self.hub_steered and self.hub_route.firewall is None else ""
        return tuple(gap for gap in (unread_firewall, self.hub_unknown) if gap)


def resolve_next_hop(estate: "Estate", vnet_id: str, vnet: VirtualNetwork | None, ip: str) -> NextHop:
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return NextHop(UNKNOWN, ip, reason=f"next hop '{ip}' is not an IP address")
    for firewall in estate.firewalls_in_vnet(vnet_id):
        if ip in firewall.private_ips:
            return NextHop(FIREWALL, ip, firewall)
    gaps = []
    for peering in vnet.peerings if vnet else ():
        remote = estate.firewalls_in_vnet(peering.remote_vnet_id)
        for firewall in remote:
            if ip in firewall.private_ips:
                return NextHop(FIREWALL, ip, firewall, peering)
        if not remote and estate.vnet(peering.remote_vnet_id) is None:
            gaps.append(estate.gap(peering.remote_vnet_id))
    for firewall in estate.hub_firewalls_with_ip(ip):
        return NextHop(FIREWALL, ip, firewall)
    owner = estate.firewall_owning_public_ip(ip)
    if owner is not None:
        return NextHop(FIREWALL_PUBLIC_IP, ip, owner)
    if gaps:
        return NextHop(UNRESOLVED, ip, reason="; ".join(gaps))
    return NextHop(UNKNOWN, ip)


def hub_route(estate: "Estate", vnet_id: str) -> HubRoute | None:
    """The secured-hub routing a VNet gets from its Virtual WAN connection, if any.

    A connection with `enableInternetSecurity: false` does not receive the hub's default route.
    """
    for connection in estate.hub_connections_of(vnet_id):
        if not connection.internet_security:
            continue
        for intent in estate.routing_intents_of(connection.hub_id):
            for policy in intent.policies:
                if policy.steers_internet and policy.next_hop:
                    firewall = estate.firewalls.get(id_key(policy.next_hop))
                    return HubRoute(connection, intent.id, policy.name, policy.next_hop, firewall,
                                    "" if firewall else estate.gap(policy.next_hop))
    return None


def _hop(estate: "Estate", vnet_id: str, vnet: VirtualNetwork | None, route: Route) -> Hop:
    return Hop(route, resolve_next_hop(estate, vnet_id, vnet, route.next_hop_ip) if route.to_appliance else None)


def _path(estate: "Estate", cluster: ManagedCluster, subnet_id: str) -> EgressPath:
    pools = tuple(p.name for p in cluster.pools if id_key(subnet_id) in (id_key(p.vnet_subnet_id), id_key(p.pod_subnet_id)))
    subnet = estate.subnet(subnet_id)
    vnet_id = subnet.vnet_id if subnet else parent_id(subnet_id)
    vnet = estate.vnet(vnet_id)
    if subnet is None:
        gap = estate.gap(vnet_id) if vnet is None else f"{subnet_id} is not a subnet of {vnet.id}"
        return EgressPath(cluster, pools, subnet_id, None, vnet, None, None, (), gap)
    hub = hub_route(estate, vnet_id)
    if not subnet.route_table_id:
        return EgressPath(cluster, pools, subnet.id, subnet, vnet, None, None, (), "", hub_route=hub,
                          hub_unknown="" if hub else estate.hub_routing_unknown)
    table = estate.route_table(subnet.route_table_id)
    if table is None:
        return EgressPath(cluster, pools, subnet.id, subnet, vnet, None, None, (), estate.gap(subnet.route_table_id))
    decision = decide(table.routes)
    hops = tuple(_hop(estate, vnet_id, vnet, route) for route in decision.deciding)
    exceptions = tuple(_hop(estate, vnet_id, vnet, route)
                       for route in (*decision.exceptions, *decision.service_tag_routes))
    return EgressPath(cluster, pools, subnet.id, subnet, vnet, table, decision, hops, "", exceptions,
                      None if table.disable_bgp_route_propagation else hub,
                      "" if hub or table.disable_bgp_route_propagation or not decision.uncovered
                      else estate.hub_routing_unknown)


def resolve_egress_paths(estate: "Estate") -> tuple[EgressPath, ...]:
    paths = []
    for cluster in sorted(estate.clusters.values(), key=lambda c: c.id.lower()):
        for subnet_id in cluster.subnet_ids():
            if last_segment(subnet_id).lower() in SPECIAL_SUBNETS:
                continue
            paths.append(_path(estate, cluster, subnet_id))
    return tuple(paths)


def reachable_firewalls(estate: "Estate", vnet: VirtualNetwork) -> tuple[Firewall, ...]:
    """Firewalls a UDR in this VNet can use: same VNet, or a VNet behind a Connected peering."""
    found = {id_key(f.id): f for f in estate.firewalls_in_vnet(vnet.id)}
    for peering in vnet.peerings:
        if peering.connected:
            for firewall in estate.firewalls_in_vnet(peering.remote_vnet_id):
                found.setdefault(id_key(firewall.id), firewall)
    return tuple(found.values())


def reachable_firewall_ips(estate: "Estate", vnet: VirtualNetwork) -> tuple[str, ...]:
    return tuple(ip for firewall in reachable_firewalls(estate, vnet) for ip in firewall.private_ips)
