"""A canonical, comparable description of what decides each cluster's egress.

Firewalls are described by the traffic they allow from each AKS subnet
(`analysis.subnet_egress`), never by rule names or text: renaming, splitting or re-spelling a
rule is not drift, widening an IP group is. Firewalls are keyed by their full lower-cased id.

Approved egress baselines (DRIFT001) and `aksaudit diff` both compare these descriptions, so
they agree on what counts as an egress-relevant change. Only what steers or filters traffic is
recorded; etags, provisioning states and timestamps never appear, so churn is not drift.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .analysis.subnet_egress import subnet_egress, uncovered_lines
from .model import Estate
from .rulesets import effective_rules
from .rows import id_key

# The shape of the views below; an approved baseline records it (as its 'version') so a view of
# another shape is never compared with today's.
VIEW_FORMAT = 2


def route_summary(route) -> str:
    return f"{route.next_hop_type} {route.next_hop_ip}".strip()


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def cluster_views(estate: Estate) -> dict[str, dict[str, Any]]:
    """Per cluster (lower-cased id): its subnets, routes, next hops, firewalls and rule digests."""
    views: dict[str, dict[str, Any]] = {}
    for cluster in estate.clusters.values():
        views[id_key(cluster.id)] = {"cluster": cluster.id, "name": cluster.header.name,
                                     "outbound_type": cluster.outbound_type, "subnets": {}, "firewalls": {}}
    for path in estate.egress_paths:
        view = views[id_key(path.cluster.id)]
        subnet: dict[str, Any] = {"subnet": path.subnet_id, "name": path.subnet.name if path.subnet else "",
                                  "route_table": path.route_table.id if path.route_table else
                                  (path.subnet.route_table_id if path.subnet else ""),
                                  "routes": {}, "next_hops": {}}
        if path.route_table:
            subnet["routes"] = {r.address_prefix: route_summary(r) for r in path.route_table.routes}
        for hop in path.hops:
            target = hop.next_hop.firewall.id if hop.next_hop and hop.next_hop.firewall else ""
            subnet["next_hops"][hop.route.address_prefix] = {
                "next_hop": route_summary(hop.route), "kind": hop.next_hop.kind if hop.next_hop else "",
                "firewall": target}
        subnet["steering"] = _steering(path)
        subnet["egress"] = {}
        for firewall in path.firewalls:
            ruleset = effective_rules(estate, firewall)
            prefixes = path.subnet.prefixes if path.subnet else ()
            subnet["egress"][id_key(firewall.id)] = subnet_egress(estate, ruleset, prefixes).as_dict()
            view["firewalls"][id_key(firewall.id)] = {
                "firewall": firewall.id, "name": firewall.header.name, "private_ips": sorted(firewall.private_ips),
                "policy": firewall.policy_id, "threat_intel_mode": ruleset.threat_intel_mode}
        subnet["egress_digest"] = _digest([subnet["steering"], subnet["egress"]])
        view["subnets"][id_key(path.subnet_id)] = subnet
    return views


def _steering(path) -> str:
    """Where the subnet's public traffic goes: its firewalls, or 'not steered' with the deciding route."""
    if path.firewalls:
        return "firewall " + ", ".join(sorted(id_key(f.id) for f in path.firewalls))
    routes = [f"{hop.route.address_prefix} {route_summary(hop.route)}" for hop in path.hops]
    if path.decision is not None and path.decision.uncovered or not routes:
        routes.append("Azure's default route to the Internet")
    return "not steered: " + "; ".join(routes)


