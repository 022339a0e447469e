"""A canonical, comparable description of what decides each cluster's egress.

Approved egress baselines (DRIFT001) and `aksaudit diff` both compare these descriptions, so
they agree on what counts as an egress-relevant change. Only what steers or filters traffic is
recorded; etags, provisioning states and timestamps never appear, so churn is not drift.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .firewall_rules import FirewallRule
from .model import Estate
from .rulesets import effective_rules
from .rows import id_key


def rule_summary(rule: FirewallRule) -> str:
    """One line saying what a rule lets through: the unit 'gained/lost/changed' is reported in."""
    parts = [f"{rule.action} {rule.kind}"]
    fields = (("from", rule.source_addresses + tuple(f"ipgroup:{g.rsplit('/', 1)[-1]}" for g in rule.source_ip_groups)),
              ("to", rule.destination_addresses + tuple(f"ipgroup:{g.rsplit('/', 1)[-1]}" for g in rule.destination_ip_groups)
               + rule.destination_fqdns),
              ("ports", rule.destination_ports), ("protocols", rule.protocols), ("fqdns", rule.target_fqdns),
              ("urls", rule.target_urls), ("tags", rule.fqdn_tags), ("categories", rule.web_categories))
    for label, values in fields:
        if values:
            parts.append(f"{label} {','.join(sorted(values))}")
    return " ".join(parts)


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
        view["subnets"][id_key(path.subnet_id)] = subnet
        for firewall in path.firewalls:
            ruleset = effective_rules(estate, firewall)
            rules = {f"{r.owner_id.rsplit('/', 1)[-1]}:{r.locus}": rule_summary(r) for r in ruleset.rules}
            view["firewalls"][id_key(firewall.id)] = {
                "firewall": firewall.id, "name": firewall.header.name, "private_ips": sorted(firewall.private_ips),
                "policy": firewall.policy_id, "rules": rules, "rules_digest": _digest(rules),
                "threat_intel_mode": ruleset.threat_intel_mode}
    return views


def _locus_label(locus: str) -> tuple[str, str]:
    """('net', 'temp-debug') from 'rcg:ruleCollections/net/rules/temp-debug'."""
    _, _, path = locus.partition(":")
    parts = path.split("/")
    return (parts[1] if len(parts) > 1 else path, parts[-1])


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
        if before["rules_digest"] != after["rules_digest"]:
            changes.extend(_rule_changes(before["rules"], after["rules"]))
    return changes


def _rule_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    changes = []
    for locus in sorted(after.keys() - before.keys()):
        collection, rule = _locus_label(locus)
        changes.append(f"rule collection '{collection}' gained rule '{rule}' ({after[locus]})")
    for locus in sorted(before.keys() - after.keys()):
        collection, rule = _locus_label(locus)
        changes.append(f"rule collection '{collection}' lost rule '{rule}'")
    for locus in sorted(before.keys() & after.keys()):
        if before[locus] != after[locus]:
            collection, rule = _locus_label(locus)
            changes.append(f"rule '{rule}' in collection '{collection}' changed: {before[locus]} → {after[locus]}")
    return changes


def _diff_map(before: dict[str, str], after: dict[str, str], label, changed) -> list[str]:
    lines = [f"{label(k)} added ({after[k]})" for k in sorted(after.keys() - before.keys())]
    lines += [f"{label(k)} removed (was {before[k]})" for k in sorted(before.keys() - after.keys())]
    lines += [changed(k, before[k], after[k]) for k in sorted(before.keys() & after.keys()) if before[k] != after[k]]
    return lines


def _short(resource_id: str | None) -> str:
    return f"'{resource_id.rsplit('/', 1)[-1]}'" if resource_id else "(none)"
