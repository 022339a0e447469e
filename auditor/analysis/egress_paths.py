"""Resolve, for every AKS subnet, the egress path: subnet -> route table -> next hop -> firewall.

Private IPs repeat across isolated VNets and across virtual hubs, so a next hop IP is resolved
only among firewalls of the subnet's own VNet, of VNets peered to it, and of the virtual hubs
its VNet is connected to, never globally. A firewall behind a peering is reached only when both
sides of the peering are `Connected` and, for a subnet peering, both subnets are in it.

A spoke VNet connected to a Virtual WAN secured hub needs no UDR: the hub advertises a default
route to its firewall over the connection, either by routing intent or, with routing intent
off (Firewall Manager's classic secured hub), by a static `0.0.0.0/0` route to the firewall in
the hub route table the connection is associated with, when the connection has
`enableInternetSecurity`. That routing applies to whatever public space the subnet's own routes
leave uncovered, unless its route table disables gateway route propagation (then the spoke
never learns the hub's route).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from aksaudit.model.resources import (
    SPECIAL_SUBNETS, Firewall, parse_address, HubConnection, HubRouteTable, ManagedCluster, Peering, Route, RouteTable, Subnet,
    VirtualNetwork,
)
from aksaudit.analysis.route_partition import DECIDING_MAX_PREFIXLEN, RouteDecision, decide, partition
from aksaudit.model.arm_id import ArmId
from aksaudit.model.row_fields import id_key, last_segment, parent_id

if TYPE_CHECKING:
    from aksaudit.model.estate import Estate

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
    # Why traffic cannot cross `peering` from this subnet to the firewall ('' when it can): a
    # side not Connected, or a subnet peering that leaves out the subnet or the firewall's.
    blocked: str = ""


@dataclass(frozen=True)
class Hop:
    route: Route
    next_hop: NextHop | None  # None when the route's next hop type is not an appliance


@dataclass(frozen=True)
class HubRoute:
    """Internet egress steered to a secured hub's firewall, by routing intent or a hub route table."""

    connection: HubConnection
    steered_by: str  # the routing intent, or the hub route table associated with the connection
    rule: str  # the routing policy, or the static route(s), that send Internet traffic to the firewall
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
    # A dual-stack cluster's subnet: how its route table splits public IPv6 destinations, and a
    # hop per deciding route (None / () for IPv4-only clusters).
    decision_v6: RouteDecision | None = None
    hops_v6: tuple[Hop, ...] = ()

    @property
    def hub_steered(self) -> bool:
        """Internet traffic the subnet's own routes do not decide goes to a secured hub's firewall."""
        return self.hub_route is not None and (self.decision is None or self.decision.uncovered)

    @cached_property  # asked by several checks and the effective-egress section for every path
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
        """Why `firewalls` may be incomplete: the hub names a firewall that could not be read, a
        hub whose routing could not be read may send this subnet's traffic somewhere, or a route
        of the subnet's table could not be read whole."""
        unread_firewall = self.hub_route.gap if self.hub_steered and self.hub_route.firewall is None else ""
        routes = self.decision.unknown if self.decision else ()
        return tuple(gap for gap in (unread_firewall, self.hub_unknown, *routes) if gap)


@lru_cache(maxsize=4096)  # a hub firewall's subnet, asked once per spoke path that crosses a peering
def _subnet_name(subnet_id: str) -> str:
    arm = ArmId.parse(subnet_id)
    return arm.name if any(kind.lower() == "subnets" for kind in arm.types) else ""


