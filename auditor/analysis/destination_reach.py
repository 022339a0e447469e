"""Can a source reach a destination whose address is not known offline (an FQDN), on one port?

AKS's required egress goes to names (`mcr.microsoft.com`) whose addresses change and are not
part of a snapshot, so the question for the network rules is a universal one: for EVERY public
address the name might resolve to, what does the first network rule matching (source, address,
port, protocol) do? The union of what the rules allow answers it: `0.0.0.0/1` in one rule and
`128.0.0.0/1` in another reach everywhere exactly as `*` does, and a Deny of one address before
an any/any Allow means the name may be blocked.

A network rule naming the wanted host in `destinationFqdns` matches every address of that host,
so for this question it counts as reaching everywhere. Per part of the source set, the answer is:

* `ALLOWED`: every public address (of the source's IP version) is allowed by a network rule;
* `DENIED`: some public address is decided by a Deny (the first such rule is named);
* `UNDECIDED`: no public address is denied, some are matched by no network rule at all, so the
  application rules decide (they see only what no network rule decided).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .addresses import PUBLIC_V4, PUBLIC_V6, AddressSet
from .intervals import HolderIndex, IntervalSet
from .network_rules import CompiledRule, NetworkRules, SourceAtom, region

ALLOWED, DENIED, UNDECIDED = "allowed", "denied", "undecided"


@dataclass(frozen=True)
class Reach:
    """What the network rules do with traffic from `sources` to the wanted host."""

    sources: AddressSet
    outcome: str  # ALLOWED, DENIED or UNDECIDED
    deny: CompiledRule | None = None  # the first Deny deciding part of the public space (DENIED)


def _family(addresses: AddressSet, version: int) -> IntervalSet:
    return addresses.v4 if version == 4 else addresses.v6


def _boxes(rules: tuple[CompiledRule, ...], protocol: str, port: IntervalSet, version: int, bound: str,
           names_host: Callable[[CompiledRule], bool]) -> list[tuple[bool, IntervalSet, IntervalSet, CompiledRule]]:
    public = _family(PUBLIC_V4 if version == 4 else PUBLIC_V6, version)
    boxes = []
    for rule in rules:
        _, destinations, ports, protocols = rule.box(bound)
        if protocol not in protocols or not ports.overlaps(port):
            continue
        family = public if names_host(rule) else _family(destinations, version)
        if family:
            boxes.append((rule.allow, family, ports & port, rule))
    return boxes


def _atom_reach(rules: tuple[CompiledRule, ...], protocol: str, port: IntervalSet, version: int, bound: str,
                names_host: Callable[[CompiledRule], bool]) -> tuple[str, CompiledRule | None]:
    public = _family(PUBLIC_V4 if version == 4 else PUBLIC_V6, version)
    boxes = _boxes(rules, protocol, port, version, bound, names_host)
    found = region([(allow, destinations, ports) for allow, destinations, ports, _ in boxes])
    allowed = found.destinations_with(port)
    if allowed.covers(public):
        return ALLOWED, None
    decided = IntervalSet().union(*(destinations for _, destinations, _, _ in boxes))
    denied = (decided & public) - allowed
    if denied:
        first = next((rule for allow, destinations, _, rule in boxes if not allow and destinations.overlaps(denied)),
                     None)
        return DENIED, first
    return UNDECIDED, None


def reach_host(net: NetworkRules, sources: AddressSet, protocol: str, port: int, bound: str,
               names_host: Callable[[CompiledRule], bool]) -> list[Reach]:
    """Per part of `sources`, what the network rules do with `protocol`/`port` traffic to a host at
    an unknown public address of the part's IP version.

    `names_host(rule)` says whether the rule names the host in its `destinationFqdns`. Answers
    are memoised per ruleset: every AKS subnet behind a hub asks the same question with other
    sources.
    """
    return [Reach(atom.addresses, *atom_reach(net, version, atom, protocol, port, bound, names_host))
            for version, atom in source_parts(net, sources, protocol, port, bound)]


def source_parts(net: NetworkRules, sources: AddressSet, protocol: str, port: int,
                 bound: str) -> list[tuple[int, SourceAtom]]:
    """(IP version, part) of `sources` that the network rules carrying `protocol`/`port` treat alike.

    The parts depend on the sources only, not on the host: callers ask for every host of one
    subnet in a row, so the last partition is kept (one entry: no growth with the subnets).
    """
    last_key = ("reach-atoms", protocol, port, bound)
    last = net.memo.get(last_key)
    if last is not None and last[0] == sources:
        return last[1]
    candidates = reach_candidates(net, protocol, port, bound)
    atoms: list[tuple[int, SourceAtom]] = []
    for version in (4, 6):
        part = AddressSet(v4=sources.v4) if version == 4 else AddressSet(v6=sources.v6)
        spans = _family(part, version)
        if not spans:
            continue
        # Which candidates hold each elementary interval of their sources, indexed once per
        # ruleset and question: a subnet then costs a binary search, not a test of every rule.
        index_key = ("reach-index", protocol, port, bound, version)
        index = net.memo.get(index_key)
        if index is None:
            index = net.memo[index_key] = HolderIndex(_family(rule.box(bound)[0], version) for rule in candidates)
        held: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        for start, end in index.pieces(spans):
            held.setdefault(index.holding(start), []).append((start, end))
        for positions, pieces in held.items():
            addresses = part if len(held) == 1 else (  # the usual case: the rules treat the whole part alike
                AddressSet(v4=IntervalSet.of(pieces)) if version == 4 else AddressSet(v6=IntervalSet.of(pieces)))
            atoms.append((version, SourceAtom(addresses, tuple(candidates[i] for i in positions))))
    net.memo[last_key] = (sources, atoms)
    return atoms


def reach_candidates(net: NetworkRules, protocol: str, port: int, bound: str) -> tuple[CompiledRule, ...]:
    """The network rules that can carry `protocol`/`port` at the bound, in processing order: the
    only ones whose sources can tell two parts of a source set apart for a reach question."""
    key = ("reach-candidates", protocol, port, bound)
    found = net.memo.get(key)
    if found is None:
        wanted = IntervalSet.span(port, port + 1)
        found = net.memo[key] = tuple(
            rule for rule in net.rules if protocol in rule.box(bound)[3] and rule.box(bound)[2].overlaps(wanted))
    return found


class SourceCells:
    """Source sets cut into cells that every reach question (at each of `bounds`), and each of
    `others`, treats alike: every candidate rule's sources and every one of `others` hold a cell
    wholly or not at all.

    A cell's key names which of them hold it, so an answer worked out from membership alone
    (which rules a part meets, which sets it lies in) is the same for every source set whose
    cells have the same keys: hundreds of AKS subnets behind one hub land in the same few cells
    of its rules, and ask the same questions of them.
    """

    def __init__(self, net: NetworkRules, protocol: str, port: int, bounds: tuple[str, ...],
                 others: tuple[AddressSet, ...]) -> None:
        self._sets = [rule.box(bound)[0] for bound in bounds for rule in reach_candidates(net, protocol, port, bound)]
        self._sets += others
        self._indexes: dict[int, HolderIndex] = {}

    def _index(self, version: int) -> HolderIndex:
        index = self._indexes.get(version)
        if index is None:
            index = self._indexes[version] = HolderIndex(_family(s, version) for s in self._sets)
        return index

    def cells(self, sources: AddressSet) -> list[tuple[tuple[int, tuple[int, ...]], AddressSet]]:
        """(key, part) per cell of `sources`: IPv4 cells first, each in the order its addresses start."""
        found: list[tuple[tuple[int, tuple[int, ...]], AddressSet]] = []
        for version in (4, 6):
            spans = _family(sources, version)
            if not spans:
                continue
            index = self._index(version)
            held: dict[tuple[int, ...], list[tuple[int, int]]] = {}
            for start, end in index.pieces(spans):
                held.setdefault(index.holding(start), []).append((start, end))
            for holding, pieces in held.items():
                part = spans if len(held) == 1 else IntervalSet.of(pieces)
                found.append(((version, holding), AddressSet(v4=part) if version == 4 else AddressSet(v6=part)))
        return found


def atom_reach(net: NetworkRules, version: int, atom: SourceAtom, protocol: str, port: int, bound: str,
               names_host: Callable[[CompiledRule], bool]) -> tuple[str, CompiledRule | None]:
    """(outcome, first deciding Deny) for one part, memoised per ruleset, rules met, and which of
    them name the host (hosts named by the same rules get the same answer, whatever the host)."""
    positions = tuple(r.position for r in atom.rules)
    with_fqdns = net.memo.get(("fqdn-rules", positions))
    if with_fqdns is None:
        with_fqdns = net.memo[("fqdn-rules", positions)] = tuple(r for r in atom.rules if r.destination_fqdns)
    named = tuple(r.position for r in with_fqdns if names_host(r))
    memo_key = ("reach", positions, named, protocol, port, version, bound)
    answer = net.memo.get(memo_key)
    if answer is None:
        answer = net.memo[memo_key] = _atom_reach(atom.rules, protocol, IntervalSet.span(port, port + 1), version,
                                                  bound, names_host)
    return answer
