"""The set-based network-rule evaluator agrees with a packet-by-packet oracle.

Random firewall policies (a policy, up to two generations of base policies, rule collection groups
with Allow and Deny collections, IP groups) are rendered to Resource Graph rows, read with
`build_estate`, resolved with `policy_ruleset` and compiled with `network_rules`; the oracle in
`traffic_oracle.py` reads the same rows itself and decides one packet at a time. Packets are drawn
at random and at every interval boundary of every rule (start, end, end + 1 and start - 1, as the
cuts `c - 1` and `c` of each interval), so an off-by-one in any interval computation shows.

Three questions are checked: `decide` (which rule decides a packet), `allowed_region` per source
atom (what a part of the source space may reach), and `covering_rules` (which Allow rules
together permit a whole destination x port space). Equivalent respellings (a CIDR as its halves,
a CIDR as a range, addresses moved into an IP group) must change none of the answers. Data that
could not be read (a missing IP group, one without `ipAddresses`, an unknown service tag, a
malformed port) must leave the lower bound inside, and the upper bound around, what the oracle
decides for every way of filling the hole in. Known service tags (`Storage`, a regional
`AzureCloud`) are such holes too: their prefixes are not known offline.
"""
from __future__ import annotations

import ipaddress
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aksaudit.analysis.addresses import AddressSet
from aksaudit.analysis.breadth import covering_rules
from aksaudit.analysis.intervals import IntervalSet
from aksaudit.analysis.network_rules import LOWER, UPPER, NetworkRules, network_rules, source_atoms
from aksaudit.model.estate import build_estate
from aksaudit.analysis.rulesets import policy_ruleset

from traffic_estates import (
    PORT_ANCHORS, Hole, PolicySpec, address_tokens, policy_specs, port_tokens, render, rewrite,
)
from traffic_oracle import Oracle, Packet, representatives, token_span

RELAXED = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# The oracle's properties together run SCALE x 4 x the profile's examples: 2,400 under `ci` (300),
# about 80 s of CPU; 160,000 under `HYPOTHESIS_PROFILE=long` (20,000).
SCALE = 2


def share(fraction: float) -> settings:
    """A fraction of SCALE x the profile's examples: the costlier tests run fewer."""
    return settings(RELAXED, max_examples=max(20, int(settings.default.max_examples * SCALE * fraction)))
PROTOCOLS = ("tcp", "udp", "icmp")
END = {4: 2 ** 32, 6: 2 ** 128}


def compiled(rows: list[dict], policy: str) -> NetworkRules:
    estate = build_estate(rows)
    assert not estate.rejected, estate.rejected
    return network_rules(estate, policy_ruleset(estate, policy))


def _ip(version: int, value: int):
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


def edges(cuts, end: int) -> list[int]:
    """Each cut and the value just before it: the first and last member of every interval."""
    return sorted({v for c in cuts for v in (c - 1, c) if 0 <= v < end})


def packet(version: int, source: int, destination: int, port: int, protocol: str) -> Packet:
    return Packet(_ip(version, source), _ip(version, destination), None if protocol == "icmp" else port, protocol)


def product_verdict(net: NetworkRules, p: Packet, bound: str = LOWER):
    rule = net.decide(int(p.source), int(p.destination), p.port or 0, p.protocol, p.source.version, bound)
    return None if rule is None else (rule.allow, rule.rule.owner_id.lower(), rule.rule.locus)


def oracle_verdict(oracle: Oracle, p: Packet):
    verdict = oracle.decide(p)
    return None if verdict is None else (verdict.allow, verdict.group_id.lower(), verdict.locus)


def boundary_packets(oracles: list[Oracle], rng: random.Random, version: int) -> list[Packet]:
    """Every source, destination and port boundary of every rule (of the given oracles), each
    crossed with values picked from the other dimensions' boundaries, and a few random packets."""
    sources = edges(set().union(*(o.address_cuts("source", version) for o in oracles)), END[version])
    destinations = edges(set().union(*(o.address_cuts("destination", version) for o in oracles)), END[version])
    ports = edges(set().union(*(o.port_cuts() for o in oracles)), 65536)
    found = []
    for s in sources:
        found.append(packet(version, s, rng.choice(destinations), rng.choice(ports), rng.choice(PROTOCOLS)))
    for d in destinations:
        found.append(packet(version, rng.choice(sources), d, rng.choice(ports), rng.choice(PROTOCOLS)))
    for port in ports:
        found.append(packet(version, rng.choice(sources), rng.choice(destinations), port, rng.choice(PROTOCOLS)))
    for _ in range(8):
        found.append(packet(version, rng.randrange(END[version]), rng.randrange(END[version]), rng.randrange(65536),
                            rng.choice(PROTOCOLS)))
    return found


