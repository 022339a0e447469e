"""Evidence shared by the routing checks: what a reader needs to see, and a fix needs to act."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Iterator

from aksaudit.api import (
    EgressPath, Estate, Firewall, PathEvidence, RouteEvidence, RouteState, VirtualNetwork, evidence_dict, parent_id,
    reachable_firewall_ips, skipped,
    UNRESOLVED,
    Outcome, Status,
)


def _path_fields(estate: Estate, path: EgressPath) -> dict[str, Any]:
    vnet = path.vnet
    fields: dict[str, Any] = {
        "cluster": path.cluster.id,
        "pools": tuple(path.pools),
        "subnet": path.subnet_id,
        "subnet_name": path.subnet.name if path.subnet else "",
        "subnet_prefixes": tuple(str(p) for p in path.subnet.prefixes) if path.subnet else (),
        "vnet": vnet.id if vnet else "",
        "vnet_resource_group": vnet.header.resource_group if vnet else "",
        "location": vnet.header.location if vnet else "",
        "network_plugin": path.cluster.network_plugin,
        "firewall_private_ips": tuple(reachable_firewall_ips(estate, vnet)) if vnet else (),
    }
    if path.route_table:
        fields["route_table"] = path.route_table.id
        # Every route as the scan saw it: a fix re-reads the table and acts only if it still matches.
        fields["route_table_routes"] = tuple(RouteState(r.name, r.address_prefix, r.next_hop_type, r.next_hop_ip)
                                             for r in path.route_table.routes)
    return fields


def path_evidence(estate: Estate, path: EgressPath) -> dict[str, Any]:
    return evidence_dict(PathEvidence(**_path_fields(estate, path)))


def route_evidence(estate: Estate, path: EgressPath, route) -> dict[str, Any]:
    return evidence_dict(RouteEvidence(
        **_path_fields(estate, path), route=route.id, route_name=route.name, address_prefix=route.address_prefix,
        next_hop_type=route.next_hop_type, next_hop_ip=route.next_hop_ip))


def firewall_vnet_id(firewall: Firewall) -> str:
    """The VNet of the firewall's (data path) IP configuration, '' when it has none."""
    subnets = [c.subnet_id for c in firewall.ip_configs if c.subnet_id and not c.management]
    return parent_id(subnets[0]) if subnets else ""


def unpeered_firewall_vnets(estate: Estate, vnet: VirtualNetwork, ip: str) -> dict[str, list[Firewall]]:
    """VNets (lower-cased id -> firewalls) other than `vnet` holding a firewall with this private IP
    that `vnet` could be peered to (address spaces do not overlap)."""
    found: dict[str, list] = {}
    for firewall in estate.firewalls_with_private_ip(ip):
        remote_id = firewall_vnet_id(firewall)
        if not remote_id or remote_id.lower() == vnet.id.lower():
            continue
        remote = estate.vnet(remote_id)
        if remote and any(a.version == b.version and a.overlaps(b)
                          for a in remote.address_prefixes for b in vnet.address_prefixes):
            continue
        found.setdefault(remote_id.lower(), []).append(firewall)
    return found


def path_gap(path: EgressPath):
    """A `skipped` outcome when the path to the route table could not be read, else None.

    Routing checks all need the subnet, its route table and each of its routes; when any is
    unreadable, each of them says so instead of passing silently.
    """
    if path.subnet is None:
        return skipped(path.subnet_id, path.gap)
    if path.subnet.route_table_id and path.route_table is None:
        return skipped(path.subnet.route_table_id, path.gap)
    if path.gap:  # a route of the table could not be read whole: where some traffic goes is unknown
        return skipped(path.route_table.id if path.route_table else path.subnet.id, path.gap)
    return None


