"""A canonical, comparable description of what decides each cluster's egress.

Firewalls are described by the traffic they allow from each AKS subnet
(`analysis.subnet_egress`), never by rule names or text: renaming, splitting or re-spelling a
rule is not drift, widening an IP group is. Firewalls are keyed by their full lower-cased id.
Route tables are described the same way, by where longest-prefix match sends each part of the
address space (`steering_map`), so splitting `0.0.0.0/0` into two `/1` routes to the same next
hop is not drift, while a narrower route that sends a block elsewhere is.

Approved egress baselines (DRIFT001) and `aksaudit diff` both compare these descriptions, so
they agree on what counts as an egress-relevant change. Only what steers or filters traffic is
recorded; etags, provisioning states and timestamps never appear, so churn is not drift.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any, NamedTuple

from aksaudit.analysis.addresses import AddressSet, parse_address
from aksaudit.analysis.intervals import IntervalSet
from aksaudit.analysis.subnet_egress import SubnetEgress, describe_span, egress_by_prefixes, uncovered_lines
from aksaudit.model.estate import Estate
from aksaudit.model.resources import Firewall
from aksaudit.analysis.rulesets import RuleSet, effective_rules
from aksaudit.model.row_fields import id_key

# The shape of the views below; an approved baseline records it (as its 'version') so a view of
# another shape is never compared with today's. 3: routes as computed steering, next hops by target.
VIEW_FORMAT = 3
SYSTEM_ROUTES = "Azure's system routes"  # where space no user route matches goes


def route_summary(route) -> str:
    return f"{route.next_hop_type} {route.next_hop_ip}".strip()


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


class SubnetPath(NamedTuple):
    """One AKS subnet of a cluster: its egress path, where its public traffic goes (`steering`),
    and per firewall filtering it (lower-cased id, in path order) the rules it applies and the
    traffic they allow from the subnet: one `SubnetEgress` object per distinct traffic set (see
    `subnet_egress`), so reports group subnets by identity rather than by their lines."""

    cluster_key: str
    subnet_key: str
    path: Any  # EgressPath
    steering: str
    egress: tuple[tuple[str, Firewall, RuleSet, SubnetEgress], ...]


def subnet_paths(estate: Estate) -> list[SubnetPath]:
    """A `SubnetPath` per egress path, in the estate's order."""
    found = []
    # Per firewall and cluster object, asked once: a hub's firewall is on hundreds of paths.
    behind: dict[int, tuple[Firewall, str, RuleSet, Any]] = {}
    cluster_keys: dict[int, tuple[Any, str]] = {}
    for path in estate.egress_paths:
        prefixes = path.subnet.prefixes if path.subnet else ()
        egress = []
        for firewall in path.firewalls:
            known = behind.get(id(firewall))
            if known is None:
                ruleset = effective_rules(estate, firewall)
                known = behind[id(firewall)] = (firewall, id_key(firewall.id), ruleset, egress_by_prefixes(estate, ruleset))
            egress.append((known[1], firewall, known[2], known[3](prefixes)))
        cluster = cluster_keys.get(id(path.cluster))
        if cluster is None:
            cluster = cluster_keys[id(path.cluster)] = (path.cluster, id_key(path.cluster.id))
        found.append(SubnetPath(cluster[1], id_key(path.subnet_id), path,
                                _steering(path, [key for key, *_ in egress]), tuple(egress)))
    return found


def cluster_views(estate: Estate) -> dict[str, dict[str, Any]]:
    """Per cluster (lower-cased id): its subnets, routes, next hops, firewalls and rule digests."""
    views: dict[str, dict[str, Any]] = {}
    digests: dict[tuple, tuple[tuple[SubnetEgress, ...], str]] = {}
    for cluster in estate.clusters.values():
        views[id_key(cluster.id)] = {"cluster": cluster.id, "name": cluster.header.name,
                                     "outbound_type": cluster.outbound_type, "subnets": {}, "firewalls": {}}
    for found in subnet_paths(estate):
        path, view = found.path, views[found.cluster_key]
        subnet: dict[str, Any] = {"subnet": path.subnet_id, "name": path.subnet.name if path.subnet else "",
                                  "route_table": path.route_table.id if path.route_table else
                                  (path.subnet.route_table_id if path.subnet else ""),
                                  "routes": {}, "next_hops": {}}
        if path.route_table:
            subnet["routes"] = steering_map(path.route_table.routes)
        for hop in path.hops:
            target = hop.next_hop.firewall.id if hop.next_hop and hop.next_hop.firewall else ""
            subnet["next_hops"][route_summary(hop.route)] = {
                "kind": hop.next_hop.kind if hop.next_hop else "", "firewall": id_key(target) if target else ""}
        subnet["steering"] = found.steering
        subnet["egress"] = {}
        for firewall_key, firewall, ruleset, egress in found.egress:
            subnet["egress"][firewall_key] = egress.as_dict()
            view["firewalls"][firewall_key] = {
                "firewall": firewall.id, "name": firewall.header.name, "private_ips": sorted(firewall.private_ips),
                "policy": firewall.policy_id, "threat_intel_mode": ruleset.threat_intel_mode}
        # Subnets behind the same firewalls with the same traffic (most spokes of a hub) have one
        # digest; `SubnetEgress` objects are one per distinct value, so identity stands for it.
        objects = tuple(egress for *_, egress in found.egress)
        digest_key = (found.steering, tuple((key, id(egress)) for key, *_, egress in found.egress))
        known = digests.get(digest_key)
        if known is None or any(a is not b for a, b in zip(known[0], objects)):  # kept: ids stay theirs
            known = digests[digest_key] = (objects, _digest([found.steering, subnet["egress"]]))
        subnet["egress_digest"] = known[1]
        view["subnets"][found.subnet_key] = subnet
    return views


