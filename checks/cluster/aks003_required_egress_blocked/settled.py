"""Clusters whose own dependency list cannot change AKS003's verdict: no need to ask the AKS API.

What the list holds (AKS's `outboundNetworkDependenciesEndpoints`, and the "required outbound
network rules and FQDNs" of AKS's egress documentation): the endpoints of the cloud and region
the cluster runs in, its API server FQDN (unless private), and the endpoints of the add-ons and
features in the cluster's own definition (monitoring, policy, GPU and Windows pools, ...). Every
cluster's list, whatever its add-ons, region or API server, holds two categories:

* `azure-resource-management`: `management.azure.com`, `login.microsoftonline.com`;
* `images`: `mcr.microsoft.com`, `*.data.mcr.microsoft.com`.

With the list, AKS003 requires its HTTPS domains; a firewall on a node path that misses or
blocks any of them is a failure, unless a rule the walk meets has an unreadable part (then the
path is unknown, `skipped`). So when those domains alone already fail a cluster, and no rule of
the firewalls on its node paths has an unreadable part that a longer list could meet, the list
can only add requirements: the verdict is `fail` with or without it, and the lookup is not made.

The other direction: a firewall that lets every HTTPS name through. When a cluster passes
with a single made-up name that no FQDN pattern of its firewalls covers other than `*` (so only
rules matching any name let it through: any destination, `*`, the AKS FQDN tag), no rule of
those firewalls could deny an HTTPS name (no `Deny` application rule for HTTPS, no `Deny`
network rule carrying TCP 443) and none has an unreadable part, then every name the list could
hold passes the same way: the verdict is `pass` with or without it.

Not decided here, so the lookup is made: everything else (a firewall that allows some names and
not others, a `Deny` rule that could meet an HTTPS name, an unreadable part), and every
cluster when `excluded_endpoint_categories` leaves none of the two categories for the first
direction. A lookup too many costs only time.
"""
from __future__ import annotations

from typing import Any, Mapping

from aksaudit.api import APPLICATION, NETWORK, TCP, Status, effective_rules, ip_group_addresses, parse_addresses, parse_ports

# Categories every cluster's dependency list holds, and their HTTPS domains (AKS's documentation).
ALWAYS_LISTED = {
    "azure-resource-management": ("management.azure.com", "login.microsoftonline.com"),
    "images": ("mcr.microsoft.com", "*.data.mcr.microsoft.com"),
}
PROBE = "aksaudit-probe.name-no-rule-names.invalid"  # any name works if no pattern but '*' covers it
PASSES = ("the firewall on its node egress path lets every HTTPS name through and has no rule that could deny one: "
          "the list cannot change AKS003's verdict")
REASON = ("the firewall on its node egress path already fails the domains every cluster's list holds "
          "(management.azure.com, login.microsoftonline.com, mcr.microsoft.com): the list cannot change AKS003's verdict")


def expand_addresses(estate: Any, addresses: tuple[str, ...], ip_groups: tuple[str, ...]) -> tuple[Any, list[str]]:
    """The addresses a rule side denotes (literals, ranges, tags and IP groups), and what could not be read."""
    found = parse_addresses(addresses).union(ip_group_addresses(estate, ip_groups, "rule"))
    return found, list(found.unknown)


def port_allowed(rule: Any, port: int) -> bool:
    """Whether a network rule's destination ports include `port` (`*`, single ports, ranges)."""
    return port in parse_ports(rule.destination_ports).ports


def carries_tcp(rule: Any) -> bool:
    """Network rule protocols TCP or Any (no protocol listed: Any, as a cautious reading for a deny)."""
    return not rule.protocols or any(p.strip().lower() in (TCP, "any") for p in rule.protocols)


def _fully_readable(estate: Any, ruleset: Any) -> bool:
    """No rule of the ruleset has a side that could not be read (an IP group missing or unreadable)."""
    if ruleset.gaps:
        return False
    for rule in ruleset.rules:
        if expand_addresses(estate, rule.source_addresses, rule.source_ip_groups)[1]:
            return False
        if rule.kind == NETWORK and expand_addresses(estate, rule.destination_addresses, rule.destination_ip_groups)[1]:
            return False
    return True


def _patterns(rule: Any) -> list[str]:
    from aksaudit.checks.cluster.aks003_required_egress_blocked import _targets

    found = rule.destination_fqdns if rule.kind == NETWORK else _targets(rule)
    return [p.strip().lower().rstrip(".") for p in found]


def _may_deny_https(rule: Any) -> bool:
    if rule.allows:
        return False
    if rule.kind == NETWORK:
        return carries_tcp(rule) and port_allowed(rule, 443)
    return rule.kind == APPLICATION and any(p.partition(":")[0].strip().lower() == "https" for p in rule.protocols)


def _names_only_by_star(ruleset: Any) -> bool:
    """No FQDN pattern of the ruleset but `*` covers PROBE, and no rule could deny an HTTPS name."""
    for rule in ruleset.rules:
        if _may_deny_https(rule):
            return False
        for pattern in _patterns(rule):
            if pattern != "*" and (pattern == PROBE or (pattern.startswith("*") and PROBE.endswith(pattern[1:]))):
                return False
    return True


def _verdicts(estate: Any, options: Mapping[str, Any], names: tuple[str, ...], evaluate: Any) -> dict[str, Status]:
    probe = {**options, "required_fqdns": names, "public_cluster_fqdns": ()}
    return {o.resource_id: o.status for o in evaluate(estate, probe)}


def settled_lookups(estate: Any, options: Mapping[str, Any]) -> dict[str, str]:
    """Cluster id (as in its row) -> why its own dependency list cannot change AKS003's verdict."""
    from aksaudit.checks.cluster.aks003_required_egress_blocked import _node_paths, _paths_by_cluster, evaluate

    excluded = {str(c).lower() for c in options.get("excluded_endpoint_categories", ())}
    domains = tuple(d for category, names in ALWAYS_LISTED.items() if category not in excluded for d in names)
    failing = _verdicts(estate, options, domains, evaluate) if domains else {}
    passing = _verdicts(estate, options, (PROBE,), evaluate)
    by_cluster = _paths_by_cluster(estate)
    readable: dict[str, bool] = {}  # per firewall (lower-cased id): effective rules fully readable
    open_to_all: dict[str, bool] = {}  # per firewall: only '*' covers the probe, and nothing denies HTTPS
    settled: dict[str, str] = {}
    for cluster in estate.clusters.values():
        fails = failing.get(cluster.id) is Status.FAIL
        passes = passing.get(cluster.id) is Status.PASS
        if not (fails or passes):
            continue
        firewalls = [f for p in _node_paths(estate, cluster, by_cluster.get(id(cluster), ())) for f in p.firewalls]
        for firewall in firewalls:
            key = firewall.id.lower()
            if key not in readable:
                ruleset = effective_rules(estate, firewall)
                readable[key] = _fully_readable(estate, ruleset)
                open_to_all[key] = readable[key] and _names_only_by_star(ruleset)
            fails = fails and readable[key]
            passes = passes and open_to_all[key]
        if fails:
            settled[cluster.id] = REASON
        elif passes and firewalls:
            settled[cluster.id] = PASSES
    return settled
