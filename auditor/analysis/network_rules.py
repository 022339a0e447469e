"""What a firewall's network rules permit, computed over sets of packets.

A packet is (source address, destination address, destination port, protocol). Azure Firewall
walks network rule collections in processing order (see `rulesets.effective_rules`: parent
policy before child, then rule collection group and collection priority) and the first rule that
matches decides: its collection's action, Allow or Deny. Application rules only see what no
network rule decided. DNAT rules translate inbound traffic to the firewall's public addresses and
decide nothing about egress, so they are not part of this evaluator.

Two questions are answered here:

* `decide(packet)`: which rule decides one packet (for evidence, `why`, and the oracle tests);
* `allowed_region(sources, protocol)`: for a source address set, the destinations and ports the
  rules allow, as a map from destination intervals to port sets, for every "source atom" (a part
  of the source set that every rule either wholly contains or wholly misses).

What could not be read (an IP group that is missing or came without addresses, an unknown
service tag, a malformed port) is never guessed: each rule is compiled twice, once as the least
it can match and once as the most, and a verdict that differs between the two bounds is unknown.
Known service tags other than `Internet` (which is every address) are names whose prefixes are
not known offline, so they are imprecise the same way: a rule naming one may match any address
at the bound where matching more can only make the rules allow less (a `Deny` at `LOWER`) or more
(an `Allow` at `UPPER`), and matches no address through it at the other. So the least allowed set
after `Deny Storage` is what the rules allow with that Deny matching everything, and no verdict
taken at `LOWER` is more permissive than the truth, whatever the tag holds. `AS_WRITTEN` is
`LOWER` with tags matching only what they are known to (nothing): the egress view describes the
rules' own addresses there, so a Deny of a tag does not hide every change behind it.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Iterable, Sequence
from weakref import WeakKeyDictionary

from aksaudit.model.firewall_rules import NETWORK, FirewallRule
from aksaudit.model.row_fields import id_key
from .addresses import EVERYTHING, AddressSet, Addresses, parse_addresses
from .intervals import HolderIndex, IntervalSet
from .ports import ALL_PORTS, ALL_PROTOCOLS, parse_ports, parse_protocols

if TYPE_CHECKING:
    from aksaudit.model.estate import Estate
    from aksaudit.analysis.rulesets import RuleSet

LOWER, UPPER = "lower", "upper"  # the least and the most a rule with unreadable parts can match
AS_WRITTEN = "as written"  # LOWER, except that service tags match no address (descriptions, not verdicts)
_NO_ADDRESSES = Addresses()


def ip_group_addresses(estate: "Estate", group_ids: Iterable[str], where: str,
                       extra_tags: frozenset[str] = frozenset()) -> Addresses:
    """The union of IP groups' contents; a group that is missing or unreadable is named as unknown."""
    if not group_ids:
        return _NO_ADDRESSES
    parts: list[Addresses] = []
    for group_id in group_ids:
        group = estate.ip_groups.get(id_key(group_id))
        if group is None:
            parts.append(Addresses(unknown=(f"{where}: {estate.gap(group_id)}",)))
        elif group.addresses is None:
            parts.append(Addresses(unknown=(f"{where}: IP group {group.id} came without 'properties.ipAddresses'",)))
        else:
            parts.append(_group_contents(group.id, group.addresses, extra_tags))
    return Addresses().union(*parts)


@lru_cache(maxsize=16384)
def _group_contents(group_id: str, addresses: tuple[str, ...], extra_tags: frozenset[str]) -> Addresses:
    """An IP group's contents, parsed once however many rules reference it."""
    return parse_addresses(addresses, where=f"IP group {group_id}", extra_tags=extra_tags)


@dataclass(frozen=True)
class CompiledRule:
    """One network rule as sets, with what could not be read kept apart."""

    rule: FirewallRule
    position: int  # in processing order among the ruleset's network rules
    allow: bool
    sources: Addresses
    destinations: Addresses
    destination_fqdns: tuple[str, ...]
    ports: IntervalSet
    protocols: frozenset[str]
    port_gaps: tuple[str, ...]
    protocol_gaps: tuple[str, ...]

    @property
    def gaps(self) -> tuple[str, ...]:
        return (*self.sources.unknown, *self.destinations.unknown, *self.port_gaps, *self.protocol_gaps)

    @property
    def imprecise(self) -> tuple[str, ...]:
        """Why the rule's bounds differ: its gaps, and the service tags whose prefixes are not known offline."""
        tags = sorted(self.sources.tags | self.destinations.tags)
        where = f"rule '{self.rule.name}' ({self.rule.owner_id}/{self.rule.locus})"
        named = (f"{where}: service tag(s) {', '.join(tags)} hold addresses not known offline",) if tags else ()
        return (*self.gaps, *named)

    def box(self, bound: str) -> tuple[AddressSet, AddressSet, IntervalSet, frozenset[str]]:
        """(sources, destinations, ports, protocols) the rule matches at the given bound.

        An unknown part widens the rule to everything in that dimension when it can only make the
        rule match more (an Allow at the upper bound, a Deny at the lower bound of what is
        allowed), and adds nothing otherwise.
        """
        return self._boxes[bound]

    @cached_property
    def _boxes(self) -> dict[str, tuple[AddressSet, AddressSet, IntervalSet, frozenset[str]]]:
        boxes = {}
        for bound in (LOWER, UPPER, AS_WRITTEN):
            widen = (bound == UPPER) == self.allow
            tags = bound != AS_WRITTEN  # a tag may hold any address: imprecise like unreadable data
            boxes[bound] = (
                EVERYTHING if widen and (self.sources.unknown or tags and self.sources.tags) else self.sources.ips,
                EVERYTHING if widen and (self.destinations.unknown or tags and self.destinations.tags)
                else self.destinations.ips,
                ALL_PORTS if widen and self.port_gaps else self.ports,
                ALL_PROTOCOLS if widen and self.protocol_gaps else self.protocols)
        return boxes