def unread_pools(estate: Estate):
    """A `skipped` outcome per cluster whose pools (or their subnet ids) could not be read.

    Such a cluster has no egress path to judge, and every routing verdict about it would be a
    verdict on the subnets that were read only: which subnets it uses is unknown, so say so.
    """
    for cluster in estate.clusters.values():
        if cluster.pools_unread:
            yield skipped(cluster.id, cluster.pools_unread)


def unidentified_next_hops(path: EgressPath) -> list[str]:
    """Why the firewalls on a path may be incomplete: a route sends public traffic to an appliance IP
    that may be a firewall in data that could not be read. What that appliance lets through is
    unknown, so a verdict on the path's firewall rules would judge only part of its egress. (An IP
    nothing in a complete estate answers on is UDR004's failure, not an unknown.)"""
    found = []
    for hop in (*path.hops, *path.exception_hops):
        next_hop = hop.next_hop
        if next_hop is not None and next_hop.kind == UNRESOLVED:
            found.append(next_hop.reason or f"route {hop.route.id}: next hop {next_hop.ip} could not be resolved")
    return found


def _affected(outcome: Outcome) -> dict[str, Any]:
    evidence = outcome.evidence
    return {"cluster": evidence.get("cluster", ""), "subnet": evidence.get("subnet", ""),
            "subnet_name": evidence.get("subnet_name", ""), "pools": list(evidence.get("pools", ()))}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def shared_outcomes(outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
    """The outcomes, with the failures on one resource (a route table or route that serves
    several AKS subnets, each judged on its own path) made one failure naming them all.

    The engine keeps one finding per resource and place; without this, that finding would name
    whichever subnet came first, and a reader fixing it would not know which other subnets and
    clusters the same route table carries. The evidence keeps the first path's fields (what a fix
    acts on) and adds `affected`, `affected_subnets` and `affected_clusters`; the message says how
    many. Other outcomes pass through unchanged, in order.
    """
    outcomes = list(outcomes)
    failures: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.status is Status.FAIL:
            failures.setdefault((outcome.resource_id.lower(), outcome.locus.lower()), []).append(outcome)
    for outcome in outcomes:
        if outcome.status is not Status.FAIL:
            yield outcome
            continue
        group = failures.pop((outcome.resource_id.lower(), outcome.locus.lower()), None)
        if group is None:
            continue  # folded into the first failure on this resource
        affected = list({(a["cluster"].lower(), a["subnet"].lower()): a for a in map(_affected, group)}.values())
        subnets = list(dict.fromkeys(a["subnet"] for a in affected if a["subnet"]))
        clusters = list(dict.fromkeys(a["cluster"] for a in affected if a["cluster"]))
        evidence = {**outcome.evidence, "affected": affected, "affected_subnets": subnets,
                    "affected_clusters": clusters}
        message = outcome.message
        if len(affected) > 1:
            names = [a["subnet_name"] for a in affected if a["subnet_name"]]
            shown = ", ".join(dict.fromkeys(names[:3])) + (", ..." if len(set(names)) > 3 else "")
            message += (f" The same route table serves {_plural(len(subnets), 'AKS subnet')} ({shown}) of "
                        f"{_plural(len(clusters), 'cluster')}: all are affected.")
        yield replace(outcome, message=message, evidence=evidence)


def judge_hops(estate: Estate, judge):
    """Outcomes of `judge(path, hop)` for every route deciding an AKS subnet's Internet traffic.

    The routing checks differ only in what they say about one hop; the walk over paths, and
    reporting an unreadable subnet or route table as skipped, is the same for all of them.
    `judge` may return None when the hop is another check's business. A route shared by several
    subnets' paths is one failure naming them all (see `shared_outcomes`).
    """
    return shared_outcomes(_hop_outcomes(estate, judge))


def _hop_outcomes(estate: Estate, judge):
    yield from unread_pools(estate)
    for path in estate.egress_paths:
        gap = path_gap(path)
        if gap:
            yield gap
            continue
        for hop in path.hops:
            outcome = judge(path, hop)
            if outcome is not None:
                yield outcome
