"""Which node network interface to ask Azure for the effective routes of, per AKS subnet.

`--effective-routes` reads, for one NIC in each AKS node subnet, the routes Azure really applies
(Network Interfaces - Get Effective Route Table: `POST .../Microsoft.Network/networkInterfaces/
<nic>/effectiveRouteTable`, a long-running operation; permission
`Microsoft.Network/networkInterfaces/effectiveRouteTable/action`). Routes are the same for every
NIC of a subnet (route tables, propagated gateway routes and system routes apply per subnet), so
one NIC answers for the subnet.

The NIC comes from the subnet itself: ARM lists the IP configurations attached to a subnet
(`properties.subnets[].properties.ipConfigurations[].id`), in Resource Graph's row and the network
API's alike, so no extra read is needed to find one. A NIC in the cluster's node resource group
(`properties.nodeResourceGroup`) is preferred, then any other standalone NIC of the subnet.

Scale-set instance NICs (`.../Microsoft.Compute/virtualMachineScaleSets/<vmss>/virtualMachines/
<i>/networkInterfaces/<nic>`, what AKS's default `VirtualMachineScaleSets` node pools use) have
only GET and list operations in the network API: no effective-route-table operation exists for
them. A subnet holding only such NICs therefore cannot be verified this way, and says so; node
pools of type `VirtualMachines` or `AvailabilitySet`, and any other VM in the subnet, have
standalone NICs that can.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from aksaudit.model.resources import T_CLUSTER, T_EFFECTIVE_ROUTES, T_VNET
from aksaudit.model.row_fields import id_key

PERMISSION = "Microsoft.Network/networkInterfaces/effectiveRouteTable/action"
KIND = "effective route tables"


@dataclass(frozen=True)
class RouteTarget:
    subnet_id: str
    nic_id: str  # '' when no NIC of the subnet can be asked
    reason: str = ""  # why not, when nic_id is ''


def _nic_of(config_id: str) -> str:
    """The standalone NIC an IP configuration belongs to ('' for any other owner)."""
    parts = config_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if len(parts) >= 8 and lowered[0] == "subscriptions" and lowered[2] == "resourcegroups" \
            and lowered[4:7] == ["providers", "microsoft.network", "networkinterfaces"]:
        return "/" + "/".join(parts[:8])
    return ""


def _subnet_configs(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in rows:
        if str(row.get("type", "")).lower() != T_VNET:
            continue
        props = row.get("properties")
        for subnet in (props.get("subnets") if isinstance(props, Mapping) else None) or ():
            if not isinstance(subnet, Mapping) or not isinstance(subnet.get("id"), str):
                continue
            sub_props = subnet.get("properties")
            configs = sub_props.get("ipConfigurations") if isinstance(sub_props, Mapping) else None
            found[id_key(subnet["id"])] = [str(c["id"]) for c in configs or () if isinstance(c, Mapping)
                                           and isinstance(c.get("id"), str)]
    return found


def route_targets(rows: Iterable[Mapping[str, Any]]) -> list[RouteTarget]:
    """One target per AKS node subnet among `rows`, in subnet id order."""
    rows = [r for r in rows if isinstance(r, Mapping)]
    configs = _subnet_configs(rows)
    node_groups: dict[str, tuple[str, set[str]]] = {}  # subnet key -> (id as referenced, node resource groups)
    for row in rows:
        if str(row.get("type", "")).lower() != T_CLUSTER:
            continue
        props = row.get("properties") if isinstance(row.get("properties"), Mapping) else {}
        group = str(props.get("nodeResourceGroup") or "").lower()
        for pool in props.get("agentPoolProfiles") or ():
            if isinstance(pool, Mapping) and isinstance(pool.get("vnetSubnetID"), str) and pool["vnetSubnetID"]:
                entry = node_groups.setdefault(id_key(pool["vnetSubnetID"]), (pool["vnetSubnetID"], set()))
                entry[1].add(group)
    targets = []
    for key in sorted(node_groups):
        subnet_id, groups = node_groups[key]
        if key not in configs:
            targets.append(RouteTarget(subnet_id, "", "the subnet is not in the scanned virtual networks, so none of "
                                                      "its network interfaces is known"))
            continue
        nics = sorted({nic for nic in map(_nic_of, configs[key]) if nic}, key=id_key)
        own = [n for n in nics if n.strip("/").split("/")[3].lower() in groups]
        if own or nics:
            targets.append(RouteTarget(subnet_id, (own or nics)[0]))
        elif any("/virtualmachinescalesets/" in c.lower() for c in configs[key]):
            targets.append(RouteTarget(subnet_id, "", "only scale-set instance NICs are in the subnet, and the network "
                                                      "API has no effective-route-table operation for them (a "
                                                      "VirtualMachines or AvailabilitySet node pool, or any VM in the "
                                                      "subnet, has a NIC that can be asked)"))
        else:
            targets.append(RouteTarget(subnet_id, "", "no network interface is attached to the subnet"))
    return targets


def effective_route_call(target: RouteTarget, network_client: Callable[[str], Any]
                         ) -> Callable[[Callable[[Any], None]], list[dict[str, Any]]]:
    """A lookup's call: the NIC's effective route table through the SDK's poller, as one snapshot row."""
    parts = target.nic_id.strip("/").split("/")
    subscription, group, name = parts[1], parts[3], parts[7]

    def call(hook: Callable[[Any], None]) -> list[dict[str, Any]]:
        poller = network_client(subscription).network_interfaces.begin_get_effective_route_table(
            group, name, raw_response_hook=hook)
        result = poller.result()
        routes = [dict(r.as_dict()) for r in (result.value or ())] if result is not None else []
        return [{"id": f"{target.nic_id}/effectiveRouteTable", "name": "effectiveRouteTable", "type": T_EFFECTIVE_ROUTES,
                 "resourceGroup": group, "subscriptionId": subscription.lower(),
                 "properties": {"subnetId": target.subnet_id, "networkInterfaceId": target.nic_id, "routes": routes}}]
    return call