def compile_rule(estate: "Estate", rule: FirewallRule, position: int,
                 extra_tags: frozenset[str] = frozenset()) -> CompiledRule:
    where = f"rule '{rule.name}' ({rule.owner_id}/{rule.locus})"
    sources = parse_addresses(rule.source_addresses, where=where, extra_tags=extra_tags).union(
        ip_group_addresses(estate, rule.source_ip_groups, where, extra_tags))
    destinations = parse_addresses(rule.destination_addresses, where=where, extra_tags=extra_tags).union(
        ip_group_addresses(estate, rule.destination_ip_groups, where, extra_tags))
    # Azure refuses a rule without sources or destinations, so a row without them was not read whole.
    if not rule.source_addresses and not rule.source_ip_groups:
        sources = sources.union(Addresses(unknown=(f"{where}: no source address or IP group is listed",)))
    if not rule.destination_addresses and not rule.destination_ip_groups and not rule.destination_fqdns:
        destinations = destinations.union(Addresses(unknown=(f"{where}: no destination is listed",)))
    ports = parse_ports(rule.destination_ports, where=where)
    if not rule.destination_ports:
        ports = type(ports)(ports.ports, (f"{where}: no destination port is listed",))
    protocols = parse_protocols(rule.protocols, where=where)
    return CompiledRule(rule, position, rule.allows, sources, destinations,
                        tuple(f.strip().lower().rstrip(".") for f in rule.destination_fqdns),
                        ports.ports, protocols.protocols, ports.unknown, protocols.unknown)


@dataclass(frozen=True)
class Region:
    """Destinations and ports allowed for one protocol and one source atom.

    `cuts` are sorted boundaries of elementary destination intervals of one IP version;
    `ports[i]` is what is allowed between `cuts[i]` and `cuts[i + 1]`.
    """

    cuts: tuple[int, ...]
    ports: tuple[IntervalSet, ...]

    def ports_at(self, address: int) -> IntervalSet:
        index = bisect.bisect_right(self.cuts, address) - 1
        return self.ports[index] if 0 <= index < len(self.ports) else IntervalSet()

    def destinations_with(self, wanted: IntervalSet) -> IntervalSet:
        """The destinations on which every port of `wanted` is allowed."""
        return IntervalSet.of((self.cuts[i], self.cuts[i + 1]) for i, ports in enumerate(self.ports)
                              if ports.covers(wanted))


def region(rules: Sequence[tuple[bool, IntervalSet, IntervalSet]], ignore_denies: bool = False) -> Region:
    """First-match evaluation over destinations and ports for rules (allow, destinations, ports) in order.

    Per elementary destination interval, a port is allowed when the first rule matching it is an
    Allow. With `ignore_denies`, the region is the plain union of the Allow rules (what the rules
    *permit*, before explicit exceptions: the measure of an allow-by-default rule set).
    """
    cuts = sorted({b for _, destinations, _ in rules for b in destinations.boundaries()})
    if not cuts:
        return Region((), ())
    decided = [IntervalSet() for _ in cuts[:-1]]
    allowed = [IntervalSet() for _ in cuts[:-1]]
    for allow, destinations, ports in rules:
        if not allow and ignore_denies:
            continue
        for start, end in destinations.spans:
            for index in range(bisect.bisect_left(cuts, start), bisect.bisect_left(cuts, end)):
                fresh = ports - decided[index]
                if allow and fresh:
                    allowed[index] = allowed[index] | fresh
                decided[index] = decided[index] | ports
    return Region(tuple(cuts), tuple(allowed))


@dataclass(frozen=True)
class SourceAtom:
    """A part of a source set that each rule either wholly contains or wholly misses."""

    addresses: AddressSet
    rules: tuple[CompiledRule, ...]  # the rules whose sources contain it, in processing order


_SOURCE_CUTS: dict[tuple[int, str, str], tuple[Sequence["CompiledRule"], HolderIndex]] = {}


