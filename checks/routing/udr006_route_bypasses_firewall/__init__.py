"""Route punches a hole in egress filtering.

**What it checks**
Besides the routes that decide Internet-bound traffic as a whole, the route table of an AKS
subnet may hold narrower routes for public prefixes (they win by longest-prefix match) and routes
whose prefix is a service tag. Each of them must not send its traffic to `Internet`, nor to a
`VirtualAppliance` IP that is not a firewall reachable from the subnet. Not flagged: the
documented `<firewall public IP>/32 -> Internet` host route (it keeps DNAT replies symmetric),
prefixes and service tags listed in the `allowed_prefixes` option, and appliance IPs listed in
`approved_appliances`.

**Why it matters**
A `/8 -> Internet` or `AzureCloud -> Internet` route sends everything in that range straight out,
unfiltered, while the table still shows a default route to the firewall. Such routes are often
added to "fix" one blocked dependency and then forgotten; `AzureCloud` alone covers every tenant's
Azure-hosted service, attackers' included.

**How to fix**
Delete the route (`az network route-table route delete`) and allow the destination on the
firewall instead, or, if the direct path is a deliberate decision, record the prefix in the
`allowed_prefixes` option of UDR006 so the exception is documented and reviewed.
"""
from dataclasses import dataclass

from aksaudit.api import (
    FIREWALL, T_CLUSTER, T_FIREWALL, T_PUBLIC_IP, T_ROUTE_TABLE, T_VNET, UNRESOLVED, RouteEvidence, CheckMeta, FixKind, Estate, Route,
    Severity, fail, parse_network, passed, skipped,
)
from aksaudit.checks.evidence import path_gap, route_evidence, unread_pools

@dataclass(frozen=True, kw_only=True)
class FixEvidence(RouteEvidence):
    """What the fix reads: the RouteEvidence alone."""


META = CheckMeta(
    id="UDR006",
    slug="route-bypasses-firewall",
    title="Route punches a hole in egress filtering",
    severity=Severity.MEDIUM,
    fix=FixKind.DISRUPTIVE,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_PUBLIC_IP),
    references=("https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("egress", "routing"),
    options={"allowed_prefixes": (), "approved_appliances": ()},
)


def _allowed(route: Route, allowed: list[str]) -> bool:
    for entry in allowed:
        network = parse_network(entry)
        if network is None:
            if route.network is None and entry.strip().lower() == route.address_prefix.strip().lower():
                return True
        elif route.network is not None and route.network.version == network.version \
                and route.network.subnet_of(network):
            return True
    return False


def _firewall_host_route(estate: Estate, route: Route) -> bool:
    network = route.network
    return network is not None and network.num_addresses == 1 \
        and estate.firewall_owning_public_ip(str(network.network_address)) is not None


def evaluate(estate, options):
    yield from unread_pools(estate)
    allowed = [str(p) for p in options.get("allowed_prefixes", ())]
    approved = {str(ip).strip() for ip in options.get("approved_appliances", ())}
    for path in estate.egress_paths:
        gap = path_gap(path)
        if gap:
            yield gap
            continue
        for hop in path.exception_hops:
            route, next_hop = hop.route, hop.next_hop
            hop_type = route.next_hop_type.lower()
            if _allowed(route, allowed) or (hop_type == "internet" and _firewall_host_route(estate, route)):
                yield passed(route.id)
            elif hop_type == "internet":
                yield fail(route.id,
                           f"Route '{route.name}' sends {route.address_prefix} from AKS subnet '{path.subnet.name}' "
                           "straight to the Internet, around the firewall.",
                           evidence=route_evidence(estate, path, route))
            elif next_hop is None or next_hop.kind == FIREWALL or next_hop.ip in approved:
                yield passed(route.id)
            elif next_hop.kind == UNRESOLVED:
                yield skipped(route.id, f"cannot tell what {next_hop.ip} is: {next_hop.reason}")
            else:
                yield fail(route.id,
                           f"Route '{route.name}' sends {route.address_prefix} from AKS subnet '{path.subnet.name}' "
                           f"to {next_hop.ip or '(no IP)'}, which is not a firewall reachable from its VNet.",
                           evidence=route_evidence(estate, path, route))
