"""What a firewall lets one subnet reach, as canonical lines: the unit egress drift is judged in.

Drift is a change in *traffic*, not in how rules are spelled. Two rule sets that allow the same
packets from a subnet render the same lines however they are written (a CIDR split in halves, an
address moved into an IP group, a rule renamed or split), and widening an IP group's contents
changes the lines even though no rule text changed.

Network rules are evaluated first-match (denies included) per source atom of the subnet, per
protocol and IP version; port ranges allowed on the same destinations form one port set, and
each of its merged destination intervals is one line ("TCP 443 to 20.0.0.0/8"). Service tags and FQDNs in
network rules have no offline prefixes, so they are listed by name with the ports of the Allow
rules naming them. Application rules are listed as allowed "PROTOCOL:port pattern" pairs from the
Allow rules whose sources may include the subnet. What could not be read is listed by name; the
lines are then the least the rules are known to allow.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable
from weakref import WeakKeyDictionary

from aksaudit.model.firewall_rules import APPLICATION
from .addresses import AddressSet, Addresses, parse_address, parse_addresses
from .intervals import HolderIndex, IntervalSet
from .network_rules import (
    AS_WRITTEN, CompiledRule, NetworkRules, SourceAtom, ip_group_addresses, network_rules, source_index,
    source_parts,
)
from .ports import ALL_PORTS, ICMP, TCP, UDP, USABLE_PORTS, parse_ports

if TYPE_CHECKING:
    from aksaudit.model.estate import Estate
    from aksaudit.analysis.rulesets import RuleSet

PROTOCOL_ORDER = (TCP, UDP, ICMP)


@dataclass(frozen=True)
class SubnetEgress:
    """The traffic a firewall allows from one subnet, as sorted, deduplicated lines."""

    network: tuple[str, ...]
    application: tuple[str, ...]
    unknown: tuple[str, ...]

    def as_dict(self) -> dict[str, list[str]]:
        return {"network": list(self.network), "application": list(self.application), "unknown": list(self.unknown)}


def describe_ports(ports: IntervalSet) -> str:
    """'443', '80,443', '1000-2000', or '*' for every usable port."""
    if ports.covers(USABLE_PORTS):
        return "*"
    return ",".join(str(s) if e == s + 1 else f"{s}-{e - 1}" for s, e in ports.spans)


def describe_span(start: int, end: int, version: int) -> str:
    """One destination interval as a CIDR or an `a-b` range."""
    span = IntervalSet.span(start, end)
    return AddressSet(v4=span).describe()[0] if version == 4 else AddressSet(v6=span).describe()[0]


def _region_lines(rules: NetworkRules, atom, protocol: str) -> list[str]:
    """Lines for the allowed (destination, port) set, grouped so each port set is named once.

    Port ranges allowed on exactly the same destinations are one port set; each of its
    destination intervals is one line. The grouping depends only on the allowed set, so any
    spelling of the same traffic gives the same lines ("TCP 22 to 0.0.0.0/0" and
    "TCP 443 to 20.0.0.0/8", not the pieces of 0.0.0.0/0 that 20.0.0.0/8 cuts).
    """
    lines = []
    for version in (4, 6):
        found = rules.allowed_region(atom, protocol, version, AS_WRITTEN)
        pieces = [(found.cuts[i], found.cuts[i + 1], ports) for i, ports in enumerate(found.ports) if ports]
        port_cuts = sorted({b for _, _, ports in pieces for b in ports.boundaries()})
        # The destinations allowed on each elementary port range, each piece put in the ranges
        # its ports span (rather than each range asking every piece).
        at_ports: list[list[tuple[int, int]]] = [[] for _ in port_cuts]
        for start, end, ports in pieces:
            for low, high in ports.spans:
                for index in range(bisect.bisect_left(port_cuts, low), bisect.bisect_left(port_cuts, high)):
                    at_ports[index].append((start, end))
        by_destinations: dict[IntervalSet, list[tuple[int, int]]] = {}
        for low, high, spans in zip(port_cuts, port_cuts[1:], at_ports):
            destinations = IntervalSet.of(spans)
            if destinations:
                by_destinations.setdefault(destinations, []).append((low, high))
        for destinations, port_spans in by_destinations.items():
            ports = IntervalSet.of(port_spans)
            label = protocol.upper() if protocol == ICMP else f"{protocol.upper()} {describe_ports(ports)}"
            lines += [f"{label} to {describe_span(start, end, version)}" for start, end in destinations.spans]
    return lines


def _named_lines(rules: tuple[CompiledRule, ...], protocol: str) -> list[str]:
    """Service tags and FQDNs of Allow rules: names without offline prefixes, listed with their ports."""
    ports_by_name: dict[str, IntervalSet] = {}
    for rule in rules:
        _, _, ports, protocols = rule.box(AS_WRITTEN)
        if not rule.allow or protocol not in protocols:
            continue
        for name in (*(f"service tag {t}" for t in sorted(rule.destinations.tags)),
                     *(f"FQDN {f}" for f in rule.destination_fqdns)):
            ports_by_name[name] = ports_by_name.get(name, IntervalSet()) | (ALL_PORTS if protocol == ICMP else ports)
    return [f"{protocol.upper()}{'' if protocol == ICMP else ' ' + describe_ports(p)} to {name}"
            for name, p in ports_by_name.items() if p]


def _canonical(memo: dict, value: tuple[str, ...]) -> tuple[str, ...]:
    """One object per distinct answer of a rule set: equal answers are then the same object, so
    the parts of a subnet reaching the same traffic are grouped by identity, not by hashing lines."""
    return memo.setdefault("subnet-egress-canonical", {}).setdefault(value, value)


def _part_lines(rules: NetworkRules, key: tuple[int, ...], spans: list[tuple[str, int, int]]) -> tuple[str, ...]:
    """The lines of a part of a subnet held by the rules at positions `key` (the part's traffic
    depends only on those rules: subnets meeting the same rules, most subnets behind one
    firewall, share them, computed once per rule set)."""
    memo_key = ("subnet-egress-lines", key)
    lines = rules.memo.get(memo_key)
    if lines is None:
        atom = SourceAtom(_addresses(spans), tuple(rules.rules[i] for i in key))  # positions are indices
        lines = rules.memo[memo_key] = _canonical(rules.memo, tuple(sorted({
            line for protocol in PROTOCOL_ORDER
            for line in (*_region_lines(rules, atom, protocol), *_named_lines(atom.rules, protocol))})))
    return lines


def _addresses(spans: Iterable[tuple[str, int, int]]) -> AddressSet:
    spans = list(spans)
    return AddressSet(IntervalSet.of((s, e) for v, s, e in spans if v == "v4"),
                      IntervalSet.of((s, e) for v, s, e in spans if v == "v6"))


def network_lines(rules: NetworkRules, sources: AddressSet) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(lines, unknown) for what the network rules allow from `sources`.

    Parts of the subnet that reach the same traffic are merged; when parts of the subnet differ,
    each line says which part ("from 10.0.0.0/25: TCP 443 to ..."). Both answers are canonical
    per rule set (see `_canonical`).
    """
    by_lines: dict[int, tuple[tuple[str, ...], list[tuple[str, int, int]]]] = {}
    for key, spans in source_parts(rules.rules, sources, AS_WRITTEN).items():
        lines = _part_lines(rules, key, spans)
        found = by_lines.get(id(lines))  # canonical: identity is equality, and `lines` lives in the memo
        if found is None:
            by_lines[id(lines)] = (lines, list(spans))
        else:
            found[1].extend(spans)
    if len(by_lines) == 1:
        [(rendered, _)] = by_lines.values()  # sorted and deduplicated already
    else:
        rendered = _canonical(rules.memo, tuple(sorted({
            f"from {', '.join(_addresses(spans).describe(limit=1_000_000))}: {line}"
            for lines, spans in by_lines.values() for line in lines})))
    # A rule whose sources are unreadable may apply to the subnet, Allow or Deny alike.
    with_gaps = rules.memo.get("rules-with-gaps")
    if with_gaps is None:
        with_gaps = rules.memo["rules-with-gaps"] = tuple((rule, rule.gaps) for rule in rules.rules if rule.gaps)
    unknown: tuple[str, ...] = ()
    if with_gaps:
        unknown = _canonical(rules.memo, tuple(sorted({
            gap for rule, gaps in with_gaps if rule.sources.unknown or rule.sources.ips.overlaps(sources)
            for gap in gaps})))
    return rendered, unknown


