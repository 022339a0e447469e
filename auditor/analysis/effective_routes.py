"""Does Azure route an AKS subnet's Internet traffic where the analysed route table says it goes?

The model steers public destinations with the subnet's route table (longest prefix wins), then
with a secured hub's routing for what the table leaves uncovered, then with Azure's system route
to the Internet. Azure's effective routes for a NIC of the subnet are what it really applies:
the same user routes, plus routes the model cannot see, above all those learned over BGP from a
VPN or ExpressRoute gateway or a route server (source `VirtualNetworkGateway`) when the route
table lets gateway routes propagate. A learned prefix longer than the user route for the same
destinations wins, and so does a learned `0.0.0.0/0` when the table has no route of its own.

Both views are cut into the same slices of the public IPv4 space and compared slice by slice;
adjacent slices that disagree the same way are merged, so each disagreement names one address
range, Azure's winning route, and the model's. Only `Active` effective routes count (an
`Invalid` one, such as a user route to an appliance IP no NIC holds, is not applied). On a tie
in prefix length Azure prefers a user route, then a BGP-learned one, then a system route.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aksaudit.model.resources import EffectiveRoute, EffectiveRouteTable, IPNetwork, Route
from .addresses import AddressSet
from .egress_paths import FIREWALL, EgressPath
from .intervals import IntervalSet
from .route_partition import public_slices

if TYPE_CHECKING:
    from aksaudit.model.estate import Estate

# Azure's order among routes of equal prefix length (Virtual network traffic routing, "How Azure
# selects a route"): user-defined, then BGP, then system routes.
_SOURCE_RANK = {"user": 0, "virtualnetworkgateway": 1}


@dataclass(frozen=True)
class ModelHop:
    """Where the analysed routing sends a slice: a route of the table, a secured hub, or the system route."""

    next_hop_type: str  # VirtualAppliance, Internet, None, VirtualNetworkGateway, VnetLocal, or "hub"
    ips: tuple[str, ...]  # the appliance IP, or the hub firewall's private IPs
    route: Route | None  # the winning route of the table, None for the hub or the system route
    steered: str  # "firewall <name>" when the model sends it to a known firewall, else ''

    def describe(self) -> str:
        if self.route is not None:
            hop = f"{self.route.next_hop_type} {self.route.next_hop_ip}".strip()
            what = f"route '{self.route.name}' ({self.route.address_prefix} -> {hop})"
        elif self.next_hop_type == "hub":
            what = f"the secured hub's routing (to {', '.join(self.ips) or 'its firewall'})"
        else:
            what = "Azure's system route to the Internet"
        return f"{what}, {'steered to ' + self.steered if self.steered else 'not steered to a firewall'}"


@dataclass(frozen=True)
class Disagreement:
    ranges: tuple[str, ...]  # the public destinations concerned, as CIDRs or ranges
    azure: EffectiveRoute | None  # None: Azure has no route for them (dropped)
    model: ModelHop
    everything: bool = False  # the ranges are the whole public IPv4 space

    def describe_ranges(self) -> str:
        if self.everything:
            return "every public IPv4 destination"
        more = f" and {len(self.ranges) - 1} more ranges" if len(self.ranges) > 1 else ""
        return f"public destinations {self.ranges[0]}{more}"

    @property
    def learned(self) -> bool:
        """Azure's winner is a route the model cannot see: learned over BGP from a gateway or route server."""
        return self.azure is not None and self.azure.source.lower() == "virtualnetworkgateway"

    def describe_azure(self) -> str:
        return self.azure.describe() if self.azure else "no route (traffic is dropped)"


def _model_hop(estate: "Estate", path: EgressPath, start: int, end: int) -> ModelHop:
    best: Route | None = None
    for route in path.route_table.routes if path.route_table else ():
        network = route.network
        if network is None or network.version != 4:
            continue
        low = int(network.network_address)
        if low <= start and end <= low + network.num_addresses and (best is None or network.prefixlen > best.network.prefixlen):
            best = route
    if best is not None:
        hop = next((h for h in (*path.hops, *path.exception_hops) if h.route.id == best.id), None)
        firewall = hop.next_hop.firewall if hop and hop.next_hop and hop.next_hop.kind == FIREWALL else None
        steered = f"firewall '{firewall.header.name}'" if firewall else ""
        return ModelHop(best.next_hop_type, (best.next_hop_ip,) if best.next_hop_ip else (), best, steered)
    if path.hub_steered:
        firewall = path.hub_route.firewall
        ips = tuple(firewall.private_ips) if firewall else ()
        return ModelHop("hub", ips, None, f"firewall '{firewall.header.name}'" if firewall else "the hub firewall")
    return ModelHop("Internet", (), None, "")


def _azure_route(routes: tuple[tuple[IPNetwork, EffectiveRoute], ...], start: int, end: int) -> EffectiveRoute | None:
    best: tuple[int, int, int] | None = None
    found = None
    for index, (network, route) in enumerate(routes):
        low = int(network.network_address)
        if low <= start and end <= low + network.num_addresses:
            key = (-network.prefixlen, _SOURCE_RANK.get(route.source.lower(), 2), index)
            if best is None or key < best:
                best, found = key, route
    return found


def _agrees(model: ModelHop, azure: EffectiveRoute | None) -> bool:
    if azure is None:
        return model.next_hop_type.lower() == "none"
    azure_type = azure.next_hop_type.lower()
    if model.next_hop_type == "hub":
        # Virtual WAN hands the hub's default route to a connected spoke as a gateway-learned route
        # to the hub firewall; an IP, when Azure names one, must be that firewall's.
        return azure.source.lower() == "virtualnetworkgateway" and (
            not azure.next_hop_ips or bool(set(azure.next_hop_ips) & set(model.ips)))
    if azure_type != model.next_hop_type.lower():
        return False
    return azure_type != "virtualappliance" or bool(set(azure.next_hop_ips) & set(model.ips))


def compare_effective_routes(estate: "Estate", path: EgressPath, table: EffectiveRouteTable) -> tuple[Disagreement, ...]:
    """Where Azure's effective routes and the analysed steering disagree about public IPv4 destinations."""
    active = tuple((network, route) for route in table.routes if route.active
                   for network in route.prefixes if network.version == 4)
    own = [r.network for r in (path.route_table.routes if path.route_table else ()) if r.network is not None]
    spans: dict[tuple[int, int], tuple[EffectiveRoute | None, ModelHop, list[tuple[int, int]]]] = {}
    for start, end in public_slices([*own, *(n for n, _ in active)]):
        azure = _azure_route(active, start, end)
        model = _model_hop(estate, path, start, end)
        if _agrees(model, azure):
            continue
        key = (id(azure), hash(model))
        spans.setdefault(key, (azure, model, []))[2].append((start, end))
    whole = IntervalSet.of(public_slices([]))
    return tuple(Disagreement(tuple(AddressSet(v4=IntervalSet.of(slices)).describe()), azure, model,
                              IntervalSet.of(slices) == whole)
                 for azure, model, slices in spans.values())
