"""What each cluster can reach: its effective egress, per AKS subnet, as plain data for reports.

Built on the canonical egress view (`egress_view.cluster_views`), so the report, approvals and
DRIFT001 describe traffic the same way: address ranges by protocol and port ("TCP 443 to
20.0.0.0/8"), FQDN patterns by protocol and port ("HTTPS:443 *.example.com"), service tags and
network-rule FQDNs by name, what leaves unfiltered (the route, or Azure's default route), and what
could not be read. The traffic a firewall allows from a subnet is computed once per rule set and
subnet prefixes (`subnet_egress`), so clusters sharing a firewall and subnets cost nothing more.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from aksaudit.model.row_fields import id_key
from aksaudit.analysis.egress_view import VIEW_FORMAT, cluster_views, diff_cluster_view, human_line

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


def _allowed_id(egress: Mapping[str, Any], allowed: dict[str, dict[str, Any]], ids: dict[tuple, str]) -> str:
    """The id of a firewall's allowed traffic from a subnet: subnets meeting the same rules share
    one set, written once (a hub's hundreds of spokes would otherwise repeat every line)."""
    key = (tuple(egress["network"]), tuple(egress["application"]), tuple(egress["unknown"]))
    found = ids.get(key)
    if found is None:
        found = ids[key] = f"t{len(ids) + 1}"
        allowed[found] = {"addresses": [human_line(line) for line in key[0]], "fqdns": list(key[1]),
                          "unknown": list(key[2])}
    return found


def _subnet(view: Mapping[str, Any], firewalls: Mapping[str, Mapping[str, Any]], path: Any,
            allowed: dict[str, dict[str, Any]], ids: dict[tuple, str]) -> dict[str, Any]:
    steering = view["steering"]
    parts = [steering.removeprefix("not steered: ")] if steering.startswith("not steered: ") else []
    unfiltered = "; ".join(parts + _narrower_exits(path))
    return {
        "subnet": view["subnet"], "name": view["name"], "route_table": view["route_table"] or "",
        "unfiltered": unfiltered,
        "firewalls": [{"firewall": firewalls.get(key, {}).get("firewall", key),
                       "name": firewalls.get(key, {}).get("name", ""),
                       "allowed": _allowed_id(egress, allowed, ids)}
                      for key, egress in sorted(view["egress"].items())],
    }


def effective_egress(estate: "Estate", approved: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{'clusters': one entry per cluster (sorted by name, then id), 'allowed': the traffic sets
    their firewalls allow, by id}; with an approved egress baseline of today's format, each
    cluster lists what changed since it ('changes', empty when nothing did). No clusters: {}."""
    views = cluster_views(estate)
    paths = {(id_key(p.cluster.id), id_key(p.subnet_id)): p for p in estate.egress_paths}
    approved_clusters = approved.get("clusters", {}) if approved and approved.get("version") == VIEW_FORMAT else None
    found = []
    allowed: dict[str, dict[str, Any]] = {}
    ids: dict[tuple, str] = {}
    for key, view in sorted(views.items(), key=lambda item: (item[1]["name"].lower(), item[0])):
        entry: dict[str, Any] = {
            "cluster": view["cluster"], "name": view["name"], "outbound_type": view["outbound_type"] or "",
            "subnets": [_subnet(subnet, view["firewalls"], paths.get((key, subnet_key)), allowed, ids)
                        for subnet_key, subnet in sorted(view["subnets"].items())],
        }
        if approved_clusters is not None:
            before = approved_clusters.get(key)
            entry["changes"] = ["cluster not approved"] if before is None else diff_cluster_view(before, view)
        found.append(entry)
    return {"clusters": found, "allowed": allowed} if found else {}