def application_lines(estate: "Estate", ruleset: "RuleSet", sources: AddressSet) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """('HTTPS:443 *.example.com', ...) from Allow application rules whose sources may include
    `sources`, and what could not be read of those sources."""
    return _behind(estate, ruleset).application(sources)


def _allow_application_rules(estate: "Estate", ruleset: "RuleSet") -> tuple[tuple[Addresses, frozenset[str]], ...]:
    """(sources, lines) of the Allow application rules, grouped by sources: rules naming the same
    sources (the usual 'all AKS subnets' IP group) are asked about once."""
    grouped: dict[Addresses, set[str]] = {}
    for rule in ruleset.rules:
        if rule.kind != APPLICATION or not rule.allows:
            continue
        where = f"rule '{rule.name}' ({rule.owner_id}/{rule.locus})"
        rule_sources = parse_addresses(rule.source_addresses, where=where).union(
            ip_group_addresses(estate, rule.source_ip_groups, where))
        targets = ([f.strip().lower().rstrip(".") for f in rule.target_fqdns]
                   + [f"URL {u.strip().lower()}" for u in rule.target_urls]
                   + [f"FQDN tag {t}" for t in rule.fqdn_tags]
                   + [f"web category {c.lower()}" for c in rule.web_categories])
        rule_lines = grouped.setdefault(rule_sources, set())
        for protocol in rule.protocols:
            kind, _, port = protocol.partition(":")
            label = f"{kind.strip().upper()}:{port.strip()}" if port else kind.strip().upper()
            rule_lines.update(f"{label} {target}" for target in targets)
    return tuple((rule_sources, frozenset(lines)) for rule_sources, lines in grouped.items())