# --- (a) one packet at a time -------------------------------------------------------------------

@share(2 / 3)
@given(spec=policy_specs(), rng=st.randoms(use_true_random=False))
def test_decide_agrees_with_the_oracle_on_boundaries_and_random_packets(spec: PolicySpec, rng):
    rows = render(spec)
    net, oracle = compiled(rows, spec.policy_id), Oracle(rows, spec.policy_id)
    assert not net.gaps
    for version in (4, 6):
        for p in boundary_packets([oracle], rng, version):
            assert product_verdict(net, p) == oracle_verdict(oracle, p), p
            # Nothing is unknown: both bounds are the same answer.
            assert product_verdict(net, p, UPPER) == product_verdict(net, p), p


# --- (b) per source atom ------------------------------------------------------------------------

@st.composite
def source_sets(draw) -> AddressSet:
    """A random source set, spelled as tokens and turned into intervals by the oracle's own reading."""
    tokens = draw(st.lists(address_tokens(), min_size=1, max_size=3))
    spans = {4: [], 6: []}
    for token in tokens:
        for version in (4, 6):
            first, last = token_span(token, version)
            if first is not None:
                spans[version].append((first, last + 1))
    return AddressSet(IntervalSet.of(spans[4]), IntervalSet.of(spans[6]))


def _members(spans: IntervalSet, rng: random.Random, count: int = 2) -> list[int]:
    """The first and last member of a random few of the set's intervals."""
    chosen = rng.sample(spans.spans, min(count, len(spans.spans)))
    return sorted({v for start, end in chosen for v in (start, end - 1, rng.randrange(start, end))})


def _check_atoms(net: NetworkRules, sources: AddressSet, bound: str, rng: random.Random,
                 oracles: list[Oracle], exact: bool = False) -> None:
    """Per atom and protocol, at `bound`: a port in `region.ports_at(dst)` is allowed by every
    oracle (the lower bound is inside the truth), or every oracle-allowed port is in it (the upper
    bound is around it); `exact`: both."""
    atoms = source_atoms(net.rules, sources, bound)
    union = AddressSet().union(*(a.addresses for a in atoms))
    assert union == sources
    for i, a in enumerate(atoms):
        for b in atoms[i + 1:]:
            assert not a.addresses.overlaps(b.addresses)
    for atom in atoms:
        for version in (4, 6):
            spans = atom.addresses.v4 if version == 4 else atom.addresses.v6
            if not spans:
                continue
            destinations = edges(set().union(*(o.address_cuts("destination", version) for o in oracles)),
                                 END[version])
            ports = edges(set().union(*(o.port_cuts() for o in oracles)), 65536)
            for protocol in PROTOCOLS:
                region = net.allowed_region(atom, protocol, version, bound)
                for source in _members(spans, rng):
                    for destination in rng.sample(destinations, min(6, len(destinations))):
                        allowed = region.ports_at(destination)
                        tried = {rng.choice(ports)}
                        if allowed:
                            start, end = rng.choice(allowed.spans)
                            tried |= {start, end - 1}
                        for port in tried:
                            p = packet(version, source, destination, port, protocol)
                            for oracle in oracles:
                                verdict = oracle.allows(p)
                                if exact or bound == LOWER:
                                    assert verdict or port not in allowed, (p, bound)
                                if exact or bound == UPPER:
                                    assert not verdict or port in allowed, (p, bound)


@share(1 / 2)
@given(spec=policy_specs(), sources=source_sets(), rng=st.randoms(use_true_random=False))
def test_allowed_region_per_source_atom_agrees_with_the_oracle(spec: PolicySpec, sources: AddressSet, rng):
    rows = render(spec)
    net, oracle = compiled(rows, spec.policy_id), Oracle(rows, spec.policy_id)
    _check_atoms(net, sources, LOWER, rng, [oracle], exact=True)


@share(1)
@given(spec=policy_specs(), sources=source_sets(), rng=st.randoms(use_true_random=False))
def test_a_source_atom_holds_exactly_the_rules_whose_sources_contain_it(spec: PolicySpec, sources: AddressSet, rng):
    rows = render(spec)
    net, oracle = compiled(rows, spec.policy_id), Oracle(rows, spec.policy_id)
    by_name = {(group.lower(), f"ruleCollections/{collection}/rules/{rule['name']}"): rule
               for _, group, collection, rule in oracle.network_rules}
    for atom in source_atoms(net.rules, sources, LOWER):
        held = {(r.rule.owner_id.lower(), r.rule.locus) for r in atom.rules}
        for version in (4, 6):
            for source in _members(atom.addresses.v4 if version == 4 else atom.addresses.v6, rng):
                containing = {key for key, rule in by_name.items()
                              if oracle._addresses_hold(rule, "source", _ip(version, source))}
                assert containing == held


