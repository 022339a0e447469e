"""ARG rows -> a read-only, indexed estate.

Every join is a hash lookup on lower-cased ids, so the estate builds in linear time. Rows that
cannot be read are remembered by id: a check that needs one reports `skipped` for what depends
on it instead of `pass` (fail closed).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from aksaudit.model.resources import (
    PARSERS, T_CLUSTER, T_FIREWALL, T_HUB_CONNECTION, T_HUB_ROUTE_TABLE, T_IP_GROUP, T_LOAD_BALANCER,
    T_EFFECTIVE_ROUTES, T_OUTBOUND_ENDPOINTS, T_POLICY, T_PUBLIC_IP, T_RCG, T_ROUTE_TABLE, T_ROUTING_INTENT, T_VIRTUAL_HUB, T_VNET, Firewall,
    EffectiveRouteTable, FirewallPolicy, HubConnection, HubRouteTable, IpGroup, LoadBalancer, ManagedCluster, OutboundEndpoints, PublicIp, RouteTable, RoutingIntent,
    IP_CONFIGURATIONS, RuleCollectionGroup, Subnet, VirtualHub, VirtualNetwork,
)
from aksaudit.model.arm_id import ArmId
from aksaudit.model.row_fields import RowError, ascii_lower, id_key, parent_id


@dataclass(frozen=True)
class RejectedRow:
    """A row the model could not use, and why: reported as a warning and as a data gap."""

    index: int
    resource_id: str
    reason: str
    source: str = ""
    kind: str = ""  # the row's lower-cased type, '' when it could not be read

    def could_be(self, kind: str) -> bool:
        """Whether the row may be a resource of this type: its type says so, or, with no type, its id
        does not say otherwise."""
        if self.kind:
            return self.kind == kind
        return not self.resource_id or resource_type(self.resource_id) == kind

    def describe(self) -> str:
        where = f"{self.source} " if self.source else ""
        name = f" ({self.resource_id})" if self.resource_id else ""
        return f"{where}row {self.index}{name}: {self.reason}; row skipped"


class Estate:
    """The resources of one scan, indexed for the joins the egress path needs."""

    def __init__(self, resources: Iterable[Any], rejected: Iterable[RejectedRow] = (),
                 unreadable_scopes: Iterable[str] = (), hub_lookups: Mapping[str, str] | None = None,
                 route_lookups: Mapping[str, str] | None = None, *, keys: Iterable[str] | None = None) -> None:
        """`keys`, when given, are the resources' `id_key`s in the same order: `build_estate` has
        them already, and lower-casing every id again cost a twentieth of the model's time."""
        by_type: dict[type, dict[str, Any]] = defaultdict(dict)
        keyed = zip(keys, resources) if keys is not None else ((id_key(r.id), r) for r in resources)
        for key, resource in keyed:
            by_type[type(resource)].setdefault(key, resource)
        self.clusters: Mapping[str, ManagedCluster] = MappingProxyType(by_type[ManagedCluster])
        self.vnets: Mapping[str, VirtualNetwork] = MappingProxyType(by_type[VirtualNetwork])
        self.route_tables: Mapping[str, RouteTable] = MappingProxyType(by_type[RouteTable])
        self.firewalls: Mapping[str, Firewall] = MappingProxyType(by_type[Firewall])
        self.policies: Mapping[str, FirewallPolicy] = MappingProxyType(by_type[FirewallPolicy])
        self.rule_collection_groups: Mapping[str, RuleCollectionGroup] = MappingProxyType(by_type[RuleCollectionGroup])
        self.ip_groups: Mapping[str, IpGroup] = MappingProxyType(by_type[IpGroup])
        self.public_ips: Mapping[str, PublicIp] = MappingProxyType(by_type[PublicIp])
        self.load_balancers: Mapping[str, LoadBalancer] = MappingProxyType(by_type[LoadBalancer])
        self.virtual_hubs: Mapping[str, VirtualHub] = MappingProxyType(by_type[VirtualHub])
        self.routing_intents: Mapping[str, RoutingIntent] = MappingProxyType(by_type[RoutingIntent])
        self.hub_connections: Mapping[str, HubConnection] = MappingProxyType(by_type[HubConnection])
        self.hub_route_tables: Mapping[str, HubRouteTable] = MappingProxyType(by_type[HubRouteTable])
        self.outbound_endpoints: Mapping[str, OutboundEndpoints] = MappingProxyType(by_type[OutboundEndpoints])
        # Azure's effective routes per AKS subnet (lower-cased subnet id), and what `--effective-routes`
        # tried: subnet id -> '' when read, else why not. None when the option was off: nothing
        # was asked, so nothing is missing and no verdict depends on them.
        self.effective_routes: Mapping[str, EffectiveRouteTable] = MappingProxyType(
            {id_key(t.subnet_id): t for t in sorted(by_type[EffectiveRouteTable].values(), key=lambda t: id_key(t.id))})
        self.route_lookups: Mapping[str, str] | None = None if route_lookups is None else MappingProxyType(
            {id_key(k): v for k, v in route_lookups.items()})
        self.rejected: tuple[RejectedRow, ...] = tuple(rejected)
        self._rejected_ids = {id_key(r.resource_id): r.reason for r in self.rejected if r.resource_id}
        self._unread: dict[str, str] = {}  # lower-cased id -> why the resource is there but not usable
        # Subscriptions (lower-cased ids) whose data could not be read at all: anything in them is a gap.
        self.unreadable_scopes = frozenset(s.lower() for s in unreadable_scopes)

        # Resources kept despite a datum that could not be read: the verdicts that need the datum
        # say `skipped`, and the scan reports each one, so it is never complete while one exists.
        self.data_gaps: tuple[str, ...] = tuple(
            f"{resource.id}: " + "; ".join(resource.gaps.values())
            for index in (self.clusters, self.vnets, self.public_ips, self.load_balancers, self.firewalls,
                          self.rule_collection_groups)
            for resource in index.values() if resource.gaps)

        # A subnet whose prefixes or route table could not be read is not offered for lookups:
        # its egress path is then unknown (skipped, naming the datum), never "no route table".
        subnets: dict[str, Subnet] = {}
        for vnet in self.vnets.values():
            for subnet in vnet.subnets:
                if subnet.unread:
                    self._unread[id_key(subnet.id)] = subnet.unread
                else:
                    subnets[id_key(subnet.id)] = subnet
        self.subnets: Mapping[str, Subnet] = MappingProxyType(subnets)

        firewalls_by_vnet: dict[str, list[Firewall]] = defaultdict(list)
        for firewall in self.firewalls.values():
            for vnet_key in {id_key(parent_id(c.subnet_id)) for c in firewall.ip_configs if c.subnet_id}:
                firewalls_by_vnet[vnet_key].append(firewall)
        self._firewalls_by_vnet = {k: tuple(v) for k, v in firewalls_by_vnet.items()}

        public_ip_owners: dict[str, Firewall] = {}
        for firewall in self.firewalls.values():
            for config in firewall.ip_configs:
                public_ip = self.public_ips.get(id_key(config.public_ip_id)) if config.public_ip_id else None
                if public_ip and public_ip.address:
                    public_ip_owners.setdefault(public_ip.address, firewall)
            for address in firewall.hub_public_ips:
                public_ip_owners.setdefault(address, firewall)
        self._public_ip_owners = public_ip_owners

        # A secured hub's firewall, by hub: the firewall names its hub (`virtualHub`) and the hub
        # names its firewall (`azureFirewall`); either link is enough.
        hub_firewalls: dict[str, dict[str, Firewall]] = defaultdict(dict)
        for firewall in self.firewalls.values():
            if firewall.virtual_hub_id:
                hub_firewalls[id_key(firewall.virtual_hub_id)].setdefault(id_key(firewall.id), firewall)
        for key, hub in self.virtual_hubs.items():
            firewall = self.firewalls.get(id_key(hub.firewall_id)) if hub.firewall_id else None
            if firewall is not None:
                hub_firewalls[key].setdefault(id_key(firewall.id), firewall)
        self._hub_firewalls = {k: tuple(v.values()) for k, v in hub_firewalls.items()}

        by_private_ip: dict[str, list[Firewall]] = defaultdict(list)
        for firewall in self.firewalls.values():
            for address in firewall.private_ips:
                by_private_ip[address].append(firewall)
        self._firewalls_by_private_ip = {k: tuple(v) for k, v in by_private_ip.items()}

        self._intents_by_hub = _group(self.routing_intents.values(), lambda r: r.hub_id)
        self._connections_by_vnet = _group(self.hub_connections.values(), lambda c: c.remote_vnet_id)
        self._route_tables_by_hub = _group(self.hub_route_tables.values(), lambda t: t.hub_id)
        self.unread_hubs: Mapping[str, str] = MappingProxyType(self._unread_hubs(hub_lookups or {}))
        self._endpoints_by_cluster = _group(self.outbound_endpoints.values(), lambda e: e.cluster_id)
        self._load_balancers_by_group = _group(self.load_balancers.values(), _resource_group_of)
        self._vnets_by_group = _group(self.vnets.values(), _resource_group_of)

    def _unread_hubs(self, lookups: Mapping[str, str]) -> dict[str, str]:
        """Virtual hubs (lower-cased ids) whose routing is unknown, and why.

        Routing intent, hub route tables and connections are not in Resource Graph: a live scan
        asks ARM and records each hub it asked about (`lookups`: '' when read, else the error). A
        hub with no record is read when its intent, route table or connection rows are there, as
        in a saved snapshot; otherwise nobody asked, and which spokes it steers to its firewall
        cannot be known.
        """
        unread = {id_key(k): v for k, v in lookups.items() if v}
        connected = {id_key(c.hub_id) for c in self.hub_connections.values()}
        read = {id_key(k) for k, v in lookups.items() if not v}
        for key, hub in self.virtual_hubs.items():
            if key in unread or key in read or key in self._intents_by_hub or key in connected \
                    or key in self._route_tables_by_hub:
                continue
            unread[key] = (f"virtual hub {hub.id}: its routing intent, hub route tables and hub virtual network "
                           f"connections were not "
                           f"read (Resource Graph does not hold them; a live scan or 'aksaudit snapshot' reads them "
                           f"from ARM), so whether it sends its spokes' Internet traffic to a firewall is unknown")
        return unread

    @cached_property
    def hub_routing_unknown(self) -> str:
        """Why a VNet with no known hub connection might still be steered by a hub ('' when it cannot)."""
        connections = self.unread_rows(T_HUB_CONNECTION)  # one of them may connect any VNet to a hub
        return "; ".join([*(self.unread_hubs[k] for k in sorted(self.unread_hubs)), *connections])

    # --- lookups -------------------------------------------------------------------------------

    def subnet(self, subnet_id: str) -> Subnet | None:
        return self.subnets.get(id_key(subnet_id))

    def vnet(self, vnet_id: str) -> VirtualNetwork | None:
        return self.vnets.get(id_key(vnet_id))

    def public_ip(self, public_ip_id: str) -> PublicIp | None:
        return self.public_ips.get(id_key(public_ip_id))

    def route_table(self, table_id: str) -> RouteTable | None:
        return self.route_tables.get(id_key(table_id))

    def firewalls_in_vnet(self, vnet_id: str) -> tuple[Firewall, ...]:
        return self._firewalls_by_vnet.get(id_key(vnet_id), ())

    def firewall_owning_public_ip(self, address: str) -> Firewall | None:
        """Public IPs are globally unique, so a global lookup is sound (private IPs are not)."""
        return self._public_ip_owners.get(address)

    def hub_firewalls(self, hub_id: str) -> tuple[Firewall, ...]:
        """The firewall(s) of one secured virtual hub. Deliberately per hub: hub firewalls'
        private IPs repeat across hubs, so an IP is only ever resolved within a hub a VNet is
        connected to."""
        return self._hub_firewalls.get(id_key(hub_id), ())

    def firewalls_with_private_ip(self, address: str) -> tuple[Firewall, ...]:
        """Every firewall answering on a private IP, anywhere: ambiguous by nature, so only for
        explaining a next hop that did not resolve where the subnet can reach."""
        return self._firewalls_by_private_ip.get(address, ())

    def hub_connections_of(self, vnet_id: str) -> tuple[HubConnection, ...]:
        """Virtual WAN hub connections whose remote VNet is this one."""
        return self._connections_by_vnet.get(id_key(vnet_id), ())

    def routing_intents_of(self, hub_id: str) -> tuple[RoutingIntent, ...]:
        return self._intents_by_hub.get(id_key(hub_id), ())

    def hub_route_table(self, table_id: str) -> HubRouteTable | None:
        return self.hub_route_tables.get(id_key(table_id))

    def outbound_endpoints_of(self, cluster_id: str) -> tuple[OutboundEndpoints, ...]:
        """The cluster's own outbound dependency list, when the live collector could read it."""
        return self._endpoints_by_cluster.get(id_key(cluster_id), ())

    def load_balancers_in(self, subscription_id: str, resource_group: str) -> tuple[LoadBalancer, ...]:
        return self._load_balancers_by_group.get(
            id_key(f"/subscriptions/{subscription_id}/resourcegroups/{resource_group}"), ())

    def vnets_in(self, subscription_id: str, resource_group: str) -> tuple[VirtualNetwork, ...]:
        """VNets of a resource group: an AKS-managed VNet lives in the cluster's node resource group."""
        return self._vnets_by_group.get(
            id_key(f"/subscriptions/{subscription_id}/resourcegroups/{resource_group}"), ())

    def gap(self, resource_id: str) -> str:
        """Why a referenced resource is not available: rejected, unreadable scope, or absent."""
        key = id_key(resource_id)
        if key in self._rejected_ids:
            return f"{resource_id} could not be read: {self._rejected_ids[key]}"
        if key in self._unread:
            return f"{resource_id} could not be read: {self._unread[key]}"
        parent = self.vnets.get(id_key(parent_id(resource_id)))
        if parent is not None and "/subnets/" in key and parent.subnets_unread:
            return f"{resource_id} may be one of the subnets not read: {parent.subnets_unread}"
        sub = ArmId.parse(key).subscription
        if sub and sub in self.unreadable_scopes:
            return f"{resource_id} is in subscription {sub}, which could not be read"
        return f"{resource_id} is not in the scanned estate"

    def unread_rows(self, kind: str) -> tuple[str, ...]:
        """Why some resource of this type may be missing: rows that could not be read and may be one."""
        return tuple(r.describe() for r in self.rejected if r.could_be(kind))

    @cached_property
    def firewall_private_ips_unread(self) -> str:
        """Why a private IP that no firewall answers on may still be a firewall's ('' when it cannot)."""
        reasons = [*self.unread_rows(T_FIREWALL), *(f.addresses_unread for f in self.firewalls.values()
                                                     if f.addresses_unread)]
        return "; ".join(reasons)

    @cached_property
    def firewall_public_ips_unread(self) -> str:
        """Why a public IP that no firewall is known to own may still be a firewall's ('' when it cannot):
        a firewall row, or a public IP a firewall names, that could not be read."""
        reasons = list(self.unread_rows(T_FIREWALL))
        for firewall in self.firewalls.values():
            reason = firewall.unread(IP_CONFIGURATIONS, "properties.hubIPAddresses")
            if reason:
                reasons.append(reason)
            for config in firewall.ip_configs:
                if not config.public_ip_id:
                    continue
                public_ip = self.public_ip(config.public_ip_id)
                if public_ip is None:
                    reasons.append(f"public IP of firewall {firewall.id}: {self.gap(config.public_ip_id)}")
                elif public_ip.unread:
                    reasons.append(public_ip.unread)
        return "; ".join(dict.fromkeys(reasons))

    def is_rejected(self, resource_id: str) -> bool:
        return id_key(resource_id) in self._rejected_ids

    @cached_property
    def egress_paths(self):  # -> tuple[EgressPath, ...]; imported lazily to keep modules acyclic
        from aksaudit.analysis.egress_paths import resolve_egress_paths
        return resolve_egress_paths(self)