def peering_blocked(estate: "Estate", vnet: VirtualNetwork, peering: Peering, subnet: Subnet | None,
                    firewall: Firewall) -> str:
    """Why traffic from `subnet` cannot cross `peering` to `firewall` ('' when it can).

    Both sides must be `Connected`: a side deleted or recreated leaves the other `Initiated` or
    `Disconnected`. When the remote VNet was not read, its side is judged by the local state,
    which Azure shows `Connected` only while the remote side exists. A subnet peering
    (`peerCompleteVnets: false`) carries only its named subnets, on each side.
    """
    if not peering.connected:
        return f"peering '{peering.name}' is '{peering.state}', not Connected"
    fw_subnets = [_subnet_name(c.subnet_id) for c in firewall.ip_configs if c.subnet_id and not c.management]
    fw_subnet = fw_subnets[0] if fw_subnets else ""
    local = subnet.name if subnet else ""
    if not peering.links(local, fw_subnet):
        return (f"peering '{peering.name}' is a subnet peering linking only {list(peering.local_subnet_names)} to "
                f"{list(peering.remote_subnet_names)}: it does not carry subnet '{local}' to the firewall's subnet "
                f"'{fw_subnet}'")
    remote = estate.vnet(peering.remote_vnet_id)
    if remote is None:
        return ""
    back = remote.peerings_to(vnet.id)
    if not back:
        return f"the firewall's VNet {remote.id} has no peering back to {vnet.id}"
    if not any(p.connected for p in back):
        return f"the firewall's VNet's peering '{back[0].name}' back to this VNet is '{back[0].state}', not Connected"
    if not any(p.connected and p.links(fw_subnet, local) for p in back):
        return (f"the firewall's VNet's peering '{back[0].name}' is a subnet peering that does not link its subnet "
                f"'{fw_subnet}' with subnet '{local}'")
    return ""


def resolve_next_hop(estate: "Estate", vnet_id: str, vnet: VirtualNetwork | None, ip: str,
                     subnet: Subnet | None = None) -> NextHop:
    address = parse_address(ip) if ip == ip.strip() else None  # as written, not as tidied
    if address is None:
        return NextHop(UNKNOWN, ip, reason=f"next hop '{ip}' is not an IP address")
    for firewall in estate.firewalls_in_vnet(vnet_id):
        if ip in firewall.private_ips:
            return NextHop(FIREWALL, ip, firewall)
    gaps = []
    for peering in vnet.peerings if vnet else ():
        remote = estate.firewalls_in_vnet(peering.remote_vnet_id)
        for firewall in remote:
            if ip in firewall.private_ips:
                return NextHop(FIREWALL, ip, firewall, peering, blocked=peering_blocked(estate, vnet, peering, subnet,
                                                                                          firewall))
        if not remote and estate.vnet(peering.remote_vnet_id) is None:
            gaps.append(estate.gap(peering.remote_vnet_id))
    if vnet is not None and vnet.peerings_unread:  # a peering not read may reach the firewall
        gaps.append(vnet.peerings_unread)
    # A secured hub's firewall, only in a hub this VNet is connected to: hub IPs repeat.
    for connection in estate.hub_connections_of(vnet_id):
        for firewall in estate.hub_firewalls(connection.hub_id):
            if ip in firewall.private_ips:
                return NextHop(FIREWALL, ip, firewall)
    owner = estate.firewall_owning_public_ip(ip)
    if owner is not None:
        return NextHop(FIREWALL_PUBLIC_IP, ip, owner)
    # A firewall whose addresses could not be read may be the one answering on this IP.
    unread = estate.firewall_public_ips_unread if address.is_global \
        else estate.firewall_private_ips_unread
    if unread:
        gaps.append(unread)
    if not estate.hub_connections_of(vnet_id) and estate.hub_routing_unknown and any(
            f.hub_private_ip == ip for f in estate.firewalls_with_private_ip(ip)):
        gaps.append(estate.hub_routing_unknown)  # the VNet may be connected to that firewall's hub
    if gaps:
        return NextHop(UNRESOLVED, ip, reason="; ".join(gaps))
    return NextHop(UNKNOWN, ip)


