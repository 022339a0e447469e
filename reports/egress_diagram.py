"""The boxes of a cluster's egress diagram, and which findings break which box.

The diagram reads left to right: cluster -> subnet -> route table -> next hop -> firewall ->
rules. Each box owns the resource ids whose findings concern it; a box with a finding is the
broken hop, a box with a skipped outcome is unknown, and a hop that does not exist (no route
table, no route for the Internet, a next hop that is no firewall) ends the path, so the boxes
after it are not reached. This module only places the engine's findings; it judges nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import AbstractSet, Mapping

from aksaudit.api import FIREWALL, FIREWALL_PUBLIC_IP, UNKNOWN, UNRESOLVED
from aksaudit.results.path_summaries import PathSummary
from aksaudit.model.row_fields import id_key

OK, BROKEN, MISSING, UNKNOWN_STATE, UNREACHED = "ok", "broken", "missing", "unknown", "unreached"
STAGE_FIELDS = ("stage", "name", "detail", "id", "state", "findings")  # what `stages` gives per box


@dataclass(frozen=True)
class Box:
    stage: str  # cluster | subnet | route-table | next-hop | firewall | rules (the page captions them)
    name: str
    detail: str
    resource_id: str
    ids: tuple[str, ...]  # lower-cased ids whose findings land on this box
    present: bool  # False: this hop does not exist (or could not be read)
    gap: str = ""  # why it could not be read


def _hop_text(path: PathSummary) -> tuple[str, str]:
    hops = path.hops
    if not hops:
        return "none", "no route decides Internet traffic: system route to the Internet"
    targets = ", ".join(dict.fromkeys(h.next_hop_ip or h.next_hop_type for h in hops))
    prefixes = ", ".join(h.address_prefix for h in hops)
    return targets, f"{prefixes} via {', '.join(dict.fromkeys(h.route_name for h in hops))}"


_NOT_A_FIREWALL = {UNKNOWN: "next hop is no firewall", UNRESOLVED: "next hop could not be resolved",
                   FIREWALL_PUBLIC_IP: "next hop is a firewall's public IP", "": "next hop is not an appliance"}


def boxes(path: PathSummary) -> tuple[Box, ...]:
    cluster = Box("cluster", path.cluster_name, ", ".join(path.pools), path.cluster_id,
                  (path.cluster_id,), True)
    if not path.subnet_id:
        return (cluster, Box("subnet", "AKS-managed VNet", "no subnet of yours to route", "", (), False))
    subnet_read = not (path.gap and not path.route_table_id and not path.hops)
    table_read = bool(path.route_table_id) and not (path.gap and not path.hops and subnet_read)
    subnet = Box("subnet", path.subnet_name, "", path.subnet_id, (path.subnet_id, *path.network_ids),
                 subnet_read, "" if subnet_read else path.gap)
    table = Box("route-table", path.route_table_name or "none",
                "" if path.route_table_id else "no route table: system routes", path.route_table_id,
                (path.route_table_id, *path.other_route_ids), table_read,
                path.gap if path.route_table_id and not table_read else "")
    name, detail = _hop_text(path)
    hop = Box("next-hop", name, detail, path.hops[0].route_id if path.hops else "",
              tuple(h.route_id for h in path.hops), bool(path.hops))
    kinds = {h.next_hop_kind for h in path.hops}
    firewall_ids = tuple(f.id for f in path.firewalls)
    firewall = Box("firewall", ", ".join(f.name for f in path.firewalls) or "none",
                   "" if path.firewalls else "; ".join(_NOT_A_FIREWALL.get(k, k) for k in sorted(kinds - {FIREWALL})),
                   firewall_ids[0] if firewall_ids else "", firewall_ids, bool(path.firewalls),
                   "" if path.firewalls or UNRESOLVED not in kinds else "next hop could not be resolved")
    own_ids = {id_key(i) for i in firewall_ids}
    owners = tuple(dict.fromkeys(o for f in path.firewalls for o in f.rule_owner_ids if id_key(o) not in own_ids))
    rules = Box("rules", f"{len(owners)} rule source(s)" if owners else "classic rules" if path.firewalls else "none",
                ", ".join(o.rstrip("/").rsplit("/", 1)[-1] for o in owners[:3]), owners[0] if owners else "",
                owners, bool(path.firewalls))
    return (cluster, subnet, table, hop, firewall, rules)


def stages(path: PathSummary, findings_by_id: Mapping[str, list[int]], skipped: AbstractSet[str]) -> list[dict]:
    """The boxes as plain dicts for the page, each with its state and the findings that broke it.

    `findings_by_id` and `skipped` are keyed by lower-cased id (`id_key`), built once per report
    by the caller: a report draws tens of thousands of paths.
    """
    claimed: set[str] = set()
    result, reached = [], True
    for box in boxes(path):
        own = []  # the box's ids no earlier box claimed, in order, each once
        for resource_id in box.ids:
            if resource_id:
                key = id_key(resource_id)
                if key not in claimed:
                    claimed.add(key)
                    own.append(key)
        found = sorted({index for key in own for index in findings_by_id.get(key, ())})
        if not reached:
            state = UNREACHED
        elif found:
            state = BROKEN
        elif box.gap or any(key in skipped for key in own):
            state = UNKNOWN_STATE
        elif not box.present:
            state = MISSING
        else:
            state = OK
        if state in (MISSING, UNKNOWN_STATE) or not box.present:
            reached = False
        result.append({"stage": box.stage, "name": box.name, "detail": box.gap or box.detail,
                       "id": box.resource_id, "state": state, "findings": found})
    return result
