"""Azure's effective routes send Internet traffic where the route table does not.

**What it checks**
With `--effective-routes`, a live scan reads the routes Azure really applies to one node network
interface of each AKS node subnet (Network Interfaces - Get Effective Route Table) and keeps them
in the snapshot. For every slice of the public IPv4 space this check compares Azure's winning
`Active` route (longest prefix; on a tie a `User` route, then a `VirtualNetworkGateway` one, then
a `Default` one) with the steering the route table gives (the table's winning route, else a
secured hub's routing, else the system route to the Internet). A slice where the two disagree,
above all one won by a route learned over BGP (source `VirtualNetworkGateway`: a `0.0.0.0/0` or
public prefixes from VPN, ExpressRoute or Route Server), fails the subnet, with both views as
evidence. A subnet whose effective routes could not be read is `skipped`, naming why (the
scan is then incomplete); without `--effective-routes` nothing is judged.

**Why it matters**
Every offline check reasons about the route table. When the table lets gateway routes propagate
(`disableBgpRoutePropagation: false`, the default), routes learned from on-premises win wherever
their prefix is longer than the table's, and a learned `0.0.0.0/0` wins outright when the table
has no default route: the cluster's Internet traffic then leaves through the gateway, past the
firewall, while the table still looks right.

**How to fix**
Set `disableBgpRoutePropagation` on the AKS subnet's route table (`az network route-table update
--disable-bgp-route-propagation true`) and give on-premises prefixes the subnet needs explicit
routes to the firewall or the gateway; or stop advertising the public prefixes and `0.0.0.0/0`
to the VNet (on the on-premises router, the ExpressRoute circuit or the route server's peers).
Then run the live scan with `--effective-routes` again.
"""
from dataclasses import dataclass

from aksaudit.api import (
    T_CLUSTER, T_EFFECTIVE_ROUTES, T_FIREWALL, T_PUBLIC_IP, T_ROUTE_TABLE, T_VNET, CheckMeta, FixKind, Severity,
    compare_effective_routes, evidence_dict, fail, id_key, passed, skipped,
)
from aksaudit.checks.evidence import path_gap, unread_pools


@dataclass(frozen=True)
class AzureRoute:
    """One effective route as the network API reported it."""

    source: str
    state: str
    address_prefixes: tuple[str, ...]
    next_hop_type: str
    next_hop_ips: tuple[str, ...]


@dataclass(frozen=True)
class ModelView:
    """Where the route table's steering sends the same destinations."""

    route: str  # the winning route's id, '' for a secured hub's routing or the system route
    next_hop_type: str
    next_hop_ips: tuple[str, ...]
    steered_to: str  # "firewall '<name>'", or '' when no firewall


@dataclass(frozen=True)
class RouteDisagreement:
    destinations: tuple[str, ...]
    model: ModelView
    azure: AzureRoute | None = None  # absent: Azure has no route for them


@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """Both views of the subnet's Internet routing, as the fix procedure prints them."""

    cluster: str
    subnet: str
    network_interface: str
    gateway_propagation: bool
    disagreements: tuple[RouteDisagreement, ...]
    effective_routes: tuple[AzureRoute, ...]
    route_table: str | None = None

META = CheckMeta(
    id="UDR009",
    slug="effective-route-bypasses-firewall",
    title="Azure's effective routes send Internet traffic where the route table does not",
    severity=Severity.HIGH,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_PUBLIC_IP, T_EFFECTIVE_ROUTES),
    references=("https://learn.microsoft.com/rest/api/virtualnetwork/network-interfaces/get-effective-route-table",
                "https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview",
                "https://learn.microsoft.com/azure/virtual-network/diagnose-network-routing-problem"),
    tags=("egress", "routing", "live"),
)


def _route(route) -> AzureRoute:
    return AzureRoute(route.source, route.state, tuple(str(p) for p in route.prefixes), route.next_hop_type,
                      tuple(route.next_hop_ips))


def _evidence(path, table, disagreements) -> dict:
    return evidence_dict(FixEvidence(
        cluster=path.cluster.id, subnet=path.subnet_id, network_interface=table.nic_id,
        route_table=path.route_table.id if path.route_table else None,
        gateway_propagation=not path.route_table.disable_bgp_route_propagation if path.route_table else True,
        disagreements=tuple(RouteDisagreement(
            destinations=d.ranges, azure=_route(d.azure) if d.azure else None,
            model=ModelView(d.model.route.id if d.model.route else "", d.model.next_hop_type, d.model.ips,
                            d.model.steered)) for d in disagreements),
        effective_routes=tuple(_route(r) for r in table.routes)))


def evaluate(estate, options):
    lookups = estate.route_lookups
    # A row that could not be read, its type included, is still an effective-route row by its id.
    unreadable = [r for r in estate.rejected if r.kind == T_EFFECTIVE_ROUTES
                  or (r.resource_id or "").lower().endswith("/effectiveroutetable")]
    if lookups is None and not estate.effective_routes and not unreadable:
        return  # no --effective-routes: nothing was asked of Azure, nothing to compare
    for row in unreadable:  # which subnet it was for is unknown: the row says so itself
        yield skipped(row.resource_id or T_EFFECTIVE_ROUTES, f"Azure's effective routes could not be read: {row.reason}")
    yield from unread_pools(estate)
    judged = set()
    for path in estate.egress_paths:
        key = id_key(path.subnet_id)
        node_subnet = any(id_key(p.vnet_subnet_id) == key for p in path.cluster.pools if p.vnet_subnet_id)
        if key in judged or not (node_subnet or key in estate.effective_routes):
            continue  # the option reads node subnets only, each once whatever the clusters sharing it
        judged.add(key)
        table = estate.effective_routes.get(key)
        if table is None:
            if lookups is None:
                # A snapshot holding effective routes without the record of the lookups: the
                # option was on, so a node subnet without them is a datum missing, never a pass.
                yield skipped(path.subnet_id, f"Azure's effective routes for AKS subnet '{path.subnet_id}': the "
                                              "snapshot holds effective routes of other subnets but none for this "
                                              "one, and no record of the lookups says why")
                continue
            why = lookups.get(key) or ("the row holding them could not be read" if key in lookups
                                       else "the scan's record of effective-route lookups does not name the subnet")
            yield skipped(path.subnet_id, f"Azure's effective routes for AKS subnet '{path.subnet_id}': {why}")
            continue
        gap = path_gap(path)
        if gap:
            yield gap
            continue
        if path.hub_unknown:
            yield skipped(path.subnet_id, path.hub_unknown)
            continue
        found = compare_effective_routes(estate, path, table)
        if not found:
            yield passed(path.subnet_id)
            continue
        worst = next((d for d in found if d.learned), found[0])
        more = f" ({len(found) - 1} more disagreement(s) in the evidence)" if len(found) > 1 else ""
        yield fail(path.subnet_id,
                   f"Azure routes {worst.describe_ranges()} from AKS subnet "
                   f"'{path.subnet.name}' by {worst.describe_azure()}; the route table's steering is "
                   f"{worst.model.describe()}{more}.",
                   evidence=_evidence(path, table, found))
