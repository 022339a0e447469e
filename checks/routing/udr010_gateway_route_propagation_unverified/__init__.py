"""Gateway route propagation can override egress steering.

**What it checks**
An AKS node or pod subnet whose route table lets gateway routes propagate
(`properties.disableBgpRoutePropagation` false or absent: the network API's default is false), or
that has no route table at all, in a VNet that learns routes over BGP: a VPN or ExpressRoute
gateway whose IP configuration sits in its `GatewaySubnet`, a route server in its
`RouteServerSubnet` (`properties.subnets[].properties.ipConfigurations`; such a subnet whose
row lists none at all counts as one that may hold one), or a peering with `useRemoteGateways:
true` (the remote VNet's gateway and its learned routes). An offline scan
cannot see those routes, so the subnet fails as a risk; once a live scan with `--effective-routes`
has read the subnet's effective routes, UDR009 judges the real routes and this check passes it.
A VNet whose subnets or peerings could not be read is `skipped`.

**Why it matters**
Routes learned from on-premises win wherever their prefix is longer than the route table's, and
a learned `0.0.0.0/0` wins outright over a table without a default route. Whether any public
prefix is advertised is decided outside Azure, on routers the route table does not show, and can
change at any time: the firewall steering every other check verifies may not be the routing
Azure applies.

**How to fix**
Set `disableBgpRoutePropagation` on the route table (`az network route-table update
--disable-bgp-route-propagation true`) and add explicit routes for the on-premises prefixes the
cluster needs (to the firewall, which forwards them to the gateway); or, when propagation is
needed, run live scans with `--effective-routes` so UDR009 compares what Azure applies.
"""
from dataclasses import dataclass

from aksaudit.api import (
    T_CLUSTER, T_EFFECTIVE_ROUTES, T_ROUTE_TABLE, T_VNET, CheckMeta, FixKind, Severity, evidence_dict, fail, id_key,
    passed, skipped,
)
from aksaudit.checks.evidence import path_gap, unread_pools


@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """The subnet, its route table (absent when it has none) and where its VNet learns routes from."""

    cluster: str
    subnet: str
    vnet: str
    route_sources: tuple[str, ...]  # gateway or route server ids, and peerings with useRemoteGateways
    route_table: str | None = None

META = CheckMeta(
    id="UDR010",
    slug="gateway-route-propagation-unverified",
    title="Gateway route propagation can override egress steering",
    severity=Severity.LOW,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_EFFECTIVE_ROUTES),
    references=("https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#border-gateway-protocol",
                "https://learn.microsoft.com/azure/virtual-network/manage-route-table#change-a-route-table",
                "https://learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview#gateways-and-on-premises-connectivity"),
    tags=("egress", "routing", "hybrid"),
)


def _learns(vnet) -> tuple[dict[str, str], str]:
    """Where the VNet's subnets learn BGP routes from (gateway or route server id, or peering id ->
    how it reads in a message), and why that could not be read ('' when it could)."""
    unread = vnet.subnets_unread or vnet.peerings_unread
    sources = {source: f"'{source.rsplit('/', 1)[-1]}'" if "/subnets/" not in source.lower()
               else f"whatever its '{source.rsplit('/', 1)[-1]}' holds (the row does not list its ipConfigurations)"
               for source in vnet.route_sources}
    sources.update({p.id: f"the remote gateway of VNet '{p.remote_vnet_id.rsplit('/', 1)[-1]}' (peering "
                          f"'{p.name}' has useRemoteGateways)" for p in vnet.peerings if p.use_remote_gateways and p.connected})
    # A peering whose state or remote end could not be read may be a connected one using the
    # remote VNet's gateway: the risk is reported rather than assumed away.
    sources.update({p.id: f"possibly the remote gateway of peering '{p.name or p.id}' (its state or remote VNet "
                          f"could not be read)" for p in vnet.peerings if not p.state or not p.remote_vnet_id})
    return sources, unread


def evaluate(estate, options):
    yield from unread_pools(estate)
    seen = set()
    for path in estate.egress_paths:
        key = id_key(path.subnet_id)
        if key in seen:
            continue
        seen.add(key)
        gap = path_gap(path)
        if gap:
            yield gap
            continue
        if path.vnet is None:
            yield skipped(path.subnet_id, f"the virtual network of AKS subnet '{path.subnet_id}' was not read, so "
                                          f"whether it learns gateway routes is unknown")
            continue
        table = path.route_table
        resource = path.subnet_id  # the subnet is at risk; the fix is on its route table (evidence)
        if table is not None and table.disable_bgp_route_propagation:
            yield passed(resource)
            continue
        sources, unread = _learns(path.vnet)
        if unread and not sources:
            yield skipped(resource, f"whether VNet '{path.vnet.header.name}' learns gateway routes is unknown: {unread}")
            continue
        if not sources or key in estate.effective_routes:
            yield passed(resource)  # nothing to learn from, or UDR009 compared the real routes
            continue
        where = f"route table '{table.header.name}' lets" if table else "with no route table, Azure lets"
        yield fail(resource,
                   f"AKS subnet '{path.subnet.name}': {where} gateway routes propagate, and VNet "
                   f"'{path.vnet.header.name}' learns routes over BGP from {', '.join(sources.values())}: "
                   f"a learned public prefix or 0.0.0.0/0 can win over the firewall route. Only a live scan "
                   f"with --effective-routes can show whether one does.",
                   evidence=evidence_dict(FixEvidence(cluster=path.cluster.id, subnet=path.subnet_id, vnet=path.vnet.id,
                                                      route_table=table.id if table else None,
                                                      route_sources=tuple(sources))))
