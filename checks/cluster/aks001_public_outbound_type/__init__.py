"""Cluster owns a public egress path.

**What it checks**
The cluster's `networkProfile.outboundType` must not be `loadBalancer`, `managedNATGateway`,
`managedNATGatewayV2` or `userAssignedNATGateway`. `userDefinedRouting` passes, and so do the two
types meant for network-isolated clusters, as Azure documents them:

* `none`: AKS sets up no outbound path at all (like `userDefinedRouting`, without requiring a
  default route when the cluster is created). The cluster owns no way out; whatever egress its
  subnets have is theirs, and the routing checks judge it (an AKS-managed VNet is reported by
  UDR001).
* `block` (preview, AKS-managed VNet only): AKS blocks all egress from the cluster. Nothing leaves,
  so there is nothing for a firewall to filter.

A value aksaudit does not know (AKS adds types over time) is `skipped`, naming it: whether it
gives the cluster a public path is unknown, and an unknown is never a pass. A cluster row without
`outboundType` (Azure always returns it) is `skipped` too.

**Why it matters**
With those outbound types AKS provisions (or expects) its own public egress: outbound public IPs
on the cluster load balancer, or a NAT gateway. That path exists beside the firewall and is
owned by AKS, which can use it as soon as a route changes; and only for `userDefinedRouting`
does AKS itself insist that the subnet's default route goes to an appliance, not the Internet.
A cluster meant to be filtered should not carry its own way out.

**How to fix**
Migrate the cluster to `userDefinedRouting` once its subnet's route table sends `0.0.0.0/0` to
the firewall: `az aks update -g <rg> -n <cluster> --outbound-type userDefinedRouting` (Azure CLI
2.56 or later; check the supported migration matrix for your current type).
"""
from dataclasses import dataclass

from aksaudit.api import (
    FIREWALL, T_CLUSTER, T_FIREWALL, T_ROUTE_TABLE, T_VNET, RouteState, CheckMeta, FixKind, EgressPath, Severity, fail, passed, skipped,
)

@dataclass(frozen=True, kw_only=True)
class SubnetRouting:
    """One node or pod subnet of the cluster, and whether its Internet traffic reaches a firewall."""

    subnet: str
    route_table: str | None = None
    route_table_routes: tuple[RouteState, ...] | None = None
    not_via_firewall: str | None = None  # why not, when it does not


@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    outbound_type: str
    all_subnets_route_to_firewall: bool
    subnets: tuple[SubnetRouting, ...]
    pools_in_managed_vnet: tuple[str, ...]


META = CheckMeta(
    id="AKS001",
    slug="public-outbound-type",
    title="Cluster owns a public egress path",
    severity=Severity.MEDIUM,
    fix=FixKind.DISRUPTIVE,
    evidence=FixEvidence,
    # The verdict needs only the cluster; the routing evidence (whether every subnet already sends
    # Internet traffic to a firewall, which decides if the fix may switch the outbound type)
    # needs the VNets, route tables and firewalls, so a scan selecting AKS001 alone reads them.
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL),
    references=("https://learn.microsoft.com/azure/aks/egress-outboundtype",
                "https://learn.microsoft.com/azure/aks/egress-udr"),
    tags=("cluster", "egress"),
)

PUBLIC_OUTBOUND_TYPES = {t.lower(): t for t in (
    "loadBalancer", "managedNATGateway", "managedNATGatewayV2", "userAssignedNATGateway")}
# No outbound path of the cluster's own: egress is the subnets' routing (UDR, none) or nothing (block).
PRIVATE_OUTBOUND_TYPES = {t.lower(): t for t in ("userDefinedRouting", "none", "block")}


def _not_via_firewall(path: EgressPath) -> str:
    """Why this subnet's Internet traffic does not all go to a reachable firewall ('' when it does)."""
    if path.subnet is None:
        return path.gap or "the subnet could not be read"
    if path.route_table is None:
        return path.gap or "the subnet has no route table"
    if path.decision is None or path.decision.uncovered or not path.hops:
        return "some Internet destinations are left to Azure's system route"
    for hop in path.hops:
        next_hop = hop.next_hop
        if next_hop is None or next_hop.kind != FIREWALL:
            return f"route '{hop.route.name}' ({hop.route.address_prefix}) does not go to a firewall"
        if next_hop.blocked:
            return f"route '{hop.route.name}' targets a firewall it cannot reach: {next_hop.blocked}"
    return ""


def routing_evidence(cluster, paths: list[EgressPath]) -> dict:
    """Whether every node and pod subnet of the cluster already sends Internet traffic to a
    firewall: only then can its outbound type move to userDefinedRouting without cutting egress.
    Each subnet's route table is kept as scanned, so a fix can refuse to act once it changed."""
    subnets = []
    for path in paths:
        subnets.append({
            "subnet": path.subnet_id, "pools": list(path.pools),
            "route_table": path.route_table.id if path.route_table else "",
            "route_table_routes": [{"name": r.name, "address_prefix": r.address_prefix, "next_hop_type": r.next_hop_type,
                                    "next_hop_ip": r.next_hop_ip} for r in path.route_table.routes]
                                  if path.route_table else [],
            "not_via_firewall": _not_via_firewall(path)})
    managed = [pool.name for pool in cluster.pools if not pool.vnet_subnet_id]
    return {"subnets": subnets, "pools_in_managed_vnet": managed,
            "all_subnets_route_to_firewall": bool(subnets) and not managed and not cluster.pools_unread
                                             and not any(s["not_via_firewall"] for s in subnets)}


def evaluate(estate, options):
    by_cluster: dict[int, list] = {}  # one pass over the paths, not one per cluster
    for path in estate.egress_paths:
        by_cluster.setdefault(id(path.cluster), []).append(path)
    for cluster in estate.clusters.values():
        outbound = cluster.outbound_type
        if cluster.outbound_type_unread or not outbound:
            yield skipped(cluster.id, cluster.outbound_type_unread or
                          f"cluster {cluster.id}: 'properties.networkProfile.outboundType' is empty")
        elif outbound.lower() in PUBLIC_OUTBOUND_TYPES:
            yield fail(cluster.id,
                       f"Cluster '{cluster.header.name}' has outboundType '{outbound}': AKS gives it a public "
                       "egress path that does not go through the firewall.",
                       evidence={"cluster": cluster.id, "outbound_type": outbound,
                                 "resource_group": cluster.header.resource_group,
                                 "node_resource_group": cluster.node_resource_group,
                                 **routing_evidence(cluster, by_cluster.get(id(cluster), []))})
        elif outbound.lower() in PRIVATE_OUTBOUND_TYPES:
            yield passed(cluster.id)
        else:
            yield skipped(cluster.id, f"cluster {cluster.id}: outboundType '{outbound}' is not one aksaudit knows, "
                                      "so whether AKS gives the cluster a public egress path is unknown")
