"""API server's authorized IP ranges leave out the firewall's egress addresses.

**What it checks**
For a cluster whose API server is public and restricted (`properties.apiServerAccessProfile.
authorizedIPRanges` non-empty) and whose node subnets send their Internet traffic to an Azure
Firewall (a UDR to the firewall's private IP, or a Virtual WAN secured hub's routing), every
public address the firewall's traffic leaves from must lie in those ranges. Ranges are compared
as address sets: `20.1.0.0/16` admits `20.1.2.3` as surely as `20.1.2.3/32` does. The firewall's
addresses are the public IP resources of its IP configurations (`ipConfigurations[].properties.
publicIPAddress`, not the management one) or, for a secured hub's firewall,
`hubIPAddresses.publicIPs.addresses`. `0.0.0.0/32` is AKS's spelling of "only the cluster's own
load balancer outbound IP": it admits no firewall address.

Not applicable to a private cluster (`enablePrivateCluster: true`: AKS does not support the
ranges there), to API server VNet integration (`enableVnetIntegration: true`: nodes reach the API
server through an internal load balancer in the VNet, never through the firewall), or to a cluster
without ranges (the endpoint admits every address). A node subnet whose public traffic is split,
part to the firewall and part elsewhere, is `skipped`: the API server's address, which the estate
does not hold, decides which way its traffic goes. The cluster is `skipped`, naming the datum,
when its API server settings, pools, node subnet, route table or routes, a hub's routing, a
firewall's IP configurations or a public IP it names could not be read, when a NAT gateway on the
firewall's subnet takes its egress (its addresses are not read), or when the firewall has no public
IP on its data path (forced tunnelling: the address is decided beyond it).

**Why it matters**
The firewall rewrites the source of everything the nodes send to the Internet to one of its own
public addresses, the API server's public endpoint included. If the authorized ranges leave that
address out, kubelets cannot reach the API server: new nodes never join, scale-out and upgrades
fail, and running workloads lose the API as soon as the change lands. Azure Firewall picks one of
its public addresses per connection, so leaving out only some of them breaks connections at
random. Microsoft's egress tutorial creates the cluster with the firewall's address as its only
range, then gives developers access with `az aks update --api-server-authorized-ip-ranges
<their IP>/32`, which sets the whole list rather than adding to it: the firewall's address is gone.

**How to fix**
Add the firewall's public addresses to the ranges, keeping the ones there:
`az aks update --resource-group <rg> --name <cluster> --api-server-authorized-ip-ranges
<existing ranges>,<firewall public IP>/32`. A public IP prefix on the firewall keeps the list short.
"""
from dataclasses import dataclass

from aksaudit.api import (
    FIREWALL, T_CLUSTER, T_FIREWALL, T_PUBLIC_IP, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_VNET, AddressSet, CheckMeta,
    FixKind, Severity, fail, firewall_egress_addresses, parse_address, passed, skipped,
)
from aksaudit.checks.evidence import unidentified_next_hops


@dataclass(frozen=True, kw_only=True)
class FirewallAddresses:
    firewall: str
    firewall_name: str
    addresses: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    cluster: str
    authorized_ip_ranges: tuple[str, ...]
    missing: tuple[str, ...]
    firewalls: tuple[FirewallAddresses, ...]


META = CheckMeta(
    id="AKS007",
    slug="api-server-excludes-firewall-egress",
    title="API server's authorized IP ranges leave out the firewall's egress addresses",
    severity=Severity.HIGH,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_FIREWALL, T_PUBLIC_IP),
    references=("https://learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic",
                "https://learn.microsoft.com/azure/firewall/deploy-multi-public-ip-powershell"),
    tags=("cluster", "egress", "api-server"),
)


def _authorized(cluster) -> tuple[AddressSet, str]:
    """The ranges as one address set, and why some entry is not a range ('' when all are)."""
    parsed = [(entry, parse_address(entry)) for entry in cluster.authorized_ip_ranges]
    bad = [entry for entry, addresses in parsed if addresses is None]
    if bad:
        return AddressSet(), (f"cluster {cluster.id}: 'properties.apiServerAccessProfile.authorizedIPRanges' holds "
                              f"{', '.join(repr(b) for b in bad)}, which is not an address or CIDR")
    return AddressSet().union(*(addresses for _, addresses in parsed)), ""


def _node_paths(cluster, paths):
    node_subnets = {p.vnet_subnet_id.lower() for p in cluster.pools if p.vnet_subnet_id}
    return [p for p in paths if (p.subnet.id if p.subnet is not None else p.subnet_id).lower() in node_subnets]