def resource_type(resource_id: str) -> str:
    """The lower-cased type an ARM id names ('microsoft.network/virtualhubs/hubvirtualnetworkconnections'
    for '/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualHubs/h/hubVirtualNetworkConnections/c'),
    '' when it names none."""
    parts = id_key(resource_id).split("/")
    if "providers" not in parts:
        return ""
    start = len(parts) - 1 - parts[::-1].index("providers")
    rest = parts[start + 1:]
    if len(rest) < 3:
        return ""
    return "/".join([rest[0], *rest[1::2]])


def _resource_group_of(resource: Any) -> str:
    return f"/subscriptions/{resource.header.subscription_id}/resourcegroups/{resource.header.resource_group}"


def _group(items: Iterable[Any], key: Any) -> dict[str, tuple[Any, ...]]:
    """Index items by a lower-cased id the item names (its parent, the VNet it connects ...)."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        grouped[id_key(key(item))].append(item)
    return {k: tuple(v) for k, v in grouped.items()}


def _same_content(one: Any, other: Any) -> bool:
    """Two parses of one resource (Resource Graph pages may repeat a row): equal in everything read,
    apart from the casing of the id itself, which ARM compares case-insensitively."""
    if one is None or other is None:
        return False  # one copy could not be read at all
    return replace(one, header=replace(one.header, id="")) == replace(other, header=replace(other.header, id=""))


def build_estate(rows: Iterable[Any], *, source: str = "", unreadable_scopes: Iterable[str] = (),
                 hub_lookups: Mapping[str, str] | None = None, route_lookups: Mapping[str, str] | None = None) -> Estate:
    """Parse rows of the types the model knows; reject malformed ones with a reason, never crash.

    Rows of one type with the same id (ARM's case-insensitive comparison) and different content
    are all rejected, each naming the other: which copy is current cannot be told, and "the first
    row wins" would judge one at random. Identical copies count once. Rows stream through: none is
    kept beyond its parse.
    """
    rejected: list[RejectedRow] = []
    # Per type, by id key: the resource (None when its row could not be read) and the index of
    # its first row. Two flat tables rather than a tuple per row: they live through the whole
    # parse, and at a million rows tuples made the model's peak a quarter of a gigabyte higher.
    parsed: dict[str, dict[str, Any]] = {}
    first_rows: dict[str, dict[str, int]] = {}
    conflicts: dict[tuple[str, str], tuple[str, list[int]]] = {}
    for index, row in enumerate(rows):
        if type(row) is not dict and not isinstance(row, Mapping):  # the abstract-class check only for odd rows
            rejected.append(RejectedRow(index, "", f"is {type(row).__name__}, expected an object", source))
            continue
        raw_id = row.get("id")
        resource_id = raw_id if isinstance(raw_id, str) else ""
        raw_type = row.get("type")
        if not isinstance(raw_type, str):
            rejected.append(RejectedRow(index, resource_id, "'type' is missing or not a string", source))
            continue
        kind = ascii_lower(raw_type)
        parser = PARSERS.get(kind)
        if parser is None:
            continue  # a type no check needs: ignored, not an error
        try:
            resource = parser(row)
        except RowError as error:
            rejected.append(RejectedRow(index, resource_id, str(error), source, kind))
            resource = None
        key = id_key(resource_id)
        table = parsed.get(kind)
        if table is None:
            table = parsed[kind] = {}
            first_rows[kind] = {}
        if key not in table:
            table[key] = resource
            first_rows[kind][key] = index
        elif not _same_content(table[key], resource):
            conflicts.setdefault((kind, key), (resource_id, [first_rows[kind][key]]))[1].append(index)
    del first_rows
    for (kind, _), (resource_id, indexes) in conflicts.items():
        for index in indexes:
            others = ", ".join(str(i) for i in indexes if i != index)
            rejected.append(RejectedRow(index, resource_id, f"other rows ({others}) have the same id, compared "
                                                            "case-insensitively, and different content", source,
                                        kind))
    rejected.sort(key=lambda r: r.index)
    kept = lambda: ((key, resource) for kind, table in parsed.items() for key, resource in table.items()  # noqa: E731
                    if resource is not None and (not conflicts or (kind, key) not in conflicts))
    keys, resources = (key for key, _ in kept()), (resource for _, resource in kept())
    return Estate(resources, rejected, unreadable_scopes, hub_lookups, route_lookups, keys=keys)


KNOWN_TYPES = frozenset({T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP, T_PUBLIC_IP,
                         T_LOAD_BALANCER, T_VIRTUAL_HUB, T_ROUTING_INTENT, T_HUB_CONNECTION, T_HUB_ROUTE_TABLE,
                         T_OUTBOUND_ENDPOINTS, T_EFFECTIVE_ROUTES})