def _intent_route(estate: "Estate", connection: HubConnection) -> HubRoute | None:
    for intent in estate.routing_intents_of(connection.hub_id):
        for policy in intent.policies:
            if policy.steers_internet and policy.next_hop:
                firewall = estate.firewalls.get(id_key(policy.next_hop))
                return HubRoute(connection, intent.id, policy.name, policy.next_hop, firewall,
                                "" if firewall else estate.gap(policy.next_hop))
    return None


def _table_route(estate: "Estate", connection: HubConnection, table: HubRouteTable) -> tuple[HubRoute | None, str]:
    """Whether the hub route table a connection is associated with sends all public IPv4 space to
    the hub's firewall: (the steering, '') when it does, (None, why unknown) when a route that
    could decide it cannot be read, (None, '') when it does not."""
    hub = estate.virtual_hubs.get(id_key(connection.hub_id))
    firewall_ids = {id_key(f.id) for f in estate.hub_firewalls(connection.hub_id)}
    firewall_ids |= {id_key(hub.firewall_id)} if hub and hub.firewall_id else set()
    defects = [r.defect for r in table.routes if r.defect]
    if defects:
        return None, "; ".join(defects)
    entries = [(network, (route, network)) for route in table.routes if route.destination_type.lower() == "cidr"
               for network in route.networks]
    winners, uncovered = partition(entries)
    deciding = list({id(route): route for route, network in winners
                     if network.prefixlen <= DECIDING_MAX_PREFIXLEN[4]}.values())
    # 'Service' destinations are addresses the table does not list: if they go anywhere but the
    # firewall, some public traffic may leave the firewall's path.
    services = [r for r in table.routes if r.destination_type.lower() == "service"
                and id_key(r.next_hop) not in firewall_ids]
    if services:
        return None, "; ".join(f"hub route '{r.name}' of {table.id} sends service destinations "
                               f"{list(r.destinations)} to {r.next_hop}, and which addresses they cover is unknown"
                               for r in services)
    if uncovered or not deciding or any(id_key(r.next_hop) not in firewall_ids for r in deciding):
        return None, ""
    firewall_id = deciding[0].next_hop
    firewall = estate.firewalls.get(id_key(firewall_id))
    return HubRoute(connection, table.id, ", ".join(r.name for r in deciding), firewall_id, firewall,
                    "" if firewall else estate.gap(firewall_id)), ""


def hub_route(estate: "Estate", vnet_id: str) -> tuple[HubRoute | None, str]:
    """The secured-hub routing a VNet gets from its Virtual WAN connection(s), and why it is unknown.

    A connection with `enableInternetSecurity: false` does not receive the hub's default route.
    Otherwise the hub steers when its routing intent sends `Internet` to a firewall, or when the
    hub route table associated with the connection sends all public IPv4 space to the hub's
    firewall. Returns (steering or None, '' or why whether the hub steers cannot be known).
    """
    unknown = []
    for connection in estate.hub_connections_of(vnet_id):
        if not connection.internet_security:
            continue
        unread = estate.unread_hubs.get(id_key(connection.hub_id))
        if unread:
            unknown.append(unread)
            continue
        steering = _intent_route(estate, connection)
        if steering is not None:
            return steering, ""
        table_id = connection.associated_route_table_id
        if not table_id:
            unknown.append(f"hub virtual network connection {connection.id} does not say which hub route table it is "
                           f"associated with (routingConfiguration.associatedRouteTable)")
            continue
        table = estate.hub_route_table(table_id)
        if table is None:
            unknown.append(f"hub route table {table_id}, associated with {connection.id}: "
                           f"{estate.gap(table_id)}")
            continue
        steering, why = _table_route(estate, connection, table)
        if steering is not None:
            return steering, ""
        if why:
            unknown.append(why)
    return None, "; ".join(unknown)


def _hop(estate: "Estate", vnet_id: str, vnet: VirtualNetwork | None, route: Route, subnet: Subnet | None) -> Hop:
    if not route.to_appliance or route.defect:
        return Hop(route, None)
    return Hop(route, resolve_next_hop(estate, vnet_id, vnet, route.next_hop_ip, subnet))


