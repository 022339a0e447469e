"""Which clusters' outbound dependency lists can change a verdict, decided from the rows alone.

The AKS API's list of a cluster's outbound network dependencies is used by exactly one check,
AKS003, and only to judge the rules of an Azure Firewall on the cluster's node egress path
(without the list AKS003 judges the documented list of required FQDNs instead). So asking
for it is wasted when no firewall can be on that path, which the rows already show:

* the scanned estate holds no Azure Firewall at all;
* the cluster's nodes sit in an AKS-managed virtual network (no `vnetSubnetID`): no route table
  or hub of the estate steers it, and AKS003 judges only paths from a subnet the estate holds;
* every node subnet is in the rows, none has a route table, and the estate has no virtual hub
  (so no Virtual WAN routing intent can steer it either): Internet traffic leaves directly.

Anything else (a route table, a hub, a subnet not in the rows) keeps the lookup at this stage:
whether a firewall is on the path is for the analysis to decide, and a lookup too many costs
only time.

A second stage decides by the content of the rules on the path, on a model of the rows, and
only when a lookup is still wanted: AKS003's `settled_lookups` (checks/cluster/
aks003_required_egress_blocked/settled.py), handed to the collector as `LiveOptions.settle`.
What a cluster's list depends on, per AKS's documentation: the cloud and region, its API
server FQDN (none when private), and the add-ons and features in its own row; every list holds
`management.azure.com`, `login.microsoftonline.com`, `mcr.microsoft.com` and
`*.data.mcr.microsoft.com`. A firewall that already fails those fails any list; one that lets
every HTTPS name through and could deny none passes any list; either way (all rules readable)
the lookup cannot change the verdict and is not made.

The scan records, per kind of lookup, how many were made, failed and skipped by reason
(`meta.arm_lookups`, and `scan.lookups` in the JSON result).
The list is not shared between clusters: it names the cluster's own API server and follows its
add-ons, and nothing published promises that two clusters alike in region and features get the
same answer.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from aksaudit.model.resources import T_CLUSTER, T_FIREWALL, T_VIRTUAL_HUB, T_VNET
from aksaudit.model.row_fields import id_key

NEEDED = ""  # the reason given for a lookup that is made


def _subnets(rows: Iterable[Mapping[str, Any]]) -> dict[str, bool]:
    """Every subnet in the rows (lower-cased id) -> whether it has a route table."""
    found: dict[str, bool] = {}
    for row in rows:
        if str(row.get("type", "")).lower() != T_VNET:
            continue
        props = row.get("properties")
        for subnet in (props.get("subnets") if isinstance(props, Mapping) else None) or ():
            if isinstance(subnet, Mapping) and subnet.get("id"):
                sub_props = subnet.get("properties")
                table = sub_props.get("routeTable") if isinstance(sub_props, Mapping) else None
                found[id_key(str(subnet["id"]))] = bool(table)
    return found


def _node_subnets(cluster: Mapping[str, Any]) -> list[str]:
    props = cluster.get("properties")
    pools = props.get("agentPoolProfiles") if isinstance(props, Mapping) else None
    return [id_key(str(p["vnetSubnetID"])) for p in pools or () if isinstance(p, Mapping) and p.get("vnetSubnetID")]


def endpoint_lookups(rows: Iterable[Mapping[str, Any]], queried: Iterable[str]) -> dict[str, str]:
    """Every cluster id among `rows` -> '' when its dependency list is to be asked for, else why not.

    An absence counts only for a type that was `queried`: no firewall row says nothing about
    firewalls when firewalls were not asked for."""
    rows = [r for r in rows if isinstance(r, Mapping)]
    queried = {t.lower() for t in queried}
    types = {str(r.get("type", "")).lower() for r in rows}
    clusters = {id_key(str(r["id"])): r for r in rows if str(r.get("type", "")).lower() == T_CLUSTER and r.get("id")}
    if T_FIREWALL in queried and T_FIREWALL not in types:
        return {str(c["id"]): "no Azure Firewall in the scanned estate, so none can judge the list"
                for c in clusters.values()}
    subnets = _subnets(rows)
    hubs = T_VIRTUAL_HUB in types or T_VIRTUAL_HUB not in queried
    decided: dict[str, str] = {}
    for cluster in clusters.values():
        nodes = _node_subnets(cluster)
        if not nodes and T_VNET in queried:
            decided[str(cluster["id"])] = "its nodes are in an AKS-managed virtual network, which no firewall steers"
        elif not hubs and all(s in subnets and not subnets[s] for s in nodes):
            decided[str(cluster["id"])] = ("its node subnets have no route table and the estate has no virtual hub: "
                                           "its Internet traffic reaches no firewall")
        else:
            decided[str(cluster["id"])] = NEEDED
    return decided