# --- (c) covers ---------------------------------------------------------------------------------

@st.composite
def targets(draw, spec: PolicySpec, oracle: Oracle) -> tuple[AddressSet, IntervalSet]:
    """A small destination x port space, often inside some rule's destinations so covers happen."""
    version = draw(st.sampled_from((4, 4, 6)))
    cuts = sorted(oracle.address_cuts("destination", version))
    start = draw(st.one_of(st.sampled_from(cuts[:-1]), st.integers(0, END[version] - 1)))
    start = min(start, END[version] - 1)
    size = draw(st.integers(1, 40))
    spans = IntervalSet.span(start, min(start + size, END[version]))
    target = AddressSet(v4=spans) if version == 4 else AddressSet(v6=spans)
    port = draw(st.one_of(st.sampled_from(PORT_ANCHORS), st.integers(0, 65535)))
    return target, IntervalSet.span(port, min(port + draw(st.integers(1, 4)), 65536))


def oracle_covered_sources(oracle: Oracle, sources: AddressSet, target: AddressSet, ports: IntervalSet,
                           protocol: str, only=None) -> dict[int, set[int]]:
    """Per IP version, the source representatives from which every destination x port
    representative of the target is allowed by the Allow rules alone (Deny rules ignored)."""
    covered: dict[int, set[int]] = {}
    port_reps = [r for s, e in ports.spans for r in representatives(oracle.port_cuts(), s, e)]
    for version in (4, 6):
        wanted = target.v4 if version == 4 else target.v6
        allowed_from = sources.v4 if version == 4 else sources.v6
        covered[version] = set()
        if not wanted:
            continue
        source_cuts, dest_cuts = oracle.address_cuts("source", version), oracle.address_cuts("destination", version)
        dst_reps = [r for s, e in wanted.spans for r in representatives(dest_cuts, s, e)]
        for s, e in allowed_from.spans:
            for source in representatives(source_cuts, s, e):
                if all(oracle.allows(packet(version, source, d, p, protocol), ignore_denies=True, only=only)
                       for d in dst_reps for p in port_reps):
                    covered[version].add(source)
    return covered


def _keys(rules) -> frozenset:
    return frozenset((r.rule.owner_id.lower(), r.rule.locus) for r in rules)


def check_covers(net: NetworkRules, oracles: list[Oracle], sources: AddressSet, target: AddressSet,
                 ports: IntervalSet, protocol: str, exact: bool = True) -> None:
    """Lower-bound covers are real for every oracle, every real cover is within the upper-bound
    covers, and (when nothing is unknown, `exact`) each reported cover is irredundant."""
    lower = covering_rules(net, sources, protocol, target, ports, LOWER)
    upper = covering_rules(net, sources, protocol, target, ports, UPPER)
    for oracle in oracles:
        covered = oracle_covered_sources(oracle, sources, target, ports, protocol)
        for version in (4, 6):
            lower_from = AddressSet().union(*(c.sources for c in lower if c.version == version))
            upper_from = AddressSet().union(*(c.sources for c in upper if c.version == version))
            family = (lambda a: a.v4) if version == 4 else (lambda a: a.v6)
            cuts = oracle.address_cuts("source", version)
            for s, e in family(sources).spans:
                for source in representatives(cuts, s, e):
                    if source in family(lower_from):
                        assert source in covered[version], ("lower cover not real", version, source)
                    if source in covered[version]:
                        assert source in family(upper_from), ("real cover missed by upper", version, source)
    for cover in lower:
        _check_cover(oracles, cover, target, ports, protocol, exact)


def _check_cover(oracles, cover, target, ports, protocol, exact: bool) -> None:
    """The cover's rules alone cover; and either each of them covers alone, or none can be dropped."""
    keys = _keys(cover.rules)
    assert all(r.allow for r in cover.rules)
    family = AddressSet(v4=cover.sources.v4) if cover.version == 4 else AddressSet(v6=cover.sources.v6)
    for oracle in oracles:
        sample = AddressSet(v4=IntervalSet.of(family.v4.spans[:2]), v6=IntervalSet.of(family.v6.spans[:2]))

        def covers(only) -> bool:
            found = oracle_covered_sources(oracle, sample, target, ports, protocol, only=only)[cover.version]
            cuts = oracle.address_cuts("source", cover.version)
            wanted = sample.v4 if cover.version == 4 else sample.v6
            return found == {r for s, e in wanted.spans for r in representatives(cuts, s, e)}

        assert covers(keys)
        if exact and len(keys) > 1:
            alone = [covers(frozenset({k})) for k in keys]
            if any(alone):
                assert all(alone), "a multi-rule cover mixes rules that cover alone with ones that do not"
            else:
                for key in keys:
                    assert not covers(keys - {key}), ("redundant rule in cover", key)


