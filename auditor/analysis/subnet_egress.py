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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable
from weakref import WeakKeyDictionary

from aksaudit.model.firewall_rules import APPLICATION
from .addresses import AddressSet, parse_address, parse_addresses
from .intervals import IntervalSet
from .network_rules import AS_WRITTEN, CompiledRule, NetworkRules, ip_group_addresses, network_rules, source_atoms
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
        by_destinations: dict[IntervalSet, list[tuple[int, int]]] = {}
        for low, high in zip(port_cuts, port_cuts[1:]):
            destinations = IntervalSet.of((start, end) for start, end, ports in pieces if low in ports)
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


def network_lines(rules: NetworkRules, sources: AddressSet) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(lines, unknown) for what the network rules allow from `sources`.

    Atoms of the subnet that reach the same traffic are merged; when parts of the subnet differ,
    each line says which part ("from 10.0.0.0/25: TCP 443 to ...").
    """
    by_lines: dict[tuple[str, ...], AddressSet] = {}
    for atom in source_atoms(rules.rules, sources, AS_WRITTEN):
        # An atom's lines depend only on the rules containing it: subnets meeting the same rules
        # (most subnets behind one firewall) share them, computed once per rule set.
        key = ("subnet-egress-lines", tuple(rule.position for rule in atom.rules))
        lines = rules.memo.get(key)
        if lines is None:
            lines = rules.memo[key] = tuple(sorted({
                line for protocol in PROTOCOL_ORDER
                for line in (*_region_lines(rules, atom, protocol), *_named_lines(atom.rules, protocol))}))
        by_lines[lines] = by_lines.get(lines, AddressSet()) | atom.addresses
    if len(by_lines) == 1:
        rendered = set(next(iter(by_lines)))
    else:
        rendered = {f"from {', '.join(part.describe(limit=1_000_000))}: {line}"
                    for lines, part in by_lines.items() for line in lines}
    # A rule whose sources are unreadable may apply to the subnet, Allow or Deny alike.
    with_gaps = rules.memo.get("rules-with-gaps")
    if with_gaps is None:
        with_gaps = rules.memo["rules-with-gaps"] = tuple((rule, rule.gaps) for rule in rules.rules if rule.gaps)
    unknown = {gap for rule, gaps in with_gaps if rule.sources.unknown or rule.sources.ips.overlaps(sources)
               for gap in gaps}
    return tuple(sorted(rendered)), tuple(sorted(unknown))


def application_lines(estate: "Estate", ruleset: "RuleSet", sources: AddressSet) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """('HTTPS:443 *.example.com', ...) from Allow application rules whose sources may include `sources`."""
    lines: set[str] = set()
    unknown: set[str] = set()
    for rule_sources, rule_lines in _allow_application_rules(estate, ruleset):
        if not rule_sources.ips.overlaps(sources) and not rule_sources.unknown:
            continue
        unknown.update(rule_sources.unknown)
        lines.update(rule_lines)
    return tuple(sorted(lines)), tuple(sorted(unknown))


_APPLICATION: "WeakKeyDictionary[Estate, dict[int, tuple[RuleSet, tuple]]]" = WeakKeyDictionary()


def _allow_application_rules(estate: "Estate", ruleset: "RuleSet") -> tuple:
    """(sources, lines) of the Allow application rules, once per rule set and grouped by sources:
    every subnet behind the firewall asks, and parsing sources and IP groups per subnet cost more
    than the answer."""
    cache = _APPLICATION.setdefault(estate, {})
    cached = cache.get(id(ruleset))
    if cached is None or cached[0] is not ruleset:
        found = []
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
            rule_lines = set()
            for protocol in rule.protocols:
                kind, _, port = protocol.partition(":")
                label = f"{kind.strip().upper()}:{port.strip()}" if port else kind.strip().upper()
                rule_lines.update(f"{label} {target}" for target in targets)
            found.append((rule_sources, frozenset(rule_lines)))
        # Rules naming the same sources (the usual 'all AKS subnets' IP group) are asked about once.
        grouped: dict = {}
        for rule_sources, rule_lines in found:
            grouped[rule_sources] = grouped.get(rule_sources, frozenset()) | rule_lines
        cached = cache[id(ruleset)] = (ruleset, tuple(grouped.items()))
    return cached[1]


_CACHE: "WeakKeyDictionary[Estate, dict[tuple[int, tuple[str, ...]], tuple[RuleSet, SubnetEgress]]]" = \
    WeakKeyDictionary()


def subnet_egress(estate: "Estate", ruleset: "RuleSet", prefixes: tuple) -> SubnetEgress:
    """The traffic `ruleset` allows from a subnet with `prefixes`, computed once per ruleset and prefixes."""
    cache = _CACHE.setdefault(estate, {})
    key = (id(ruleset), tuple(sorted(str(p) for p in prefixes)))
    cached = cache.get(key)
    if cached is None or cached[0] is not ruleset:
        sources = AddressSet.of_networks(prefixes)
        network, network_unknown = network_lines(network_rules(estate, ruleset), sources)
        application, application_unknown = application_lines(estate, ruleset, sources)
        unknown = tuple(sorted({*ruleset.gaps, *network_unknown, *application_unknown}))
        if not prefixes:
            unknown = tuple(sorted({*unknown, "the subnet came without address prefixes"}))
        cached = cache[key] = (ruleset, SubnetEgress(network, application, unknown))
    return cached[1]


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
