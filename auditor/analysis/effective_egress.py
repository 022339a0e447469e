"""What each cluster can reach: its effective egress, per AKS subnet, as plain data for reports.

Built on the canonical egress view's subnet paths (`egress_view.subnet_paths`), so the report,
approvals and DRIFT001 describe traffic the same way: address ranges by protocol and port ("TCP
443 to 20.0.0.0/8"), FQDN patterns by protocol and port ("HTTPS:443 *.example.com"), service tags
and network-rule FQDNs by name, what leaves unfiltered (the route, or Azure's default route), and
what could not be read. The traffic a firewall allows from a subnet is computed once per rule set
and per interval between its rules' source boundaries (`subnet_egress`), and equal traffic sets
are one object, written once, so a hub's hundreds of spokes cost little more than one.
"""
from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any, Mapping

from aksaudit.analysis.egress_view import VIEW_FORMAT, SubnetPath, cluster_views, diff_cluster_view, human_line, subnet_paths
from aksaudit.analysis.subnet_egress import SubnetEgress

if TYPE_CHECKING:
    from aksaudit.model.estate import Estate


def _narrower_exits(path: Any) -> list[str]:
    """Routes narrower than the ones deciding the Internet as a whole that send their addresses
    straight to the Internet (a /32 to the firewall's public IP, a service-tag route)."""
    if path is None or path.decision is None:
        return []
    return [f"{'' if hop.route.network is not None else 'service tag '}{hop.route.address_prefix} via route "
            f"'{hop.route.name}' to the Internet"
            for hop in path.exception_hops if hop.route.next_hop_type.lower() == "internet"]


def _allowed_id(egress: SubnetEgress, allowed: dict[str, dict[str, Any]], ids: dict[int, tuple[SubnetEgress, str]]) -> str:
    """The id of a firewall's allowed traffic from a subnet: subnets meeting the same rules share
    one set, written once (a hub's hundreds of spokes would otherwise repeat every line). Equal
    traffic sets are one object (`subnet_egress`), so they are told apart by identity."""
    found = ids.get(id(egress))
    if found is None:
        found = ids[id(egress)] = (egress, f"t{len(ids) + 1}")  # the object kept: its id stays its own
        allowed[found[1]] = {"addresses": [human_line(line) for line in egress.network],
                             "fqdns": list(egress.application), "unknown": list(egress.unknown)}
    return found[1]


def _subnet(found: SubnetPath, firewalls: Mapping[str, Any], allowed: dict[str, dict[str, Any]],
            ids: dict[int, tuple[SubnetEgress, str]], entries: dict[tuple[str, str, str], dict[str, str]]) -> dict[str, Any]:
    path, steering = found.path, found.steering
    parts = [steering.removeprefix("not steered: ")] if steering.startswith("not steered: ") else []
    unfiltered = "; ".join(parts + _narrower_exits(path))
    listed = []
    for key, _, _, egress in (sorted(found.egress, key=itemgetter(0)) if len(found.egress) > 1 else found.egress):
        firewall = firewalls[key]
        # One entry object per firewall, its name as the cluster's subnets see it, and traffic:
        # a hub's spokes repeat the same three values (plain data, never changed once built).
        entry_key = (firewall.id, firewall.header.name, _allowed_id(egress, allowed, ids))
        entry = entries.get(entry_key)
        if entry is None:
            entry = entries[entry_key] = {"firewall": entry_key[0], "name": entry_key[1], "allowed": entry_key[2]}
        listed.append(entry)
    return {
        "subnet": path.subnet_id, "name": path.subnet.name if path.subnet else "",
        "route_table": (path.route_table.id if path.route_table else
                        (path.subnet.route_table_id if path.subnet else "")) or "",
        "unfiltered": unfiltered,
        "firewalls": listed,
    }


def effective_egress(estate: "Estate", approved: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{'clusters': one entry per cluster (sorted by name, then id), 'allowed': the traffic sets
    their firewalls allow, by id}; with an approved egress baseline of today's format, each
    cluster lists what changed since it ('changes', empty when nothing did). No clusters: {}.

    Built from the subnets' paths, as `cluster_views` is; the views themselves (routes, next hops,
    digests) are built only to compare with an approved baseline."""
    approved_clusters = approved.get("clusters", {}) if approved and approved.get("version") == VIEW_FORMAT else None
    views = cluster_views(estate) if approved_clusters is not None else {}
    # Per cluster, as the views hold them: each subnet once (the last path to it), and each
    # firewall its subnets reach (the last seen).
    by_key = dict(estate.clusters)  # keyed by `id_key` of each cluster's id
    subnets: dict[str, dict[str, SubnetPath]] = {key: {} for key in by_key}
    firewalls: dict[str, dict[str, Any]] = {key: {} for key in by_key}
    for found in subnet_paths(estate):
        subnets[found.cluster_key][found.subnet_key] = found
        for key, firewall, _, _ in found.egress:
            firewalls[found.cluster_key][key] = firewall
    clusters = sorted(by_key.items(), key=lambda item: (item[1].header.name.lower(), item[0]))
    entries = []
    allowed: dict[str, dict[str, Any]] = {}
    ids: dict[int, tuple[SubnetEgress, str]] = {}
    firewall_entries: dict[tuple[str, str, str], dict[str, str]] = {}
    for key, cluster in clusters:
        entry: dict[str, Any] = {
            "cluster": cluster.id, "name": cluster.header.name, "outbound_type": cluster.outbound_type or "",
            "subnets": [_subnet(found, firewalls[key], allowed, ids, firewall_entries)
                        for _, found in sorted(subnets[key].items())],
        }
        if approved_clusters is not None:
            before = approved_clusters.get(key)
            entry["changes"] = ["cluster not approved"] if before is None else diff_cluster_view(before, views[key])
        entries.append(entry)
    return {"clusters": entries, "allowed": allowed} if entries else {}