def steering_map(routes) -> dict[str, str]:
    """Where longest-prefix match sends each part of the address space: {CIDR or range: next hop}.

    Adjacent parts with the same next hop are one entry, so `0.0.0.0/1` and `128.0.0.0/1` to one
    appliance read as `0.0.0.0/0` does; space no route matches is left out (Azure's system routes
    decide it). Routes without an address prefix (service tags, unreadable ones) cannot be placed
    offline and are listed by what they hold.
    """
    # Spokes' route tables usually hold the same few routes: computed once per distinct list.
    return dict(_steering_items(tuple((r.network, r.address_prefix, r.next_hop_type, r.next_hop_ip) for r in routes)))


@lru_cache(maxsize=4096)
def _steering_items(routes: tuple) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    summaries = [(network, prefix, f"{hop_type} {hop_ip}".strip()) for network, prefix, hop_type, hop_ip in routes]
    for version in (4, 6):
        entries = [(network, summary) for network, _, summary in summaries
                   if network is not None and network.version == version]
        for start, end, summary in _winning_spans(entries):
            found[describe_span(start, end, version)] = summary
    for network, prefix, summary in summaries:
        if network is None:
            found[f"route {prefix.strip() or '(no prefix)'}"] = summary
    return tuple(found.items())


def _winning_spans(entries: list) -> list[tuple[int, int, str]]:
    """(start, end, next hop) of the longest matching prefix, ties to the earlier route, merged."""
    bounds = [(int(n.network_address), int(n.network_address) + n.num_addresses, n.prefixlen, i, summary)
              for i, (n, summary) in enumerate(entries)]
    cuts = sorted({b for start, end, *_ in bounds for b in (start, end)})
    spans: list[tuple[int, int, str]] = []
    for low, high in zip(cuts, cuts[1:]):
        matching = [(-length, index, summary) for start, end, length, index, summary in bounds
                    if start <= low and high <= end]
        if not matching:
            continue
        summary = min(matching)[2]
        if spans and spans[-1][1] == low and spans[-1][2] == summary:
            spans[-1] = (spans[-1][0], high, summary)
        else:
            spans.append((low, high, summary))
    return spans


def _steering(path, firewall_keys: list[str]) -> str:
    """Where the subnet's public traffic goes: its firewalls (lower-cased ids), or 'not steered'
    with the deciding next hops (the routes themselves are in the view's steering map)."""
    if firewall_keys:
        return "firewall " + ", ".join(sorted(firewall_keys))
    hops = sorted({route_summary(hop.route) for hop in path.hops})
    if path.decision is not None and path.decision.uncovered or not hops:
        hops.append("Azure's default route to the Internet")
    return "not steered: " + "; ".join(hops)


def _steering_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Where traffic to each part of the address space went and goes, for the parts that changed."""
    changes = []
    for version in (4, 6):
        old, new = _spans(before, version), _spans(after, version)
        cuts = sorted({b for start, end, _ in (*old, *new) for b in (start, end)})
        moved: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for low, high in zip(cuts, cuts[1:]):
            was, now = _at(old, low), _at(new, low)
            if was != now:
                moved.setdefault((was, now), []).append((low, high))
        changes += [f"traffic to {_describe_part(IntervalSet.of(spans), version)}: {was} → {now}"
                    for (was, now), spans in moved.items()]
    unplaced = lambda m: {k: v for k, v in m.items() if k.startswith("route ")}  # noqa: E731
    changes += _diff_map(unplaced(before), unplaced(after), lambda p: p, lambda p, a, b: f"{p} next hop {a} → {b}")
    return changes


def _describe_part(part: IntervalSet, version: int) -> str:
    """`0.0.0.0/0 except 20.103.42.17/32` when the part is a CIDR less a few holes, else its pieces."""
    start, end = part.spans[0][0], part.spans[-1][1]
    bits = 32 if version == 4 else 128
    length = bits - max(1, (start ^ (end - 1))).bit_length() if end - start > 1 else bits
    hull_start = start >> (bits - length) << (bits - length)
    hull = IntervalSet.span(hull_start, hull_start + 2 ** (bits - length))
    holes = hull - part
    as_set = (lambda s: AddressSet(v4=s)) if version == 4 else (lambda s: AddressSet(v6=s))  # noqa: E731
    if holes and len(holes.spans) < len(part.spans):
        return f"{as_set(hull).describe()[0]} except {', '.join(as_set(holes).describe())}"
    return ", ".join(as_set(part).describe())


def _spans(steering: dict[str, str], version: int) -> list[tuple[int, int, str]]:
    found = []
    for key, summary in steering.items():
        addresses = None if key.startswith("route ") else parse_address(key)
        family = (addresses.v4 if version == 4 else addresses.v6) if addresses is not None else None
        found += [(start, end, summary) for start, end in (family.spans if family else ())]
    return found


def _at(spans: list[tuple[int, int, str]], address: int) -> str:
    return next((summary for start, end, summary in spans if start <= address < end), SYSTEM_ROUTES)


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
        changes.extend(f"subnet '{name}' {line}" for line in _steering_changes(before["routes"], after["routes"]))
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
