"""Dual-stack cluster's IPv6 Internet traffic is not filtered by a firewall.

**What it checks**
For every cluster whose `networkProfile.ipFamilies` includes `IPv6`, where each node and pod
subnet sends public IPv6 destinations (global unicast `2000::/3`), by longest-prefix match over
the subnet's routes: every such destination must be decided by a `VirtualAppliance` route to a
firewall that can filter IPv6 (or an appliance IP listed in `approved_appliances`), or by a
route to `None` (dropped). It fails on the route that sends IPv6 Internet traffic elsewhere, on
the route table (or the subnet without one) that leaves public IPv6 space to Azure's system
route, and on the cluster when its outbound type gives it a load balancer or NAT gateway path.
A firewall counts only as Azure documents IPv6 support, which this check relies on:

* Azure Firewall filters IPv6 only in dual stack mode (preview), with network rules; application
  and DNAT rules, threat intelligence and IP Groups do not apply to IPv6 traffic.
* Classic Azure Firewall (rules on the firewall, no firewall policy) and the firewall of a Virtual
  WAN secured hub do not support IPv6: a route to either, or a secured hub's routing, leaves
  IPv6 unfiltered.
* AKS dual-stack clusters get both address families on nodes and pods; with outbound type
  `loadBalancer` AKS configures outbound rules for IPv6 as for IPv4, and with
  `userDefinedRouting` a default route for IPv6 is the operator's choice (AKS only warns when it
  is missing).

A route or next hop that cannot be read makes the verdict `skipped`, naming it.

**Why it matters**
Kubernetes prefers whichever family a destination resolves to, and most large services publish
AAAA records: an IPv4 default route to the firewall controls only half of a dual-stack cluster's
egress, while the route table looks complete. IPv6 traffic that leaves directly, or reaches a
firewall that cannot filter it, is egress nobody inspects.

**How to fix**
Either make the cluster IPv4-only (`ipFamilies: ["IPv4"]`, a new cluster), or route `::/0` from
every AKS subnet to a dual-stack Azure Firewall that uses a firewall policy (its private IPv6
address as next hop, network rules for the IPv6 egress AKS needs), or drop IPv6 Internet traffic
with a `::/0 -> None` route. The remediation script prints this procedure: choosing between them
is a design decision.
"""
from dataclasses import dataclass

from aksaudit.api import (
    FIREWALL, T_CLUSTER, T_FIREWALL, T_PUBLIC_IP, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_VNET, UNRESOLVED, CheckMeta, FixKind,
    Firewall, Severity, fail, passed, skipped,
)
from aksaudit.checks.evidence import path_evidence

@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """Where a dual-stack cluster's IPv6 traffic leaves: its outbound type, or a subnet's route."""

    cluster: str
    outbound_type: str | None = None
    subnet: str | None = None
    subnet_name: str | None = None
    route_name: str | None = None
    address_prefix: str | None = None
    reason: str | None = None


META = CheckMeta(
    id="UDR008",
    slug="ipv6-egress-not-filtered",
    title="Dual-stack cluster's IPv6 Internet traffic is not filtered by a firewall",
    severity=Severity.HIGH,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    # hubs: a hub firewall's IP resolves only through the hub a VNet is connected to; public IPs:
    # a next hop that is a firewall's public IP is no firewall hop
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_PUBLIC_IP, T_VIRTUAL_HUB),
    references=("https://learn.microsoft.com/azure/firewall/deploy-dual-stack-firewall",
                "https://learn.microsoft.com/azure/aks/configure-dual-stack",
                "https://learn.microsoft.com/azure/aks/egress-outboundtype"),
    tags=("egress", "routing", "ipv6"),
    options={"approved_appliances": ()},
)

# Outbound types whose IPv6 egress AKS itself gives a public path (outbound rules, NAT gateway).
PUBLIC_OUTBOUND_TYPES = frozenset(t.lower() for t in (
    "loadBalancer", "managedNATGateway", "managedNATGatewayV2", "userAssignedNATGateway"))


def ipv6_unsupported(firewall: Firewall) -> str:
    """Why this Azure Firewall cannot filter IPv6, as Azure documents it ('' when it can)."""
    if firewall.virtual_hub_id or firewall.sku_name.lower() == "azfw_hub":
        return f"firewall '{firewall.header.name}' is a Virtual WAN hub firewall, which does not support IPv6"
    if not firewall.policy_id:
        return f"firewall '{firewall.header.name}' uses classic rules, and classic Azure Firewall does not support IPv6"
    return ""


def _evidence(estate, path, **extra) -> dict:
    return {**path_evidence(estate, path), "ip_families": list(path.cluster.ip_families), **extra}


