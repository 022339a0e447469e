"""Network rules let AKS web traffic skip FQDN filtering.

**What it checks**
Whether the `Allow` network rules of a firewall that filters an AKS node or pod subnet let that
subnet reach TCP port 80 or 443 on a broad public destination set: every public IPv4 (or IPv6)
address, however it is written (`*`, `0.0.0.0/0`, CIDR halves across rules, ranges, IP groups),
or a broad service tag (`AzureCloud`, `AzureCloud.<region>`: every address Azure hosts, where
anyone can rent a VM or storage account). Sources count as the addresses they denote (CIDRs,
ranges, `*`, IP groups), and only the part of a rule's sources inside the AKS subnet matters. A
rule is judged against the subnets routed through a firewall that applies it: its own classic
rules, or a policy holding the rule's collection group directly or as a base policy. When several
rules together cover the destinations, the finding names the smallest set responsible (and
every further disjoint set that covers them too, so a rewrite beside an existing broad rule is
still named). A subnet
whose route or firewall could not be read counts as possibly behind every firewall, and a rule
whose addresses, IP groups, ports or protocols could not be read is `skipped` when reading it could
turn the verdict. `Deny` rules do not change the verdict (an allow-by-default set with exceptions
still hides web traffic from FQDN filtering). Options: `broad_service_tags` (more tags to treat
as broad), `known_service_tags` (more tag names to accept).

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
    EVERYTHING, FIREWALL, LOWER, NETWORK, PUBLIC_V4, PUBLIC_V6, TCP, UNRESOLVED, UPPER, AddressSet, Estate,
    IntervalSet, T_CLUSTER, T_FIREWALL, T_IP_GROUP, T_POLICY, T_RCG, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_VNET,
    RuleEvidence, CheckMeta, FixKind, EgressPath, NetworkRules, Severity, covering_rules, effective_rules, fail, is_broad, network_rules,
    T_PUBLIC_IP,
    passed, rulesets_by_owner, skipped,
)
from aksaudit.checks.evidence import unidentified_next_hops
from aksaudit.checks.firewall.rule_evidence import rule_evidence
from aksaudit.checks.firewall.rule_owners import allow_rules

@dataclass(frozen=True, kw_only=True)
class FixEvidence(RuleEvidence):
    """What the fix reads beyond the shared evidence."""

    web_ports_allowed: tuple[int, ...]


META = CheckMeta(
    id="FW005",
    slug="network-rule-bypasses-fqdn-filtering",
    title="Network rule lets AKS web traffic skip FQDN filtering",
    severity=Severity.MEDIUM,
    fix=FixKind.DISRUPTIVE,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP, T_PUBLIC_IP),
    references=("https://learn.microsoft.com/azure/firewall/rule-processing",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("firewall", "rules"),
    options={"broad_service_tags": (), "known_service_tags": ()},
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
    """Which AKS subnets each firewall filters, and the subnets that could not be placed.

    `by_firewall` maps a firewall (lower-cased id) to the firewall and the subnets routed through
    it. `uncertain` holds (gap, prefixes or None) for subnets whose route, next hop or firewall
    rule chain was unreadable: any rule may apply to them.
    """

    by_firewall: dict[str, tuple[object, list[SubnetBehind]]]
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
    return list(firewalls.values()), [*gaps, *unidentified_next_hops(path)]


def exposure(estate: Estate) -> Exposure:
    """One pass over the egress paths: linear in clusters, whatever the number of rules."""
    by_firewall: dict[str, tuple[object, dict[str, SubnetBehind]]] = {}
    uncertain: list[tuple[str, tuple | None]] = [(c.pools_unread, None) for c in estate.clusters.values()
                                                 if c.pools_unread]
    # A cluster row that could not be read may put any subnet behind any firewall.
    uncertain += [(reason, None) for reason in estate.unread_rows(T_CLUSTER)]
    for path in estate.egress_paths:
        if path.subnet is None or path.gap:
            uncertain.append((path.gap, path.subnet.prefixes if path.subnet else None))
            continue
        firewalls, gaps = _path_firewalls(path)
        behind = SubnetBehind(path.subnet.id, path.subnet.name, path.subnet.prefixes,
                              tuple(sorted(f.id for f in firewalls)))
        for firewall in firewalls:
            gaps.extend(effective_rules(estate, firewall).gaps)  # an unreadable link in the policy chain
            by_firewall.setdefault(firewall.id.lower(), (firewall, {}))[1].setdefault(behind.id.lower(), behind)
        uncertain.extend((gap, behind.prefixes) for gap in gaps if gap)
    return Exposure({k: (f, list(s.values())) for k, (f, s) in by_firewall.items()}, uncertain)


def _names(subnets: list[SubnetBehind]) -> str:
    names = [s.name for s in subnets[:NAMES_IN_MESSAGE]]
    more = len(subnets) - len(names)
    return ", ".join(names) + (f" and {more} more" if more else "")


@dataclass
class Hit:
    """What one rule lets AKS subnets reach on web ports, gathered over every firewall applying it."""

    rule: object
    ports: set[int]
    reaches: set[str]  # "every public IPv4 address", "service tag AzureCloud", ...
    together_with: set[str]
    subnets: dict[str, SubnetBehind]


class WebReach:
    """Per ruleset, which rules let which sources reach web ports on broad destinations.

    A ruleset is first asked with every source: when even that covers nothing (the usual case),
    no subnet behind the firewall is examined at all.
    """

    def __init__(self, net: NetworkRules, broad_tags: frozenset[str]) -> None:
        self.net = net
        self.feasible: dict[tuple[int, str], bool] = {}
        for port in WEB_PORTS:
            for bound in (LOWER, UPPER):
                self.feasible[(port, bound)] = any(
                    covering_rules(net, EVERYTHING, TCP, target, _port(port), bound) for target in (PUBLIC_V4, PUBLIC_V6))
        self.tagged = [r for r in net.rules if r.allow and
                       any(is_broad(t) or t in broad_tags for t in r.destinations.tags)]
        # Nothing reaches the web from any source at either bound: no subnet needs asking.
        self.idle = not self.tagged and not any(self.feasible.values())

    def reach(self, sources: AddressSet, bound: str) -> list[tuple[int, str, tuple]]:
        """(port, what is reached, rules responsible) for the given sources."""
        found = []
        for port in WEB_PORTS:
            if self.feasible[(port, bound)]:
                for target, family in ((PUBLIC_V4, "IPv4"), (PUBLIC_V6, "IPv6")):
                    for cover in covering_rules(self.net, sources, TCP, target, _port(port), bound):
                        found.append((port, f"every public {family} address", cover.rules))
            for rule in self.tagged:
                rule_sources, _, ports, protocols = rule.box(bound)
                if TCP in protocols and port in ports and rule_sources.overlaps(sources):
                    for tag in sorted(rule.destinations.tags):
                        found.append((port, f"service tag {tag}", (rule,)))
        return found


def _port(port: int) -> IntervalSet:
    return IntervalSet.span(port, port + 1)


def evaluate(estate, options):
    reach = exposure(estate)
    if not reach.by_firewall and not reach.uncertain:
        return  # no AKS subnet behind any firewall: no rule stands between AKS and the web
    extra = frozenset(str(t).strip().lower() for t in options.get("known_service_tags", ()))
    broad = frozenset(str(t).strip().lower() for t in options.get("broad_service_tags", ()))
    webs: dict[int, WebReach] = {}

    def web(ruleset) -> WebReach:
        net = network_rules(estate, ruleset, extra | broad)
        found = webs.get(id(net))
        if found is None or found.net is not net:
            found = webs[id(net)] = WebReach(net, broad)
        return found

    hits: dict[tuple[str, str], Hit] = {}
    unsure: dict[tuple[str, str], set[str]] = {}
    for firewall, subnets in reach.by_firewall.values():
        walk = web(effective_rules(estate, firewall))
        if walk.idle:
            continue
        for subnet in subnets:
            sources = AddressSet.of_networks(subnet.prefixes)
            lower = walk.reach(sources, LOWER)
            for port, what, rules in lower:
                for compiled in rules:
                    key = (compiled.rule.owner_id.lower(), compiled.rule.locus)
                    hit = hits.setdefault(key, Hit(compiled.rule, set(), set(), set(), {}))
                    hit.ports.add(port)
                    hit.reaches.add(what)
                    hit.together_with.update(f"{r.rule.owner_id}/{r.rule.locus}" for r in rules if r is not compiled)
                    hit.subnets.setdefault(subnet.id.lower(), subnet)
            if walk.net.gaps:  # unreadable parts could complete another cover, whatever the lower bound found
                for _, _, rules in walk.reach(sources, UPPER):
                    for compiled in rules:
                        if compiled.gaps:
                            unsure.setdefault((compiled.rule.owner_id.lower(), compiled.rule.locus), set()).update(
                                compiled.gaps)
    if reach.uncertain:
        # A subnet we could not place may sit behind any firewall: every ruleset may apply to it.
        for ruleset in rulesets_by_owner(estate):
            walk = web(ruleset)
            for gap, prefixes in reach.uncertain:
                sources = EVERYTHING if prefixes is None else AddressSet.of_networks(prefixes)
                for _, _, rules in walk.reach(sources, UPPER):
                    for compiled in rules:
                        unsure.setdefault((compiled.rule.owner_id.lower(), compiled.rule.locus), set()).add(gap)

    for owner_id, rule, gap in allow_rules(estate, NETWORK):
        if gap:
            yield skipped(owner_id, gap)
            continue
        key = (owner_id.lower(), rule.locus)
        hit = hits.get(key)
        if hit is not None:
            subnets = sorted(hit.subnets.values(), key=lambda s: s.id.lower())
            ports = sorted(hit.ports)
            together = sorted(hit.together_with)
            with_others = f" (together with {', '.join(together)})" if together else ""
            yield fail(owner_id,
                       f"Network rule '{rule.name}' in collection '{rule.collection}'{with_others} allows TCP "
                       f"{'/'.join(map(str, ports))} to {' and '.join(sorted(hit.reaches))} from {len(subnets)} AKS "
                       f"subnet(s) behind its firewall ({_names(subnets)}): network rules match before application "
                       "rules, so FQDN filtering never sees that traffic.",
                       locus=rule.locus,
                       evidence={**rule_evidence(rule), "collection_priority": rule.collection_priority,
                                 "protocols": list(rule.protocols), "ports": list(rule.destination_ports),
                                 "web_ports_allowed": ports, "reaches": sorted(hit.reaches),
                                 "together_with": together, "sources": list(rule.source_addresses),
                                 "source_ip_groups": list(rule.source_ip_groups),
                                 "destinations": list(rule.destination_addresses),
                                 "destination_ip_groups": list(rule.destination_ip_groups),
                                 "aks_subnets": [s.name for s in subnets],
                                 "aks_subnet_ids": [s.id for s in subnets],
                                 "firewalls": sorted({f for s in subnets for f in s.firewall_ids})})
        elif key in unsure:
            yield skipped(owner_id, "; ".join(sorted(unsure[key])), locus=rule.locus)
        else:
            yield passed(owner_id, locus=rule.locus)
