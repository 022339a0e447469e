"""The traffic a firewall allows from a subnet (`subnet_egress`) agrees with a plain computation.

`subnet_egress` answers from indexes and memos shared by every subnet behind a rule set: the rules
holding each elementary interval of the sources, one answer per interval a subnet lies wholly in,
one answer per set of matching application rules, one object per distinct answer. The reference
here keeps none of that: it cuts each subnet at every rule's source boundaries, asks every rule
about every piece, evaluates the network rules first-match per group of pieces the same rules
hold, and reads every Allow application rule on its own. Random policies (with unreadable data)
from `traffic_estates`, their application rules given random sources, are asked about many random
subnets in turn, so a memo keyed too coarsely shows as a wrong answer for a later subnet.
"""
from __future__ import annotations

import ipaddress
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aksaudit.analysis.addresses import AddressSet, parse_addresses
from aksaudit.analysis.intervals import IntervalSet
from aksaudit.analysis.network_rules import AS_WRITTEN, NetworkRules, SourceAtom, ip_group_addresses
from aksaudit.analysis.rulesets import policy_ruleset
from aksaudit.analysis.subnet_egress import PROTOCOL_ORDER, SubnetEgress, _named_lines, describe_ports, describe_span, subnet_egress
from aksaudit.model.estate import build_estate
from aksaudit.model.firewall_rules import APPLICATION

from traffic_estates import RCG_TYPE, V4_ANCHORS, V6_ANCHORS, address_token, ip_group_id, policy_specs, render

SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                    max_examples=max(20, settings.default.max_examples // 4))


def _prefix(rng: random.Random) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A subnet prefix near the addresses the rules cluster around, so it often straddles a rule's edge."""
    version = rng.choice((4, 4, 4, 6))
    bits, anchors = (32, V4_ANCHORS) if version == 4 else (128, V6_ANCHORS)
    address = min(max(rng.choice(anchors) + rng.randint(-1100, 1100), 0), 2 ** bits - 1)
    length = rng.choice((bits - 12, bits - 8, bits - 4, bits - 2, bits, rng.randint(0, bits)))
    network = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    return network((address >> (bits - length) << (bits - length), length))


def _with_application_sources(rows: list[dict], rng: random.Random, ip_groups: int) -> list[dict]:
    """The generated application rules (sources `*`) given random sources and IP groups, some of
    them missing or unreadable, so which application rules hold a subnet varies."""
    for row in rows:
        if row["type"] != RCG_TYPE:
            continue
        for collection in row["properties"]["ruleCollections"]:
            for rule in collection["rules"]:
                if rule["ruleType"] != "ApplicationRule":
                    continue
                rule["sourceAddresses"] = [address_token(rng) for _ in range(rng.randint(0, 2))]
                rule["sourceIpGroups"] = [ip_group_id(i) for i in range(ip_groups) if rng.random() < 0.3]
                if not rule["sourceAddresses"] and not rule["sourceIpGroups"]:
                    rule["sourceAddresses"] = [address_token(rng)]
                rule["targetFqdns"] = rng.sample(["a.example.com", "*.example.org", "b.example.net"], rng.randint(1, 2))
    return rows


# --- the reference ------------------------------------------------------------------------------

def _reference_region_lines(net: NetworkRules, atom: SourceAtom, protocol: str) -> list[str]:
    """Lines for one protocol, each elementary port range asking every destination piece."""
    lines = []
    for version in (4, 6):
        found = net.allowed_region(atom, protocol, version, AS_WRITTEN)
        pieces = [(found.cuts[i], found.cuts[i + 1], ports) for i, ports in enumerate(found.ports) if ports]
        port_cuts = sorted({b for _, _, ports in pieces for b in ports.boundaries()})
        by_destinations: dict[IntervalSet, list[tuple[int, int]]] = {}
        for low, high in zip(port_cuts, port_cuts[1:]):
            destinations = IntervalSet.of((start, end) for start, end, ports in pieces if low in ports)
            if destinations:
                by_destinations.setdefault(destinations, []).append((low, high))
        for destinations, spans in by_destinations.items():
            label = protocol.upper() if protocol == "icmp" else f"{protocol.upper()} {describe_ports(IntervalSet.of(spans))}"
            lines += [f"{label} to {describe_span(start, end, version)}" for start, end in destinations.spans]
    return lines


def _reference_network(net: NetworkRules, sources: AddressSet) -> tuple[set[str], set[str]]:
    held: dict[tuple, AddressSet] = {}
    for version in ("v4", "v6"):
        wanted = getattr(sources, version)
        rule_sources = [(rule, getattr(rule.box(AS_WRITTEN)[0], version)) for rule in net.rules]
        cuts = sorted({*wanted.boundaries(), *(b for _, spans in rule_sources for b in spans.boundaries())})
        for start, end in zip(cuts, cuts[1:]):
            if start in wanted:
                rules = tuple(rule for rule, spans in rule_sources if start in spans)
                piece = IntervalSet.span(start, end)
                part = AddressSet(v4=piece) if version == "v4" else AddressSet(v6=piece)
                held[rules] = held.get(rules, AddressSet()) | part
    by_lines: dict[frozenset[str], AddressSet] = {}
    for rules, part in held.items():
        atom = SourceAtom(part, rules)
        lines = frozenset(line for protocol in PROTOCOL_ORDER
                          for line in (*_reference_region_lines(net, atom, protocol), *_named_lines(rules, protocol)))
        by_lines[lines] = by_lines.get(lines, AddressSet()) | part
    if len(by_lines) == 1:
        lines = set(next(iter(by_lines)))
    else:
        lines = {f"from {', '.join(part.describe(limit=1_000_000))}: {line}"
                 for found, part in by_lines.items() for line in found}
    unknown = {gap for rule in net.rules if rule.gaps and (rule.sources.unknown or rule.sources.ips.overlaps(sources))
               for gap in rule.gaps}
    return lines, unknown


def _reference_application(estate, ruleset, sources: AddressSet) -> tuple[set[str], set[str]]:
    lines: set[str] = set()
    unknown: set[str] = set()
    for rule in ruleset.rules:
        if rule.kind != APPLICATION or not rule.allows:
            continue
        where = f"rule '{rule.name}' ({rule.owner_id}/{rule.locus})"
        rule_sources = parse_addresses(rule.source_addresses, where=where).union(
            ip_group_addresses(estate, rule.source_ip_groups, where))
        if not rule_sources.unknown and not rule_sources.ips.overlaps(sources):
            continue
        unknown.update(rule_sources.unknown)
        targets = ([f.strip().lower().rstrip(".") for f in rule.target_fqdns] + [f"URL {u.strip().lower()}" for u in rule.target_urls]
                   + [f"FQDN tag {t}" for t in rule.fqdn_tags] + [f"web category {c.lower()}" for c in rule.web_categories])
        for protocol in rule.protocols:
            kind, _, port = protocol.partition(":")
            label = f"{kind.strip().upper()}:{port.strip()}" if port else kind.strip().upper()
            lines.update(f"{label} {target}" for target in targets)
    return lines, unknown


def reference(estate, ruleset, prefixes: tuple) -> SubnetEgress:
    sources = AddressSet.of_networks(prefixes)
    network, network_unknown = _reference_network(NetworkRules(estate, ruleset), sources)
    application, application_unknown = _reference_application(estate, ruleset, sources)
    unknown = {*ruleset.gaps, *network_unknown, *application_unknown}
    if not prefixes:
        unknown.add("the subnet came without address prefixes")
    return SubnetEgress(tuple(sorted(network)), tuple(sorted(application)), tuple(sorted(unknown)))


# --- properties ---------------------------------------------------------------------------------

@SETTINGS
@given(spec=policy_specs(holes=True), rng=st.randoms(use_true_random=False))
def test_each_subnets_egress_is_what_a_plain_computation_gives(spec, rng):
    rows = _with_application_sources(render(spec), rng, len(spec.ip_groups))
    estate = build_estate(rows)
    ruleset = policy_ruleset(estate, spec.policy_id)
    subnets = [tuple(_prefix(rng) for _ in range(rng.choice((1, 1, 1, 2)))) for _ in range(8)] + [()]
    subnets += rng.sample(subnets, 3)  # asked again, after others
    for prefixes in subnets:
        assert subnet_egress(estate, ruleset, prefixes) == reference(estate, ruleset, prefixes), prefixes


@SETTINGS
@given(spec=policy_specs(holes=True), rng=st.randoms(use_true_random=False))
def test_equal_traffic_sets_are_one_object(spec, rng):
    """The effective-egress section groups subnets by identity: equal answers must be the same object."""
    rows = _with_application_sources(render(spec), rng, len(spec.ip_groups))
    estate = build_estate(rows)
    ruleset = policy_ruleset(estate, spec.policy_id)
    # Nested and neighbouring prefixes, so several subnets meet the same rules.
    base = _prefix(rng)
    subnets = [(base,), *((s,) for s in list(base.subnets(prefixlen_diff=min(2, base.max_prefixlen - base.prefixlen)))),
               *((_prefix(rng),) for _ in range(6))]
    answers = [subnet_egress(estate, ruleset, prefixes) for prefixes in subnets]
    for a in answers:
        for b in answers:
            assert (a == b) == (a is b)