def _judge_hop(estate, path, hop, approved):
    """The outcome for one route deciding public IPv6 destinations of the path."""
    route, next_hop = hop.route, hop.next_hop
    if route.next_hop_type.strip().lower() == "none":
        return passed(route.id)  # dropped: no IPv6 egress at all
    if next_hop is None:
        why = f"its next hop is '{route.next_hop_type}', not a firewall"
    elif next_hop.ip in approved:
        return passed(route.id)
    elif next_hop.kind == UNRESOLVED:
        return skipped(route.id, f"cannot tell what {next_hop.ip} is: {next_hop.reason}")
    elif next_hop.kind != FIREWALL:
        why = f"{next_hop.ip or '(no IP)'} is not a firewall reachable from its VNet"
    elif next_hop.blocked:
        why = f"the firewall cannot be reached: {next_hop.blocked}"
    else:
        why = ipv6_unsupported(next_hop.firewall)
        if not why:
            return passed(route.id)
    return fail(route.id, f"Route '{route.name}' ({route.address_prefix}) decides IPv6 Internet traffic of AKS subnet "
                          f"'{path.subnet.name}' (dual-stack cluster '{path.cluster.header.name}'), but {why}.",
                evidence=_evidence(estate, path, route=route.id, route_name=route.name,
                                   address_prefix=route.address_prefix, next_hop_type=route.next_hop_type,
                                   next_hop_ip=route.next_hop_ip, reason=why))


def _judge_path(estate, path, approved):
    if path.subnet is None:
        yield skipped(path.subnet_id, path.gap)
        return
    if path.subnet.route_table_id and path.route_table is None:
        yield skipped(path.subnet.route_table_id, path.gap)
        return
    if path.route_table is None:
        hub = " (a secured hub's firewall does not support IPv6)" if path.hub_steered else ""
        yield fail(path.subnet.id, f"AKS subnet '{path.subnet.name}' of dual-stack cluster '{path.cluster.header.name}' "
                                   f"has no route table: its IPv6 Internet traffic takes Azure's system route to the "
                                   f"Internet{hub}.", evidence=_evidence(estate, path))
        return
    decision = path.decision_v6
    if decision.unknown:
        yield skipped(path.route_table.id, "; ".join(decision.unknown))
        return
    if decision.uncovered:
        yield fail(path.route_table.id,
                   f"Route table '{path.route_table.header.name}' on AKS subnet '{path.subnet.name}' of dual-stack "
                   f"cluster '{path.cluster.header.name}' has no route covering public IPv6 destinations (no ::/0 or "
                   f"covering set): they take Azure's system route to the Internet.", evidence=_evidence(estate, path))
    else:
        yield passed(path.route_table.id)
    for hop in path.hops_v6:
        yield _judge_hop(estate, path, hop, approved)
    for route in decision.exceptions:
        if route.next_hop_type.strip().lower() == "internet":
            yield fail(route.id, f"Route '{route.name}' sends {route.address_prefix} from AKS subnet "
                                 f"'{path.subnet.name}' straight to the Internet over IPv6, around any firewall.",
                       evidence=_evidence(estate, path, route=route.id, route_name=route.name,
                                          address_prefix=route.address_prefix, next_hop_type=route.next_hop_type))


def evaluate(estate, options):
    approved = {str(ip).strip() for ip in options.get("approved_appliances", ())}
    by_cluster: dict[int, list] = {}  # one pass over the paths, not one per cluster
    for path in estate.egress_paths:
        by_cluster.setdefault(id(path.cluster), []).append(path)
    for cluster in estate.clusters.values():
        families_unread = cluster.unread("properties.networkProfile", "properties.networkProfile.ipFamilies")
        if families_unread:
            yield skipped(cluster.id, f"whether the cluster is dual-stack is unknown: {families_unread}")
            continue
        if not cluster.dual_stack:
            continue
        outbound = cluster.outbound_type.strip()
        if cluster.pools_unread:
            yield skipped(cluster.id, cluster.pools_unread)
        elif not outbound:
            yield skipped(cluster.id, "the cluster row carries no networkProfile.outboundType, so whether AKS gives "
                                      "its IPv6 traffic a public egress path is unknown")
        elif outbound.lower() in PUBLIC_OUTBOUND_TYPES:
            yield fail(cluster.id, f"Dual-stack cluster '{cluster.header.name}' has outboundType '{outbound}': AKS "
                                   f"gives its IPv6 traffic a public egress path that no firewall filters.",
                       evidence={"cluster": cluster.id, "outbound_type": outbound,
                                 "ip_families": list(cluster.ip_families)})
        elif outbound.lower() == "block":
            yield passed(cluster.id)  # AKS blocks all outbound traffic
        else:
            for path in by_cluster.get(id(cluster), []):
                yield from _judge_path(estate, path, approved)
