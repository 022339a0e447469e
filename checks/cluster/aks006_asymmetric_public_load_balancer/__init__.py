"""Public load balancer behind a firewall route: asymmetric routing.

**What it checks**
For a cluster whose Internet-bound traffic goes to an appliance (a route to a
`VirtualAppliance`, or a Virtual WAN hub's routing intent), no load balancer in the cluster's node
resource group may have a public frontend IP that serves inbound traffic (a frontend used by
load-balancing or inbound NAT rules; one carrying only outbound rules is not inbound). Such a
frontend is what a Kubernetes `Service` of type `LoadBalancer` gets when it is exposed publicly.

When the scan could not read what decides this (the cluster's pools or node resource group, a
subnet or route table on its egress path, a hub's routing, or a load balancer's frontends) the
load balancers concerned, or the cluster, are `skipped`, naming the datum.

**Why it matters**
Requests arrive on the load balancer's public IP straight from the Internet, but the replies
follow the subnet's default route to the firewall's private IP. The firewall is stateful and has
never seen the connection, so it drops the replies: the service looks up to Azure and dead to
its users, and the tempting "fix" is to remove the default route.

**How to fix**
Expose the service through the firewall instead: make it internal
(`service.beta.kubernetes.io/azure-load-balancer-internal: "true"`), add a DNAT rule from the
firewall's public IP to the internal load balancer IP, and add the host route
`<firewall public IP>/32 -> Internet` to the subnet's route table. Or use an ingress path that
does not share the route table (Application Gateway in its own subnet).
"""
from dataclasses import dataclass

from aksaudit.api import (
    T_CLUSTER, T_LOAD_BALANCER, T_PUBLIC_IP, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_VNET, CheckMeta, FixKind, Severity, fail, passed,
    skipped,
)

@dataclass(frozen=True, kw_only=True)
class PublicFrontend:
    name: str
    public_ip: str | None
    address: str | None


@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    cluster: str
    node_resource_group: str
    frontends: tuple[PublicFrontend, ...]


META = CheckMeta(
    id="AKS006",
    slug="asymmetric-public-load-balancer",
    title="Public load balancer behind a firewall route: asymmetric routing",
    severity=Severity.MEDIUM,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_LOAD_BALANCER, T_PUBLIC_IP),
    references=("https://learn.microsoft.com/azure/firewall/integrate-lb",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("cluster", "egress", "ingress"),
)


def _appliance_routes(estate, cluster, paths=None) -> list[str]:
    """What sends the cluster's Internet traffic to an appliance: route ids or hub connection ids."""
    found = []
    for path in estate.egress_paths if paths is None else paths:
        if path.cluster is not cluster:
            continue
        found += [hop.route.id for hop in path.hops if hop.route.to_appliance]
        if path.hub_steered:
            found.append(path.hub_route.connection.id)
    return sorted(set(found))


def _routing_unknown(cluster, paths) -> str:
    """Why the cluster's Internet traffic might go to an appliance without the scan seeing it:
    pools not read, a subnet or route table not read, or a hub whose routing was not read."""
    gaps = [cluster.pools_unread] + [p.gap for p in paths] + [p.hub_unknown for p in paths]
    return "; ".join(sorted({gap for gap in gaps if gap}))


def evaluate(estate, options):
    by_cluster: dict[int, list] = {}  # one pass over the paths, not one per cluster (that was quadratic)
    for path in estate.egress_paths:
        by_cluster.setdefault(id(path.cluster), []).append(path)
    for cluster in estate.clusters.values():
        paths = by_cluster.get(id(cluster), ())
        routes = _appliance_routes(estate, cluster, paths)
        if cluster.node_resource_group_unread:
            # Its load balancers cannot be found: say so against the cluster the gap is in.
            yield skipped(cluster.id, cluster.node_resource_group_unread)
            continue
        if not cluster.node_resource_group:
            continue
        balancers = estate.load_balancers_in(cluster.header.subscription_id, cluster.node_resource_group)
        if not routes:
            unknown = _routing_unknown(cluster, paths)
            for balancer in balancers if unknown else ():
                yield skipped(balancer.id, unknown)
            continue
        for balancer in balancers:
            public = [f for f in balancer.frontends if f.public_ip_id and f.serves_inbound]
            if not public:
                yield skipped(balancer.id, balancer.unread) if balancer.unread else passed(balancer.id)
                continue
            addresses = {}
            for frontend in public:
                ip = estate.public_ip(frontend.public_ip_id)
                addresses[frontend.name] = ip.address if ip else ""
            yield fail(balancer.id,
                       f"Load balancer '{balancer.header.name}' of cluster '{cluster.header.name}' has public "
                       f"frontend(s) {', '.join(f.name for f in public)}, but the cluster's default route goes to "
                       "the firewall: replies to inbound connections return through it and are dropped.",
                       evidence={"cluster": cluster.id, "load_balancer": balancer.id,
                                 "node_resource_group": cluster.node_resource_group,
                                 "frontends": [{"name": f.name, "public_ip": f.public_ip_id,
                                                "address": addresses[f.name]} for f in public],
                                 "egress_via": routes})
