"""Network rule lets AKS web traffic skip FQDN filtering.

**What it checks**
An `Allow` network rule (classic or policy, base policies included) that lets TCP (or `Any`)
reach unrestricted destinations (`*`, `0.0.0.0/0`, `Internet`, `Any`, or an IP group holding
`0.0.0.0/0`) on port 80 or 443 (a single port, a range covering it, or `*`), from sources that
include part of an AKS node or pod subnet whose internet traffic the rule's firewall filters
(CIDRs, `*`, or IP groups, expanded). A rule is judged against the subnets routed through a
firewall that applies it: its own classic rules, or a policy holding the rule's collection group
directly or as a base policy. A subnet whose route or firewall could not be read counts as
possibly behind every firewall, so a rule that would otherwise pass is `skipped` for it.

**Why it matters**
Azure Firewall evaluates network rules before application rules, and a network-rule match ends
processing. A rule that allows 443 to anywhere therefore lets every HTTPS request out before
any application rule looks at its FQDN: the carefully curated FQDN allow-list for the cluster
is decoration, and a compromised pod can reach any host on the web.

**How to fix**
Remove the rule, or narrow its destinations to the IP ranges or service tags the workload really
needs; express web egress as application rules with FQDNs (and the `AzureKubernetesService` FQDN
tag for AKS's own dependencies).
"""
from dataclasses import dataclass

from aksaudit.api import (
    FIREWALL, NETWORK, UNRESOLVED, Estate, T_CLUSTER, T_FIREWALL, T_IP_GROUP, T_POLICY, T_RCG, T_ROUTE_TABLE,
    T_VIRTUAL_HUB, T_VNET, CheckMeta, EgressPath, Severity, effective_rules, fail, passed, skipped,
)
from aksaudit.checks.firewall.rule_evidence import rule_evidence
from aksaudit.checks.firewall.rule_owners import allow_rules
from aksaudit.checks.firewall.scope import carries_tcp, expand_addresses, overlaps_any, port_allowed, reaches_everywhere

META = CheckMeta(
    id="FW005",
    slug="network-rule-bypasses-fqdn-filtering",
    title="Network rule lets AKS web traffic skip FQDN filtering",
    severity=Severity.MEDIUM,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP),
    references=("https://learn.microsoft.com/azure/firewall/rule-processing",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("firewall", "rules"),
)

WEB_PORTS = (80, 443)
NAMES_IN_MESSAGE = 10  # the evidence lists every subnet; the message stays readable


@dataclass(frozen=True)
class SubnetBehind:
    """An AKS subnet, and the firewalls that filter its internet traffic."""

    id: str
    name: str
    prefixes: tuple
    firewall_ids: tuple[str, ...]


@dataclass(frozen=True)
class Exposure:
    """Which AKS subnets each rule owner's rules apply to, and the subnets that could not be placed.

    `by_owner` maps a rule collection group or classic firewall (lower-cased id) to the subnets
    routed through a firewall applying it. `uncertain` holds (gap, prefixes or None) for subnets
    whose route, next hop or firewall rule chain was unreadable: any rule may apply to them.
    """

    by_owner: dict[str, list[SubnetBehind]]
    uncertain: list[tuple[str, tuple | None]]


def _path_firewalls(path: EgressPath) -> tuple[list, list[str]]:
    """The firewalls the path's internet traffic meets (default routes and a secured hub, as
    `path.firewalls` gives them, plus narrower exception routes), and why that list may be incomplete."""
    firewalls, gaps = {f.id.lower(): f for f in path.firewalls}, list(path.hub_gaps)
    for hop in (*path.hops, *path.exception_hops):
        next_hop = hop.next_hop
        if next_hop is None:
            continue
        if next_hop.kind == FIREWALL and next_hop.firewall is not None:
            firewalls.setdefault(next_hop.firewall.id.lower(), next_hop.firewall)
        elif next_hop.kind == UNRESOLVED:
            gaps.append(next_hop.reason or f"next hop {next_hop.ip} could not be resolved")
    return list(firewalls.values()), gaps


