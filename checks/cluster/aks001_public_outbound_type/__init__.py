"""Cluster owns a public egress path.

**What it checks**
The cluster's `networkProfile.outboundType` must not be `loadBalancer`, `managedNATGateway`,
`managedNATGatewayV2` or `userAssignedNATGateway`. `userDefinedRouting`, `none` and `block` pass;
values AKS may add later are read as open strings and pass rather than break the scan.

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
from aksaudit.api import T_CLUSTER, CheckMeta, Severity, fail, passed, skipped

META = CheckMeta(
    id="AKS001",
    slug="public-outbound-type",
    title="Cluster owns a public egress path",
    severity=Severity.MEDIUM,
    requires=(T_CLUSTER,),
    references=("https://learn.microsoft.com/azure/aks/egress-outboundtype",
                "https://learn.microsoft.com/azure/aks/egress-udr"),
    tags=("cluster", "egress"),
)

PUBLIC_OUTBOUND_TYPES = {t.lower(): t for t in (
    "loadBalancer", "managedNATGateway", "managedNATGatewayV2", "userAssignedNATGateway")}


def evaluate(estate, options):
    for cluster in estate.clusters.values():
        outbound = cluster.outbound_type.strip()
        if not outbound:
            yield skipped(cluster.id, "the cluster row carries no networkProfile.outboundType")
        elif outbound.lower() in PUBLIC_OUTBOUND_TYPES:
            yield fail(cluster.id,
                       f"Cluster '{cluster.header.name}' has outboundType '{outbound}': AKS gives it a public "
                       "egress path that does not go through the firewall.",
                       evidence={"cluster": cluster.id, "outbound_type": outbound,
                                 "resource_group": cluster.header.resource_group,
                                 "node_resource_group": cluster.node_resource_group})
        else:
            yield passed(cluster.id)