def _steering(path) -> tuple[tuple, str]:
    """(firewalls all of the subnet's public IPv4 traffic goes to, why that is unknown or split).

    No firewall and no reason: the subnet's traffic does not go through a firewall at all. A
    narrower CIDR route elsewhere (a host route back to the firewall's own address, a partner's
    range) is not taken for the API server's; a service-tag route elsewhere (`AzureCloud`) may
    hold it, so it splits the subnet's traffic as a deciding route does."""
    if path.gap:
        return (), path.gap
    gaps = [*path.hub_gaps, *unidentified_next_hops(path)]
    if gaps:
        return (), "; ".join(gaps)
    tag_routes = {id(route) for route in path.decision.service_tag_routes} if path.decision else set()
    considered = [*path.hops, *(hop for hop in path.exception_hops if id(hop.route) in tag_routes)]
    elsewhere = [hop.route.id for hop in considered
                 if not (hop.next_hop and hop.next_hop.kind == FIREWALL and hop.next_hop.firewall)]
    if path.decision is not None and path.decision.uncovered and not path.hub_steered:
        elsewhere.append(f"Azure's default Internet route (for what the routes of {path.route_table.id} "
                         "leave uncovered)")
    firewalls = path.firewalls
    if firewalls and elsewhere:
        return (), (f"subnet {path.subnet.id} sends part of its public traffic to a firewall and part through "
                    f"{', '.join(elsewhere)}: which way the API server's address (not in the estate) goes is unknown")
    return firewalls, ""


def _paths_by_cluster(estate) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for path in estate.egress_paths:
        grouped.setdefault(id(path.cluster), []).append(path)
    return grouped


def evaluate(estate, options):
    by_cluster = _paths_by_cluster(estate)
    for cluster in estate.clusters.values():
        if cluster.api_server_access_unread:
            yield skipped(cluster.id, cluster.api_server_access_unread)
            continue
        if cluster.private_cluster or cluster.vnet_integration or not cluster.authorized_ip_ranges:
            continue
        authorized, bad_range = _authorized(cluster)
        gaps = [gap for gap in (bad_range, cluster.pools_unread) if gap]
        firewalls = {}
        for path in _node_paths(cluster, by_cluster.get(id(cluster), ())):
            found, why = _steering(path)
            if why:
                gaps.append(why)
            firewalls.update((firewall.id.lower(), firewall) for firewall in found)
        judged = []
        for firewall in sorted(firewalls.values(), key=lambda f: f.id.lower()):
            egress = firewall_egress_addresses(estate, firewall)
            if egress.gap:
                gaps.append(egress.gap)
            addresses = tuple(address for address, _ in egress.addresses)
            missing = tuple(a for a in addresses if not bad_range and not authorized.covers(parse_address(a)))
            judged.append(FirewallAddresses(firewall=firewall.id, firewall_name=firewall.header.name,
                                            addresses=addresses, missing=missing))
        missing = tuple(dict.fromkeys(a for f in judged for a in f.missing))
        if missing:
            none_admitted = all(set(f.addresses) == set(f.missing) for f in judged)
            addresses = tuple(dict.fromkeys(a for f in judged for a in f.addresses))
            how = (f"{'include none of them' if len(addresses) > 1 else 'do not include it'}: its nodes cannot reach "
                   "the API server" if none_admitted else
                   f"leave out {', '.join(missing)}: the firewall picks one of its addresses per connection, so "
                   "connections from the nodes are refused at random")
            yield fail(cluster.id,
                       f"Cluster '{cluster.header.name}' sends its egress through firewall "
                       f"{', '.join(repr(f.firewall_name) for f in judged)}, whose traffic leaves from {', '.join(addresses)}, "
                       f"but its API server's authorized IP ranges ({', '.join(cluster.authorized_ip_ranges)}) {how}.",
                       evidence={"cluster": cluster.id, "authorized_ip_ranges": list(cluster.authorized_ip_ranges),
                                 "missing": list(missing),
                                 "firewalls": [{"firewall": f.firewall, "firewall_name": f.firewall_name,
                                                "addresses": list(f.addresses), "missing": list(f.missing)}
                                               for f in judged],
                                 "unknown": sorted(set(gaps))})
        elif gaps:
            yield skipped(cluster.id, "; ".join(sorted(set(gaps))))
        elif judged:
            yield passed(cluster.id)
