"""Service CIDR overlaps the cluster's network.

**What it checks**
The cluster's `serviceCidr`(s) must not overlap the address space of the VNet(s) its pools use,
the address space of any VNet peered to them, or the cluster's pod CIDR(s).

**Why it matters**
Kubernetes hands out ClusterIPs from the service range, and Azure routing knows nothing of it:
a VNet address inside that range becomes unreachable from pods, or reachable by the wrong
thing. AKS refuses overlaps with existing subnets at create time, but a service range inside
the VNet's address space that no subnet uses *yet* is accepted and breaks the day that subnet
is added (a firewall subnet, say).

**How to fix**
Pick a service CIDR outside every VNet, peered network and on-premises range (for example
`192.168.0.0/20` when unused) and recreate the cluster (the service CIDR cannot be changed in
place), or move the VNet's conflicting ranges.
"""
from aksaudit.api import T_CLUSTER, T_VNET, CheckMeta, Severity, fail, parse_network, passed, skipped

META = CheckMeta(
    id="AKS004",
    slug="service-cidr-overlap",
    title="Service CIDR overlaps the cluster's network",
    severity=Severity.HIGH,
    requires=(T_CLUSTER, T_VNET),
    references=("https://learn.microsoft.com/azure/aks/concepts-network-ip-address-planning",
                "https://learn.microsoft.com/azure/aks/configure-azure-cni"),
    tags=("cluster", "addressing"),
)


def _ranges(estate, cluster):
    """(label, network) pairs the service range must avoid, and the gaps met finding them."""
    ranges, gaps, seen_vnets = [], [], set()
    for pod in cluster.pod_cidrs:
        network = parse_network(pod)
        if network is not None:
            ranges.append((f"pod CIDR {pod}", network))
    for subnet_id in cluster.subnet_ids():
        vnet_id = subnet_id.rsplit("/subnets/", 1)[0]
        if vnet_id.lower() in seen_vnets:
            continue
        seen_vnets.add(vnet_id.lower())
        vnet = estate.vnet(vnet_id)
        if vnet is None:
            gaps.append(estate.gap(vnet_id))
            continue
        ranges.extend((f"VNet '{vnet.header.name}' address space {n}", n) for n in vnet.address_prefixes)
        for peering in vnet.peerings:
            remote = estate.vnet(peering.remote_vnet_id)
            prefixes = peering.remote_prefixes or (remote.address_prefixes if remote else ())
            name = remote.header.name if remote else peering.remote_vnet_id.rsplit("/", 1)[-1]
            ranges.extend((f"peered VNet '{name}' address space {n}", n) for n in prefixes)
    return ranges, gaps


def evaluate(estate, options):
    for cluster in estate.clusters.values():
        services = [(cidr, parse_network(cidr)) for cidr in cluster.service_cidrs]
        services = [(c, n) for c, n in services if n is not None]
        if not services:
            yield skipped(cluster.id, "the cluster reports no serviceCidr")
            continue
        ranges, gaps = _ranges(estate, cluster)
        overlaps = [{"service_cidr": cidr, "overlaps": label}
                    for cidr, service in services for label, other in ranges
                    if service.version == other.version and service.overlaps(other)]
        if overlaps:
            yield fail(cluster.id,
                       f"Cluster '{cluster.header.name}' service CIDR overlaps: "
                       + "; ".join(f"{o['service_cidr']} with {o['overlaps']}" for o in overlaps) + ".",
                       evidence={"service_cidrs": list(cluster.service_cidrs), "overlaps": overlaps})
        elif gaps:
            yield skipped(cluster.id, "; ".join(gaps))
        else:
            yield passed(cluster.id)
