"""AKS subnet without a route table.

**What it checks**
Every subnet an AKS agent pool uses for nodes (`vnetSubnetID`) or pods (`podSubnetID`) must
have a route table associated. A cluster whose pools name no subnet at all runs in a VNet that
AKS created and manages; it is reported against the cluster itself. A subnet whose VNet is
connected to a Virtual WAN secured hub needs no route table when the hub sends its Internet
traffic to the hub firewall: by routing intent (`Internet` to the firewall), or, with routing
intent off (Firewall Manager's classic secured hub), by static routes in the hub route table the
connection is associated with (`routingConfiguration.associatedRouteTable`) that send all public
IPv4 space (`0.0.0.0/0`) to the hub's firewall, on a connection with `enableInternetSecurity`.
When a virtual hub's routing intent, route tables or connections could not be read (a Resource
Graph export holds none of them), or the connection's associated table or one of its routes
cannot be read, any subnet without a route table might be such a spoke: it is `skipped`, naming
what is missing, not failed.

**Why it matters**
Without a route table, Azure's system routes send Internet-bound traffic straight out through
the platform's default outbound path: nothing forces it through the firewall, whatever the
firewall's rules say. An AKS-managed VNet cannot be given a route table at all.

**How to fix**
Create a route table with `0.0.0.0/0` -> `VirtualAppliance` <firewall private IP> and associate
it with the subnet (`az network vnet subnet update --route-table`). For kubenet clusters the
association cannot change after the cluster is created: plan a new node pool or cluster. A
cluster in an AKS-managed VNet must be redeployed into your own VNet (`--vnet-subnet-id`).
"""
from dataclasses import dataclass

from aksaudit.api import T_CLUSTER, T_FIREWALL, T_VIRTUAL_HUB, T_VNET, CheckMeta, FixKind, Severity, fail, passed, skipped
from aksaudit.checks.evidence import path_evidence, unread_pools

@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """A subnet's path (no route table on it), or, for a cluster in an AKS-managed VNet, only that."""

    managed_vnet: bool | None = None
    subnet: str | None = None
    subnet_name: str | None = None
    vnet: str | None = None
    location: str | None = None
    network_plugin: str | None = None


META = CheckMeta(
    id="UDR001",
    slug="aks-subnet-without-route-table",
    title="AKS subnet has no route table",
    severity=Severity.HIGH,
    fix=FixKind.SAFE,
    evidence=FixEvidence,
    # the evidence names the firewalls the fix can point the route at
    requires=(T_CLUSTER, T_VNET, T_VIRTUAL_HUB, T_FIREWALL),
    references=("https://learn.microsoft.com/azure/aks/egress-udr",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("egress", "routing"),
)


def evaluate(estate, options):
    yield from unread_pools(estate)
    for cluster in estate.clusters.values():
        if cluster.uses_managed_vnet:
            yield fail(cluster.id, f"Cluster '{cluster.header.name}' runs in an AKS-managed VNet: its egress "
                       "cannot be routed through a firewall.",
                       evidence={"cluster": cluster.id, "node_resource_group": cluster.node_resource_group,
                                 "managed_vnet": True})
    for path in estate.egress_paths:
        if path.subnet is None:
            yield skipped(path.subnet_id, path.gap)
        elif path.subnet.route_table_id or path.hub_steered:
            yield passed(path.subnet.id)
        elif path.hub_unknown:
            yield skipped(path.subnet.id, path.hub_unknown)  # a hub we could not read may steer it
        else:
            yield fail(path.subnet.id,
                       f"AKS subnet '{path.subnet.name}' (cluster '{path.cluster.header.name}', pools "
                       f"{', '.join(path.pools)}) has no route table: Internet-bound traffic bypasses the firewall.",
                       evidence=path_evidence(estate, path))
