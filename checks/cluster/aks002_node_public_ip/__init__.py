"""Node pool gives nodes public IPs.

**What it checks**
No agent pool of a cluster may have `enableNodePublicIP: true`. Each pool that does is reported
against the cluster, with locus `agentPools/<pool name>`. A pool without `enableNodePublicIP` (Azure always returns
it) is `skipped`, naming the field, and so is a cluster whose pool list could not be read.

**Why it matters**
An instance-level public IP is the VM's own way out: Azure sends its Internet-bound traffic out
through that address, not along the subnet's route to the firewall, and it makes every node
reachable from the Internet. One such pool quietly exempts its nodes (and every pod on them)
from egress filtering.

**How to fix**
Node public IPs cannot be switched off on an existing pool. Create a replacement pool without
them (`az aks nodepool add ... ` without `--enable-node-public-ip`), move workloads over
(`kubectl drain`), then delete the old pool (`az aks nodepool delete`).
"""
from dataclasses import dataclass

from aksaudit.api import T_CLUSTER, CheckMeta, FixKind, Severity, fail, passed, skipped

@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    pool: str
    mode: str | None = None
    subnet: str | None = None


META = CheckMeta(
    id="AKS002",
    slug="node-public-ip",
    title="Node pool gives nodes public IPs",
    severity=Severity.HIGH,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    requires=(T_CLUSTER,),
    references=("https://learn.microsoft.com/azure/aks/use-node-public-ips",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("cluster", "egress"),
)


def evaluate(estate, options):
    for cluster in estate.clusters.values():
        if cluster.pool_list_unread:  # a pool that could not be read may be the one with public IPs
            yield skipped(cluster.id, cluster.pool_list_unread, locus="agentPools")
        for pool in cluster.pools:
            locus = f"agentPools/{pool.name}"
            gap = cluster.pool_unread(pool, "name", "enableNodePublicIP")
            if gap:
                yield skipped(cluster.id, gap, locus=locus)
            elif not pool.enable_node_public_ip:
                yield passed(cluster.id, locus=locus)
            else:
                yield fail(cluster.id,
                           f"Node pool '{pool.name}' of cluster '{cluster.header.name}' gives every node a public "
                           "IP: their egress leaves directly, bypassing the firewall.",
                           locus=locus,
                           evidence={"cluster": cluster.id, "pool": pool.name, "mode": pool.mode,
                                     "subnet": pool.vnet_subnet_id, "resource_group": cluster.header.resource_group})