def _path(estate: "Estate", cluster: ManagedCluster, subnet_id: str) -> EgressPath:
    key = id_key(subnet_id)
    pools = tuple(p.name for p in cluster.pools if key in (id_key(p.vnet_subnet_id), id_key(p.pod_subnet_id)))
    subnet = estate.subnet(subnet_id)
    vnet_id = subnet.vnet_id if subnet else parent_id(subnet_id)
    vnet = estate.vnet(vnet_id)
    if subnet is None:
        gap = estate.gap(vnet_id) if vnet is None else f"{subnet_id} is not a subnet of {vnet.id}"
        return EgressPath(cluster, pools, subnet_id, None, vnet, None, None, (), gap)
    hub, hub_unknown = hub_route(estate, vnet_id)
    # No connection known to steer: a hub whose routing was not read at all may still steer.
    hub_unknown = hub_unknown or ("" if hub or estate.hub_connections_of(vnet_id) else estate.hub_routing_unknown)
    if not subnet.route_table_id:
        return EgressPath(cluster, pools, subnet.id, subnet, vnet, None, None, (), "", hub_route=hub,
                          hub_unknown="" if hub else hub_unknown)
    table = estate.route_table(subnet.route_table_id)
    if table is None:
        return EgressPath(cluster, pools, subnet.id, subnet, vnet, None, None, (), estate.gap(subnet.route_table_id))
    decision = decide(table.routes)
    hops = tuple(_hop(estate, vnet_id, vnet, route, subnet) for route in decision.deciding)
    exceptions = tuple(_hop(estate, vnet_id, vnet, route, subnet)
                       for route in (*decision.exceptions, *decision.service_tag_routes))
    decision_v6 = decide(table.routes, 6) if cluster.dual_stack else None
    hops_v6 = tuple(_hop(estate, vnet_id, vnet, route, subnet) for route in decision_v6.deciding) if decision_v6 else ()
    propagates = not table.disable_bgp_route_propagation
    return EgressPath(cluster, pools, subnet.id, subnet, vnet, table, decision, hops, "; ".join(decision.unknown),
                      exceptions, hub if propagates else None,
                      hub_unknown if not hub and propagates and decision.uncovered else "",
                      decision_v6, hops_v6)


def cluster_paths(estate: "Estate", cluster: ManagedCluster) -> tuple[EgressPath, ...]:
    """One cluster's paths, without resolving the whole estate's (what a single question needs)."""
    return tuple(_path(estate, cluster, subnet_id) for subnet_id in cluster.subnet_ids()
                 if last_segment(subnet_id).lower() not in SPECIAL_SUBNETS)


def resolve_egress_paths(estate: "Estate") -> tuple[EgressPath, ...]:
    return tuple(path for cluster in sorted(estate.clusters.values(), key=lambda c: c.id.lower())
                 for path in cluster_paths(estate, cluster))


def reachable_firewalls(estate: "Estate", vnet: VirtualNetwork) -> tuple[Firewall, ...]:
    """Firewalls a UDR in this VNet can use: same VNet, a VNet behind a Connected peering, or the
    firewall of a virtual hub the VNet is connected to."""
    found = {id_key(f.id): f for f in estate.firewalls_in_vnet(vnet.id)}
    for peering in vnet.peerings:
        if peering.connected:
            for firewall in estate.firewalls_in_vnet(peering.remote_vnet_id):
                found.setdefault(id_key(firewall.id), firewall)
    for connection in estate.hub_connections_of(vnet.id):
        for firewall in estate.hub_firewalls(connection.hub_id):
            found.setdefault(id_key(firewall.id), firewall)
    return tuple(found.values())


def reachable_firewall_ips(estate: "Estate", vnet: VirtualNetwork) -> tuple[str, ...]:
    return tuple(ip for firewall in reachable_firewalls(estate, vnet) for ip in firewall.private_ips)
