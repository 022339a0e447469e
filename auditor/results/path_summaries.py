"""Plain-data summaries of each cluster's egress path, for renderers and for compliance counts.

Renderers must stay pure functions of the scan result and never see the model, yet the HTML
report draws every cluster's path (cluster -> subnet -> route table -> next hop -> firewall ->
rules). So the engine flattens each `EgressPath` into strings here, once, while it still holds
the estate. The same summaries tell the engine which resources concern which cluster.
"""
from __future__ import annotations

from dataclasses import dataclass

from aksaudit.analysis.egress_paths import FIREWALL, EgressPath
from aksaudit.results.findings import subscription_of
from aksaudit.model.estate import Estate
from aksaudit.model.row_fields import id_key, last_segment
from aksaudit.analysis.rulesets import effective_rules


@dataclass(frozen=True)
class HopSummary:
    """One route that decides where the subnet's Internet-bound traffic goes."""

    route_id: str
    route_name: str
    address_prefix: str
    next_hop_type: str
    next_hop_ip: str
    next_hop_kind: str  # egress.FIREWALL, UNKNOWN, ... ; '' when the route is not to an appliance
    firewall_id: str  # '' unless the next hop resolved to a firewall
    firewall_name: str


@dataclass(frozen=True)
class FirewallSummary:
    """A firewall the path reaches, and where the rules it applies come from."""

    id: str
    name: str
    rule_owner_ids: tuple[str, ...]  # policies and rule collection groups (the firewall itself for classic rules)


@dataclass(frozen=True)
class PathSummary:
    """One cluster subnet's egress path; `subnet_id` is '' for a cluster in an AKS-managed VNet."""

    cluster_id: str
    cluster_name: str
    subscription_id: str
    pools: tuple[str, ...]
    subnet_id: str
    subnet_name: str
    network_ids: tuple[str, ...]  # the subnet's VNet and its peerings
    route_table_id: str  # as the subnet references it, even when the table itself is unreadable
    route_table_name: str
    other_route_ids: tuple[str, ...]  # routes of the table that do not decide Internet egress
    hops: tuple[HopSummary, ...]
    firewalls: tuple[FirewallSummary, ...]
    gap: str  # why the path could not be fully read ('' when it could)

    @property
    def resource_ids(self) -> frozenset[str]:
        """Lower-cased ids of every resource on the path: a finding on any of them concerns the cluster."""
        return self.own_resource_ids | {key for firewall in self.firewalls for key in firewall_resource_ids(firewall)}

    @property
    def own_resource_ids(self) -> frozenset[str]:
        """`resource_ids` without the firewalls': what this path alone holds (a hub's firewall and
        its policies are on every spoke's path, so an index takes them once per firewall)."""
        ids = {self.cluster_id, self.subnet_id, self.route_table_id, *self.network_ids, *self.other_route_ids}
        ids.update(hop.route_id for hop in self.hops)
        return frozenset(id_key(i) for i in ids if i)


def firewall_resource_ids(firewall: FirewallSummary) -> frozenset[str]:
    """Lower-cased ids of a firewall and of what holds its rules."""
    return frozenset(id_key(i) for i in (firewall.id, *firewall.rule_owner_ids) if i)


def _hop(hop) -> HopSummary:
    route, next_hop = hop.route, hop.next_hop
    firewall = next_hop.firewall if next_hop and next_hop.kind == FIREWALL else None
    return HopSummary(
        route_id=route.id, route_name=route.name, address_prefix=route.address_prefix,
        next_hop_type=route.next_hop_type, next_hop_ip=route.next_hop_ip,
        next_hop_kind=next_hop.kind if next_hop else "",
        firewall_id=firewall.id if firewall else "", firewall_name=firewall.header.name if firewall else "",
    )


def _summary(estate: Estate, path: EgressPath, firewalls: dict[str, FirewallSummary]) -> PathSummary:
    cluster = path.cluster
    table_id = path.subnet.route_table_id if path.subnet else ""
    deciding = {id_key(h.route.id) for h in path.hops}
    other_routes = tuple(r.id for r in path.route_table.routes if id_key(r.id) not in deciding) if path.route_table else ()
    vnet = path.vnet
    return PathSummary(
        cluster_id=cluster.id, cluster_name=cluster.header.name, subscription_id=subscription_of(cluster.id),
        pools=path.pools, subnet_id=path.subnet_id, subnet_name=path.subnet.name if path.subnet else last_segment(path.subnet_id),
        network_ids=(vnet.id, *(p.id for p in vnet.peerings)) if vnet else (),
        route_table_id=table_id,
        route_table_name=path.route_table.header.name if path.route_table else last_segment(table_id) if table_id else "",
        other_route_ids=other_routes,
        hops=tuple(_hop(h) for h in path.hops),
        firewalls=tuple(_firewall(estate, f, firewalls) for f in path.firewalls),
        gap=path.gap,
    )


def _firewall(estate: Estate, firewall, known: dict[str, FirewallSummary]) -> FirewallSummary:
    """One summary per firewall however many paths reach it (a hub's serves hundreds of spokes)."""
    found = known.get(firewall.id)
    if found is None:
        found = known[firewall.id] = FirewallSummary(firewall.id, firewall.header.name,
                                                     effective_rules(estate, firewall).owner_ids)
    return found


def _managed_vnet(cluster) -> PathSummary:
    return PathSummary(cluster.id, cluster.header.name, subscription_of(cluster.id),
                       tuple(p.name for p in cluster.pools), "", "", (), "", "", (), (), (), "")


def summarize_paths(estate: Estate) -> tuple[PathSummary, ...]:
    """Every cluster appears at least once: a cluster without subnets of its own gets an empty path."""
    firewalls: dict[str, FirewallSummary] = {}
    summaries = [_summary(estate, path, firewalls) for path in estate.egress_paths]
    covered = {id_key(s.cluster_id) for s in summaries}
    summaries += [_managed_vnet(c) for c in estate.clusters.values() if id_key(c.id) not in covered]
    summaries.sort(key=lambda s: (s.cluster_name.lower(), id_key(s.cluster_id), id_key(s.subnet_id)))
    return tuple(summaries)