@share(1)
@given(spec=policy_specs(), data=st.data())
def test_covering_rules_agree_with_the_oracle_ignoring_denies(spec: PolicySpec, data):
    rows = render(spec)
    net, oracle = compiled(rows, spec.policy_id), Oracle(rows, spec.policy_id)
    target, ports = data.draw(targets(spec, oracle))
    sources = data.draw(st.one_of(st.just(AddressSet.everything()), source_sets()))
    for protocol in ("tcp", "udp"):
        check_covers(net, [oracle], sources, target, ports, protocol)


# --- equivalent rewrites ------------------------------------------------------------------------

def answers(net: NetworkRules, packets: list[Packet], target: AddressSet, ports: IntervalSet) -> tuple:
    decisions = tuple(product_verdict(net, p) for p in packets)
    covers = frozenset((c.protocol, c.version, _keys(c.rules), c.sources)
                       for protocol in ("tcp", "udp")
                       for c in covering_rules(net, AddressSet.everything(), protocol, target, ports, LOWER))
    return decisions, covers


@share(1 / 2)
@given(spec=policy_specs(), how=st.sampled_from(("halves", "range", "ip-group")), data=st.data())
def test_equivalent_respellings_change_no_answer(spec: PolicySpec, how: str, data):
    rows = render(spec)
    oracle = Oracle(rows, spec.policy_id)
    rng = data.draw(st.randoms(use_true_random=False))
    packets = boundary_packets([oracle], rng, 4) + boundary_packets([oracle], rng, 6)
    target, ports = data.draw(targets(spec, oracle))
    original = answers(compiled(rows, spec.policy_id), packets, target, ports)
    respelled = rewrite(spec, how)
    assert answers(compiled(render(respelled), spec.policy_id), packets, target, ports) == original
    # The respelled rows mean the same to the oracle too (a check on the rewrite itself).
    other = Oracle(render(respelled), spec.policy_id)
    assert [oracle_verdict(other, p) for p in packets[:20]] == [oracle_verdict(oracle, p) for p in packets[:20]]


# --- unknown data -------------------------------------------------------------------------------

def fillings(spec: PolicySpec) -> st.SearchStrategy:
    """One concrete possibility for every hole: address holes become zero or more address tokens
    (or `*`), port holes one or more port tokens (or `*`)."""
    def one(hole: Hole) -> st.SearchStrategy[list[str]]:
        if hole.kind == "port":
            return st.one_of(st.just(["*"]), st.lists(port_tokens(), min_size=1, max_size=2))
        return st.one_of(st.just(["*"]), st.just([]), st.lists(address_tokens(), min_size=1, max_size=2))
    return st.fixed_dictionaries({hole.index: one(hole) for hole in spec.holes})


@share(1 / 3)
@given(spec=policy_specs(holes=True), data=st.data())
def test_bounds_hold_every_filling_of_unknown_data(spec: PolicySpec, data):
    rows = render(spec)
    net = compiled(rows, spec.policy_id)
    assert not net.gaps or spec.holes  # a hole in an IP group no rule uses is no gap

    filled = []
    for _ in range(data.draw(st.integers(1, 2))):
        choice = data.draw(fillings(spec))
        filled.append(Oracle(render(spec, lambda hole: choice[hole.index]), spec.policy_id))
    rng = data.draw(st.randoms(use_true_random=False))
    for version in (4, 6):
        for p in boundary_packets(filled, rng, version):
            lower, upper = product_verdict(net, p, LOWER), product_verdict(net, p, UPPER)
            for oracle in filled:
                allowed = oracle.allows(p)
                if lower is not None and lower[0]:
                    assert allowed, ("lower bound allows what a filling denies", p)
                if allowed:
                    assert upper is not None and upper[0], ("a filling allows what the upper bound denies", p)
    sources = data.draw(st.one_of(st.just(AddressSet.everything()), source_sets()))
    _check_atoms(net, sources, LOWER, rng, filled)
    _check_atoms(net, sources, UPPER, rng, filled)
    target, ports = data.draw(targets(spec, filled[0]))
    for protocol in ("tcp", "udp"):
        check_covers(net, filled, sources, target, ports, protocol, exact=False)