def exposure(estate: Estate) -> Exposure:
    """One pass over the egress paths: linear in clusters, whatever the number of rules."""
    by_owner: dict[str, dict[str, SubnetBehind]] = {}
    uncertain: list[tuple[str, tuple | None]] = []
    for path in estate.egress_paths:
        if path.subnet is None or path.gap:
            uncertain.append((path.gap, path.subnet.prefixes if path.subnet else None))
            continue
        firewalls, gaps = _path_firewalls(path)
        behind = SubnetBehind(path.subnet.id, path.subnet.name, path.subnet.prefixes,
                              tuple(sorted(f.id for f in firewalls)))
        for firewall in firewalls:
            rules = effective_rules(estate, firewall)
            gaps.extend(rules.gaps)  # an unreadable link in the policy chain hides owners
            for owner_id in rules.owner_ids:
                by_owner.setdefault(owner_id.lower(), {}).setdefault(behind.id.lower(), behind)
        uncertain.extend((gap, behind.prefixes) for gap in gaps if gap)
    return Exposure({owner: list(subnets.values()) for owner, subnets in by_owner.items()}, uncertain)


def _names(subnets: list[SubnetBehind]) -> str:
    names = [s.name for s in subnets[:NAMES_IN_MESSAGE]]
    more = len(subnets) - len(names)
    return ", ".join(names) + (f" and {more} more" if more else "")


def evaluate(estate, options):
    reach = exposure(estate)
    if not reach.by_owner and not reach.uncertain:
        return  # no AKS subnet behind any firewall: no rule stands between AKS and the web
    hits: dict[tuple[str, tuple[str, ...]], list[SubnetBehind]] = {}  # rules in one owner share sources
    for owner_id, rule, gap in allow_rules(estate, NETWORK):
        if gap:
            yield skipped(owner_id, gap)
            continue
        ports = [p for p in WEB_PORTS if port_allowed(rule, p)]
        if not carries_tcp(rule) or not ports:
            yield passed(owner_id, locus=rule.locus)
            continue
        destinations, missing = expand_addresses(estate, rule.destination_addresses, rule.destination_ip_groups)
        if missing and not reaches_everywhere(destinations):
            yield skipped(owner_id, "; ".join(missing), locus=rule.locus)  # the group may hold 0.0.0.0/0
            continue
        if not reaches_everywhere(destinations):
            yield passed(owner_id, locus=rule.locus)
            continue
        sources, missing = expand_addresses(estate, rule.source_addresses, rule.source_ip_groups)
        key = (owner_id.lower(), sources)
        hit = hits.get(key)
        if hit is None:
            hit = hits[key] = [s for s in reach.by_owner.get(key[0], ()) if overlaps_any(s.prefixes, sources)]
        if hit:
            yield fail(owner_id,
                       f"Network rule '{rule.name}' in collection '{rule.collection}' allows TCP "
                       f"{'/'.join(map(str, ports))} to any destination from {len(hit)} AKS subnet(s) behind "
                       f"its firewall ({_names(hit)}): network rules match before application rules, so FQDN "
                       "filtering never sees that traffic.",
                       locus=rule.locus,
                       evidence={**rule_evidence(rule), "collection_priority": rule.collection_priority,
                                 "protocols": list(rule.protocols), "ports": list(rule.destination_ports),
                                 "web_ports_allowed": ports, "sources": list(rule.source_addresses),
                                 "source_ip_groups": list(rule.source_ip_groups),
                                 "destinations": list(rule.destination_addresses),
                                 "destination_ip_groups": list(rule.destination_ip_groups),
                                 "aks_subnets": [s.name for s in hit],
                                 "aks_subnet_ids": [s.id for s in hit],
                                 "firewalls": sorted({f for s in hit for f in s.firewall_ids})})
            continue
        gaps = missing + sorted({gap for gap, prefixes in reach.uncertain
                                 if prefixes is None or overlaps_any(prefixes, sources)})
        if gaps:
            yield skipped(owner_id, "; ".join(gaps), locus=rule.locus)
        else:
            yield passed(owner_id, locus=rule.locus)
