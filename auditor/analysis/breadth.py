"""Is a firewall allow-by-default? Which Allow rules, together, permit a whole space of traffic.

"Any destination on any port" is a property of the traffic the rules permit, not of one rule's
spelling: two rules with the `/1` halves of the address space, an IP group holding
`0.0.0.0-255.255.255.255`, or `1-32767` beside `32768-65535` permit exactly what `*` does.
`covering_rules` takes the Allow rules' union per source atom and asks whether it covers the
target; deny rules are deliberately left out, because a rule set that allows everything except a
deny list is still allow-by-default (one `Deny` of a single address before an any/any rule must
not make it look filtering).

When the union covers, the finding names every disjoint irredundant set of rules responsible:
the rules that cover on their own, then, while the rules not named yet still cover together, the
ones left after dropping, latest first, every rule that cover does not need. That points a fix at
the `/1` halves and not at an unrelated narrow rule that happens to overlap them, and names the
halves even beside an older `*` rule (as the same any/any written as `*` would be named).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .addresses import AddressSet
from .intervals import IntervalSet
from .network_rules import CompiledRule, NetworkRules, SourceAtom, region, source_atoms


@dataclass(frozen=True)
class Cover:
    """Allow rules that together permit `target` on `ports` over `protocol` from `sources`."""

    protocol: str
    version: int
    sources: AddressSet
    rules: tuple[CompiledRule, ...]


def _family(addresses: AddressSet, version: int) -> IntervalSet:
    return addresses.v4 if version == 4 else addresses.v6


def _covers(rules: Sequence[CompiledRule], protocol: str, version: int, target: IntervalSet, ports: IntervalSet,
            bound: str, memo: dict | None = None) -> bool:
    if memo is not None:
        key = ("covers", tuple(r.position for r in rules), protocol, version, target, ports, bound)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _covers(rules, protocol, version, target, ports, bound)
        return found
    boxes = []
    for rule in rules:
        _, destinations, rule_ports, _ = rule.box(bound)
        boxes.append((True, _family(destinations, version), rule_ports))
    return region(boxes).destinations_with(ports).covers(target)


def _irredundant(rules: tuple[CompiledRule, ...], protocol: str, version: int, target: IntervalSet,
                 ports: IntervalSet, bound: str, memo: dict) -> tuple[tuple[CompiledRule, ...], ...]:
    """Disjoint irredundant covers among `rules` (see `_disjoint_covers`), memoised per rule list:
    every AKS subnet meeting the same rules asks the same question."""
    key = ("irredundant", tuple(r.position for r in rules), protocol, version, target, ports, bound)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _disjoint_covers(rules, protocol, version, target, ports, bound)
    return found


def _disjoint_covers(rules: tuple[CompiledRule, ...], protocol: str, version: int, target: IntervalSet,
                     ports: IntervalSet, bound: str) -> tuple[tuple[CompiledRule, ...], ...]:
    """The rules that cover on their own (one group), then, while the rules not named yet still
    cover together, an irredundant set of them (dropping, latest first, every rule not needed).

    Naming every disjoint cover keeps findings independent of spelling: an any/any rule beside an
    older `*` rule is named, and so are the two `/1` halves written instead of it.
    """
    groups: list[tuple[CompiledRule, ...]] = []
    alone = tuple(r for r in rules if _covers((r,), protocol, version, target, ports, bound))
    if alone:
        groups.append(alone)
    rest = [r for r in rules if r not in alone]
    while rest and _covers(rest, protocol, version, target, ports, bound):
        kept = list(rest)
        for rule in reversed(rest):
            trial = [r for r in kept if r is not rule]
            if _covers(trial, protocol, version, target, ports, bound):
                kept = trial
        groups.append(tuple(kept))
        rest = [r for r in rest if r not in kept]
    return tuple(groups)


def _candidates(net: NetworkRules, protocol: str, version: int, wanted: IntervalSet, ports: IntervalSet,
                bound: str) -> list[CompiledRule]:
    """Allow rules that could add to a cover of `wanted` x `ports`, whatever the source (cached per
    ruleset: every AKS subnet behind a firewall asks the same question with other sources)."""
    key = ("candidates", protocol, version, wanted, ports, bound)
    found = net.memo.get(key)
    if found is None:
        found = []
        for rule in net.rules:
            if not rule.allow:
                continue
            _, destinations, rule_ports, protocols = rule.box(bound)
            if protocol in protocols and _family(destinations, version).overlaps(wanted) and rule_ports.overlaps(ports):
                found.append(rule)
        found = net.memo[key] = found
    return found


def covering_rules(net: NetworkRules, sources: AddressSet, protocol: str, target: AddressSet, ports: IntervalSet,
                   bound: str) -> list[Cover]:
    """Every irredundant set of Allow rules whose union covers `target` x `ports` for a part of `sources`.

    Cheap when nothing covers (the common case): the union over all candidate rules is tested
    before any source atom is formed.
    """
    found: dict[tuple[int, ...], Cover] = {}
    for version in (4, 6):
        wanted = _family(target, version)
        wanted_sources = _family(sources, version)
        if not wanted or not wanted_sources:
            continue
        candidates = [rule for rule in _candidates(net, protocol, version, wanted, ports, bound)
                      if _family(rule.box(bound)[0], version).overlaps(wanted_sources)]
        if not candidates or not _covers(candidates, protocol, version, wanted, ports, bound, net.memo):
            continue
        family_sources = AddressSet(v4=sources.v4) if version == 4 else AddressSet(v6=sources.v6)
        if all(_family(rule.box(bound)[0], version).covers(wanted_sources) for rule in candidates):
            # The usual case (sources '*', a supernet or an IP group holding the subnet): one atom.
            atoms = [SourceAtom(family_sources, tuple(candidates))]
        else:
            atoms = source_atoms(candidates, family_sources, bound)
        for atom in atoms:
            if atom.rules and _covers(atom.rules, protocol, version, wanted, ports, bound, net.memo):
                for rules in _irredundant(atom.rules, protocol, version, wanted, ports, bound, net.memo):
                    key = tuple(r.position for r in rules)
                    previous = found.get(key)
                    merged = atom.addresses if previous is None else previous.sources | atom.addresses
                    found[key] = Cover(protocol, version, merged, rules)
    return list(found.values())