def diff_cluster_view(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable differences between two views of one cluster, most specific first."""
    changes: list[str] = []
    if old.get("outbound_type") != new.get("outbound_type"):
        changes.append(f"outbound type {old.get('outbound_type') or '(none)'} → {new.get('outbound_type') or '(none)'}")
    old_subnets, new_subnets = old.get("subnets", {}), new.get("subnets", {})
    for key in sorted(old_subnets.keys() - new_subnets.keys()):
        changes.append(f"no longer uses subnet '{old_subnets[key]['name'] or key}'")
    for key in sorted(new_subnets.keys() - old_subnets.keys()):
        changes.append(f"now uses subnet '{new_subnets[key]['name'] or key}'")
    for key in sorted(old_subnets.keys() & new_subnets.keys()):
        before, after = old_subnets[key], new_subnets[key]
        name = after["name"] or key
        if id_key(before["route_table"] or "") != id_key(after["route_table"] or ""):
            changes.append(f"subnet '{name}' route table {_short(before['route_table'])} → {_short(after['route_table'])}")
        changes.extend(_diff_map(before["routes"], after["routes"], lambda p: f"route {p}",
                                 lambda p, a, b: f"{p} next hop {a} → {b}"))
        if before.get("egress_digest") != after.get("egress_digest"):
            changes.extend(_egress_changes(name, before, after, {**old.get("firewalls", {}), **new.get("firewalls", {})}))
    old_fw, new_fw = old.get("firewalls", {}), new.get("firewalls", {})
    for key in sorted(old_fw.keys() - new_fw.keys()):
        changes.append(f"egress no longer reaches firewall '{old_fw[key]['name']}'")
    for key in sorted(new_fw.keys() - old_fw.keys()):
        changes.append(f"egress now reaches firewall '{new_fw[key]['name']}'")
    for key in sorted(old_fw.keys() & new_fw.keys()):
        before, after = old_fw[key], new_fw[key]
        if before["private_ips"] != after["private_ips"]:
            changes.append(f"firewall '{after['name']}' private IPs {', '.join(before['private_ips'])} → "
                           f"{', '.join(after['private_ips'])}")
        if before.get("threat_intel_mode") != after.get("threat_intel_mode"):
            changes.append(f"firewall '{after['name']}' threat intelligence {before.get('threat_intel_mode') or '(unset)'}"
                           f" → {after.get('threat_intel_mode') or '(unset)'}")
    return changes


def _egress_changes(name: str, before: dict[str, Any], after: dict[str, Any],
                    firewalls: dict[str, dict[str, Any]]) -> list[str]:
    """Where the subnet's public traffic goes, and what each firewall lets it reach, before and after."""
    changes = []
    if before["steering"] != after["steering"]:
        def named(steering: str) -> str:
            if not steering.startswith("firewall "):
                return steering
            ids = steering.removeprefix("firewall ").split(", ")
            return "firewall " + ", ".join(f"'{firewalls.get(i, {}).get('name') or i}'" for i in ids)
        changes.append(f"subnet '{name}' public traffic: {named(before['steering'])} → {named(after['steering'])}")
    old_egress, new_egress = before["egress"], after["egress"]
    for key in sorted(old_egress.keys() & new_egress.keys()):
        prefix = f"subnet '{name}' via firewall '{firewalls.get(key, {}).get('name') or key}'"
        old, new = old_egress[key], new_egress[key]
        changes += [f"{prefix} now also allows {human_line(line)}"
                    for line in uncovered_lines(new["network"], old["network"])]
        changes += [f"{prefix} now allows {line}" for line in sorted(set(new["application"]) - set(old["application"]))]
        changes += [f"{prefix} cannot read {line}" for line in sorted(set(new["unknown"]) - set(old["unknown"]))]
        changes += [f"{prefix} no longer allows {human_line(line)}"
                    for line in uncovered_lines(old["network"], new["network"])]
        changes += [f"{prefix} no longer allows {line}"
                    for line in sorted(set(old["application"]) - set(new["application"]))]
        changes += [f"{prefix} can read again {line}" for line in sorted(set(old["unknown"]) - set(new["unknown"]))]
    return changes


def human_line(line: str) -> str:
    """A canonical egress line in words: 'TCP * to 0.0.0.0/0' reads 'TCP any port to any IPv4 address'.

    Only messages use this; the canonical lines stay as they are in approvals and digests."""
    for cidr, words in ((" to 0.0.0.0/0", " to any IPv4 address"), (" to ::/0", " to any IPv6 address")):
        if line.endswith(cidr):
            line = line[: -len(cidr)] + words
    for protocol in ("TCP", "UDP"):
        line = line.replace(f"{protocol} * ", f"{protocol} any port ")
    return line


def _diff_map(before: dict[str, str], after: dict[str, str], label, changed) -> list[str]:
    lines = [f"{label(k)} added ({after[k]})" for k in sorted(after.keys() - before.keys())]
    lines += [f"{label(k)} removed (was {before[k]})" for k in sorted(before.keys() - after.keys())]
    lines += [changed(k, before[k], after[k]) for k in sorted(before.keys() & after.keys()) if before[k] != after[k]]
    return lines


def _short(resource_id: str | None) -> str:
    return f"'{resource_id.rsplit('/', 1)[-1]}'" if resource_id else "(none)"