class _Behind:
    """What the AKS subnets behind one rule set share, built once: every subnet behind a hub's
    firewall asks, and parsing sources and IP groups, or asking every rule, per subnet cost more
    than the answer. Answers are kept by source addresses, by the application rules that match,
    and by the answers a `SubnetEgress` is made of, so subnets meeting the same rules get the
    one same object."""

    def __init__(self, estate: "Estate", ruleset: "RuleSet") -> None:
        self.estate, self.ruleset = estate, ruleset
        self.network = network_rules(estate, ruleset)
        self.groups = _allow_application_rules(estate, ruleset)
        # Which groups' sources hold each part of the space; a group with unreadable sources may
        # hold any subnet.
        self.group_index = {version: HolderIndex(getattr(rule_sources.ips, version) for rule_sources, _ in self.groups)
                            for version in ("v4", "v6")}
        self.unreadable = frozenset(i for i, (rule_sources, _) in enumerate(self.groups) if rule_sources.unknown)
        # Every boundary of a network rule's or an application rule's sources, per IP version:
        # between two of them each rule holds all or nothing, so every subnet there has the same
        # answer (whatever its size), and most subnets lie wholly between two.
        self.cuts = {version: tuple(sorted({*source_index(self.network.rules, AS_WRITTEN, f"v{version}").cuts,
                                            *self.group_index[f"v{version}"].cuts}))
                     for version in (4, 6)}
        self.application_answers: dict[tuple[int, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self.by_interval: dict[tuple[int, int], SubnetEgress] = {}
        self.by_sources: dict[AddressSet, SubnetEgress] = {}
        self.by_parts: dict[tuple, tuple[tuple, SubnetEgress]] = {}

    def application(self, sources: AddressSet) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(lines, unknown) of the application rules whose sources may include `sources`, once
        per set of such rules (one object for each, as `network_lines`)."""
        matching = set(self.unreadable)
        for version in ("v4", "v6"):
            index = self.group_index[version]
            for start, _ in index.pieces(getattr(sources, version)):  # overlap: some piece is held
                matching.update(index.holding(start))
        key = tuple(sorted(matching))
        found = self.application_answers.get(key)
        if found is None:
            lines = {line for i in key for line in self.groups[i][1]}
            unknown = {reason for i in key for reason in self.groups[i][0].unknown}
            found = self.application_answers[key] = (tuple(sorted(lines)), tuple(sorted(unknown)))
        return found

    def of_prefixes(self, prefixes: tuple) -> SubnetEgress:
        if len(prefixes) == 1:
            network = prefixes[0]
            start = int(network.network_address)
            cuts = self.cuts[network.version]
            index = bisect.bisect_right(cuts, start)  # cuts[index - 1] <= start < cuts[index]
            if index == len(cuts) or cuts[index] >= start + network.num_addresses:  # no boundary inside
                found = self.by_interval.get((network.version, index))
                if found is None:
                    found = self.by_interval[network.version, index] = self.egress(AddressSet.of_networks(prefixes))
                return found
        return self.egress(AddressSet.of_networks(prefixes))

    def egress(self, sources: AddressSet) -> SubnetEgress:
        found = self.by_sources.get(sources)
        if found is None:
            parts = (*network_lines(self.network, sources), *self.application(sources))
            # Each part is one object per distinct value, kept alive by its memo and by this
            # entry, so its identity names it.
            key = (*map(id, parts), bool(sources))
            known = self.by_parts.get(key)
            if known is None or any(a is not b for a, b in zip(known[0], parts)):
                network, network_unknown, application, application_unknown = parts
                unknown = tuple(sorted({*self.ruleset.gaps, *network_unknown, *application_unknown}))
                if not sources:  # no prefixes: a network always holds an address
                    unknown = tuple(sorted({*unknown, "the subnet came without address prefixes"}))
                egress = SubnetEgress(network, application, unknown)
                egress = _CANONICAL.setdefault(self.estate, {}).setdefault(egress, egress)
                known = self.by_parts[key] = (parts, egress)
            found = self.by_sources[sources] = known[1]
        return found


_BEHIND: "WeakKeyDictionary[Estate, dict[int, _Behind]]" = WeakKeyDictionary()
# Per estate, one object per distinct SubnetEgress, so reports may group equal ones by identity.
_CANONICAL: "WeakKeyDictionary[Estate, dict[SubnetEgress, SubnetEgress]]" = WeakKeyDictionary()


def _behind(estate: "Estate", ruleset: "RuleSet") -> _Behind:
    cache = _BEHIND.setdefault(estate, {})
    found = cache.get(id(ruleset))
    if found is None or found.ruleset is not ruleset:
        found = cache[id(ruleset)] = _Behind(estate, ruleset)
    return found


def subnet_egress(estate: "Estate", ruleset: "RuleSet", prefixes: tuple) -> SubnetEgress:
    """The traffic `ruleset` allows from a subnet with `prefixes`, computed once per rule set and
    source addresses (the answer depends on the addresses, not on how prefixes spell them).
    Equal answers are one object per estate."""
    return _behind(estate, ruleset).of_prefixes(prefixes)


def egress_by_prefixes(estate: "Estate", ruleset: "RuleSet") -> Callable[[tuple], SubnetEgress]:
    """`subnet_egress` for one rule set, as a function of the prefixes: what asks for every
    subnet behind a firewall looks the rule set up once."""
    return _behind(estate, ruleset).of_prefixes


def _line_traffic(line: str) -> tuple[tuple[str, str, int], IntervalSet, AddressSet] | None:
    """(('from ...', protocol, version), ports, destinations) for an address line; None for named ones."""
    origin, _, rest = line.rpartition(": ") if line.startswith("from ") else ("", "", line)
    head, _, destination = rest.partition(" to ")
    addresses = parse_address(destination)
    protocol, _, ports = head.partition(" ")
    if addresses is None or protocol.lower() not in PROTOCOL_ORDER:
        return None
    parsed = ALL_PORTS if protocol.lower() == ICMP else (USABLE_PORTS if ports == "*" else parse_ports(ports.split(",")).ports)
    return (origin, protocol, 4 if addresses.v4 else 6), parsed, addresses


def uncovered_lines(lines: Iterable[str], others: Iterable[str]) -> list[str]:
    """The lines of `lines` whose traffic `others` does not wholly allow too.

    Comparing traffic rather than text keeps a regrouping quiet: when a deny cuts 20.0.0.0/9
    out of "TCP 443 to 20.0.0.0/8", the new "TCP 443 to 20.128.0.0/9" is no gain, only the old
    line is a loss.
    """
    parsed_others = [p for p in map(_line_traffic, others) if p is not None]
    other_text = set(others)
    found = []
    for line in lines:
        parsed = _line_traffic(line)
        if parsed is None:
            if line not in other_text:
                found.append(line)
            continue
        key, ports, addresses = parsed
        same = [(p, a) for k, p, a in parsed_others if k == key]
        cuts = sorted({b for p, _ in same for b in p.boundaries()} | set(ports.boundaries()))
        covered = all(AddressSet().union(*(a for p, a in same if low in p)).covers(addresses)
                      for low, high in zip(cuts, cuts[1:]) if low in ports)
        if not covered:
            found.append(line)
    return found
