"""Service CIDR overlaps the cluster's network.

**What it checks**
The cluster's `serviceCidr`(s) must not overlap the address space of the VNet(s) its pools use
(for pools without `vnetSubnetID`, the AKS-managed VNet in the node resource group),
the address space of any VNet peered to them, or the cluster's pod CIDR(s).

A datum the verdict needs and the scan could not read (the service or pod CIDRs, the pools, a
VNet's address space or what lies behind a peering) makes it `skipped`, naming the datum, unless
an overlap is already certain from what was read.

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
from dataclasses import dataclass

from aksaudit.api import T_CLUSTER, T_VNET, CheckMeta, FixKind, Severity, fail, parent_id, parse_network, passed, skipped, ArmId

@dataclass(frozen=True, kw_only=True)
class Overlap:
    service_cidr: str
    overlaps: str


@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    service_cidrs: tuple[str, ...]
    overlaps: tuple[Overlap, ...]


META = CheckMeta(
    id="AKS004",
    slug="service-cidr-overlap",
    title="Service CIDR overlaps the cluster's network",
    severity=Severity.HIGH,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET),
    references=("https://learn.microsoft.com/azure/aks/concepts-network-ip-address-planning",
                "https://learn.microsoft.com/azure/aks/configure-azure-cni"),
    tags=("cluster", "addressing"),
)


def _parsed(cidrs, what: str):
    """(cidr, network) pairs, and a gap for each value that is not a CIDR (never silently dropped)."""
    pairs, gaps = [], []
    for cidr in cidrs:
        network = parse_network(cidr)
        if network is None:
            gaps.append(f"{what} '{cidr}' is not a CIDR prefix")
        else:
            pairs.append((cidr, network))
    return pairs, gaps


def _managed_vnet(estate, cluster):
    """The address space of the AKS-managed VNet (in the node resource group) pools without a subnet
    run in, and a gap when that VNet is not in the scan: its space is a datum like any other."""
    vnets = estate.vnets_in(cluster.header.subscription_id, cluster.node_resource_group) \
        if cluster.node_resource_group else ()
    if not vnets:
        return [], (cluster.node_resource_group_unread or f"cluster {cluster.id}: pools without vnetSubnetID run in an "
                    f"AKS-managed VNet in resource group '{cluster.node_resource_group}', which is not in the scan")
    ranges = [(f"AKS-managed VNet '{v.header.name}' address space", n) for v in vnets for n in v.address_prefixes]
    return ranges, "; ".join(v.address_space_unread for v in vnets if v.address_space_unread)


def _ranges(estate, cluster):
    """(what, network) pairs the service range must avoid, and the gaps met finding them. A range is
    named (`_label`) only when it overlaps: most never do, and writing out every network costs
    more than comparing it."""
    pods, gaps = _parsed(cluster.pod_cidrs, "pod CIDR")
    ranges = [(("pod CIDR", cidr), network) for cidr, network in pods]
    gaps += [gap for gap in (cluster.pod_cidrs_unread, cluster.pools_unread) if gap]
    seen_vnets = set()
    if any(not pool.vnet_subnet_id for pool in cluster.pools) and not cluster.pools_unread:
        managed, gap = _managed_vnet(estate, cluster)
        ranges += managed
        gaps += [gap] if gap else []
    for subnet_id in cluster.subnet_ids():
        vnet_id = parent_id(subnet_id)  # ARM ids are case-insensitive: never split on a spelling of "/subnets/"
        if vnet_id.lower() in seen_vnets:
            continue
        seen_vnets.add(vnet_id.lower())
        vnet = estate.vnet(vnet_id)
        if vnet is None:
            gaps.append(estate.gap(vnet_id))
            continue
        if vnet.address_space_unread:
            gaps.append(vnet.address_space_unread)
        ranges.extend((f"VNet '{vnet.header.name}' address space", n) for n in vnet.address_prefixes)
        for peering in vnet.peerings:
            remote = estate.vnet(peering.remote_vnet_id)
            prefixes = peering.remote_prefixes or (remote.address_prefixes if remote else ())
            name = remote.header.name if remote else ArmId.parse(peering.remote_vnet_id).name
            if not prefixes:  # neither the peering nor the peered VNet says what lies behind it
                gaps.append(remote.address_space_unread if remote else estate.gap(peering.remote_vnet_id))
            ranges.extend((f"peered VNet '{name}' address space", n) for n in prefixes)
    return ranges, gaps


def _label(what, network) -> str:
    """'pod CIDR 10.244.0.0/16' as the cluster wrote it, else the network after what holds it."""
    return " ".join(what) if isinstance(what, tuple) else f"{what} {network}"


def evaluate(estate, options):
    for cluster in estate.clusters.values():
        services, gaps = _parsed(cluster.service_cidrs, "service CIDR")
        if cluster.service_cidrs_unread or not services:
            yield skipped(cluster.id, cluster.service_cidrs_unread or "; ".join(gaps)
                          or f"cluster {cluster.id}: it reports no serviceCidr")
            continue
        ranges, range_gaps = _ranges(estate, cluster)
        gaps += range_gaps
        overlaps = [{"service_cidr": cidr, "overlaps": _label(what, other)}
                    for cidr, service in services for what, other in ranges
                    if service.version == other.version and service.overlaps(other)]
        if overlaps:
            yield fail(cluster.id,
                       f"Cluster '{cluster.header.name}' service CIDR overlaps: "
                       + "; ".join(f"{o['service_cidr']} with {o['overlaps']}" for o in overlaps) + ".",
                       evidence={"service_cidrs": list(cluster.service_cidrs), "overlaps": overlaps})
        elif gaps:
            yield skipped(cluster.id, "; ".join(dict.fromkeys(gaps)))
        else:
            yield passed(cluster.id)