def source_index(rules: Sequence["CompiledRule"], bound: str, version: str) -> HolderIndex:
    """Which rules' sources (of one IP version) hold each part of the space, once per rule list:
    each AKS subnet then looks only at the boundaries inside its own range (the same atoms as
    cutting at all of them), and subnets in the same elementary interval ask which rules hold it
    once. Keyed by the list's identity: hashing hundreds of compiled rules would cost more."""
    key = (id(rules), bound, version)
    cached = _SOURCE_CUTS.get(key)
    if cached is None or cached[0] is not rules:
        if len(_SOURCE_CUTS) > 512:
            _SOURCE_CUTS.clear()
        cached = _SOURCE_CUTS[key] = (rules, HolderIndex(getattr(rule.box(bound)[0], version) for rule in rules))
    return cached[1]


def source_parts(rules: Sequence[CompiledRule], sources: AddressSet, bound: str) -> dict[tuple[int, ...], list[tuple[str, int, int]]]:
    """`sources` cut at the rules' source boundaries: {positions in `rules` of the rules holding a
    part: its ('v4' or 'v6', start, end) pieces}, in address order of each key's first piece."""
    parts: dict[tuple[int, ...], list[tuple[str, int, int]]] = {}
    for version in ("v4", "v6"):
        wanted: IntervalSet = getattr(sources, version)
        if not wanted:
            continue
        index = source_index(rules, bound, version)
        for start, end in index.pieces(wanted):
            parts.setdefault(index.holding(start), []).append((version, start, end))
    return parts


def source_atoms(rules: Sequence[CompiledRule], sources: AddressSet, bound: str) -> list[SourceAtom]:
    """Partition `sources` by the rules' source boundaries; atoms with the same rules are merged."""
    found = []
    for key, spans in source_parts(rules, sources, bound).items():
        v4 = IntervalSet.of((s, e) for v, s, e in spans if v == "v4")
        v6 = IntervalSet.of((s, e) for v, s, e in spans if v == "v6")
        found.append(SourceAtom(AddressSet(v4, v6), tuple(rules[i] for i in key)))
    return found


class NetworkRules:
    """A firewall's (or a policy chain's) network rules, compiled once for every question asked of them."""

    def __init__(self, estate: "Estate", ruleset: "RuleSet", extra_tags: frozenset[str] = frozenset()) -> None:
        self.ruleset = ruleset
        network = [r for r in ruleset.rules if r.kind == NETWORK and r.action in ("allow", "deny")]
        self.rules: tuple[CompiledRule, ...] = tuple(compile_rule(estate, rule, position, extra_tags)
                                                     for position, rule in enumerate(network))
        self.memo: dict = {}  # answers that depend only on the rules, for the queries built on them

    @cached_property
    def gaps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(gap for rule in self.rules for gap in rule.gaps))

    def decide(self, source: int, destination: int, port: int, protocol: str, version: int = 4,
               bound: str = LOWER) -> CompiledRule | None:
        """The first rule matching the packet at the given bound, or None (no network rule decides it)."""
        for rule in self.rules:
            sources, destinations, ports, protocols = rule.box(bound)
            family = (lambda s: s.v4) if version == 4 else (lambda s: s.v6)
            if protocol in protocols and source in family(sources) and destination in family(destinations) \
                    and (protocol == "icmp" or port in ports):
                return rule
        return None

    def allowed_region(self, atom: SourceAtom, protocol: str, version: int = 4, bound: str = LOWER,
                       ignore_denies: bool = False, only: frozenset[int] | None = None) -> Region:
        """What the atom may reach over `protocol`; `only` restricts to rules at those positions."""
        boxes = []
        for rule in atom.rules:
            if only is not None and rule.position not in only:
                continue
            _, destinations, ports, protocols = rule.box(bound)
            if protocol in protocols:
                boxes.append((rule.allow, destinations.v4 if version == 4 else destinations.v6,
                              ALL_PORTS if protocol == "icmp" else ports))
        return region(boxes, ignore_denies)


# One compiled rule list per ruleset and estate: every AKS subnet behind a hub asks about the same
# firewall. Weak keys: the cache dies with its estate.
_COMPILED: "WeakKeyDictionary[Estate, dict[tuple[int, frozenset[str]], tuple[tuple, NetworkRules]]]" = \
    WeakKeyDictionary()


def network_rules(estate: "Estate", ruleset: "RuleSet", extra_tags: frozenset[str] = frozenset()) -> NetworkRules:
    """The compiled network rules of a ruleset, once per estate and rule list: a policy's firewalls
    share their policy's rule tuple (see `rulesets.effective_rules`), so they share this too."""
    cache = _COMPILED.setdefault(estate, {})
    key = (id(ruleset.rules), extra_tags)
    cached = cache.get(key)
    if cached is None or cached[0] is not ruleset.rules:
        cached = cache[key] = (ruleset.rules, NetworkRules(estate, ruleset, extra_tags))
    return cached[1]
