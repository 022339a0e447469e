"""Random firewall policies as Resource Graph rows, for the oracle and metamorphic tests.

A policy is generated as a small plain description (`PolicySpec`) and rendered to rows, so the
same policy can be rendered several ways: as read (with holes where data is missing or
unreadable), with each hole filled by one concrete possibility, or rewritten into an equivalent
spelling (a CIDR as its two halves or as an `a-b` range, literal addresses moved into an IP group).

Addresses cluster around a few anchors (the ends of the IPv4 space, 10.0.0.0, 128.0.0.0) so that
rules overlap, nest and touch often; ports cluster around the web ports and the ends of the range.
"""
from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field, replace
from typing import Callable

from hypothesis import strategies as st

SUB = "/subscriptions/0f0e0d0c-0000-4000-8000-00000000aa01"
NET = f"{SUB}/resourceGroups/rg-fw/providers/Microsoft.Network"
POLICY_TYPE = "microsoft.network/firewallpolicies"
RCG_TYPE = "microsoft.network/firewallpolicies/rulecollectiongroups"
IP_GROUP_TYPE = "microsoft.network/ipgroups"

V4_ANCHORS = (0, 10 << 24, 2 ** 31, 2 ** 32 - 1024)
V6_ANCHORS = (0, int(ipaddress.IPv6Address("2001:db8::")), 2 ** 127, 2 ** 128 - 1024)
PORT_ANCHORS = (0, 1, 53, 80, 443, 1024, 32767, 65535)

# What a hole reads as in the rows the product sees.
UNKNOWN_TAG = "NoSuchServiceTag"
# Known tags are holes too: their prefixes are not known offline, so every filling must stay
# within the product's bounds (a Deny of `Storage` may deny anything at the lower bound).
TAG_SPELLINGS = (UNKNOWN_TAG, "Storage", "AzureCloud.westeurope")
MALFORMED_PORTS = ("8o", "443-", "70000", "90-80")


@dataclass(frozen=True)
class Hole:
    """A datum that could not be read; `index` names it so every occurrence gets the same filling."""

    index: int
    kind: str  # "tag" (an address token), "port" (a port token), "missing" / "no-addresses" (an IP group)
    spelled: str = ""  # how the product reads it (tag and port holes)


@dataclass(frozen=True)
class RuleSpec:
    name: str
    protocols: tuple[str, ...]
    sources: tuple  # str or Hole
    source_groups: tuple[int, ...]
    destinations: tuple
    destination_groups: tuple[int, ...]
    ports: tuple


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    priority: int
    allow: bool
    rules: tuple[RuleSpec, ...]


@dataclass(frozen=True)
class GroupSpec:  # a rule collection group
    name: str
    priority: int
    collections: tuple[CollectionSpec, ...]


@dataclass(frozen=True)
class PolicySpec:
    policies: tuple[tuple[GroupSpec, ...], ...]  # base first, the judged policy last
    ip_groups: tuple  # per group: a tuple of tokens (str or Hole), or a Hole for the whole group
    holes: tuple[Hole, ...] = field(default=())

    @property
    def policy_id(self) -> str:
        return policy_id(len(self.policies) - 1)


def policy_id(depth: int) -> str:
    return f"{NET}/firewallPolicies/fwp-{depth}"


def ip_group_id(index: int) -> str:
    return f"{NET}/ipGroups/ipg-{index}"


# --- strategies ---------------------------------------------------------------------------------

def _address(rng: random.Random, version: int) -> int:
    anchors, end = (V4_ANCHORS, 2 ** 32) if version == 4 else (V6_ANCHORS, 2 ** 128)
    if rng.random() < 0.2:
        return rng.randrange(end)
    return min(max(rng.choice(anchors) + rng.randint(-2, 1100), 0), end - 1)


def _text(version: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def address_token(rng: random.Random, version: int | None = None) -> str:
    """`*` (rarely), an address, a CIDR (sometimes with host bits set, as Azure accepts) or a range."""
    version = version or rng.choice((4, 4, 4, 6))
    bits = 32 if version == 4 else 128
    kind = rng.choice(("ip", "cidr", "cidr", "range", "star"))
    if kind == "star" and rng.randrange(4) == 0:
        return "*"
    first = _address(rng, version)
    if kind == "ip":
        return _text(version, first)
    if kind in ("range", "star"):
        low, high = sorted((first, _address(rng, version)))
        return f"{_text(version, low)}-{_text(version, high)}"
    prefix = rng.choice((0, 1, 2, bits - 8, bits - 2, bits - 1, bits)) if rng.random() < 0.6 else rng.randint(0, bits)
    if rng.random() < 0.5:
        first &= ~((1 << (bits - prefix)) - 1) & ((1 << bits) - 1)
    return f"{_text(version, first)}/{prefix}"


def port_token(rng: random.Random) -> str:
    def port() -> int:
        return rng.choice(PORT_ANCHORS) if rng.random() < 0.6 else rng.randint(0, 65535)
    kind = rng.choice(("one", "range", "range", "star"))
    if kind == "star" and rng.randrange(3) == 0:
        return "*"
    first = port()
    if kind == "one":
        return str(first)
    low, high = sorted((first, port()))
    return f"{low}-{high}"


# Tokens are drawn from one seed each: a policy holds dozens of them, and drawing every digit
# through Hypothesis made data generation most of the run time. The policy's shape (how many
# policies, groups, collections, rules, tokens; priorities; actions; holes) is still drawn and
# shrunk by Hypothesis.
SEEDS = st.integers(0, 2 ** 32 - 1)


def address_tokens(version: int | None = None) -> st.SearchStrategy[str]:
    return SEEDS.map(lambda seed: address_token(random.Random(seed), version))


def port_tokens() -> st.SearchStrategy[str]:
    return SEEDS.map(lambda seed: port_token(random.Random(seed)))


PROTOCOL_SPELLINGS = st.lists(st.sampled_from(("TCP", "UDP", "ICMP", "Any", "tcp", "Udp")), min_size=1, max_size=2,
                              unique=True)


class _Holes:
    """Hands out holes while a policy is drawn (each with a fresh index)."""

    def __init__(self, draw, enabled: bool) -> None:
        self.draw, self.enabled, self.made = draw, enabled, []

    def maybe(self, kind: str, spellings: tuple[str, ...] = ("",)) -> Hole | None:
        if not self.enabled or self.draw(st.integers(0, 5)) != 0:
            return None
        hole = Hole(len(self.made), kind, self.draw(st.sampled_from(spellings)))
        self.made.append(hole)
        return hole


@st.composite
def policy_specs(draw, *, holes: bool = False, version: int | None = None, max_rules: int = 3) -> PolicySpec:
    """A policy with an optional base policy (and a grandparent), IP groups and Allow/Deny collections."""
    maker = _Holes(draw, holes)
    rng = random.Random(draw(SEEDS))

    def tokens_(count: int) -> list[str]:
        return [address_token(rng, version) for _ in range(count)]
    group_count = draw(st.integers(0, 3))
    ip_groups = []
    for _ in range(group_count):
        whole = maker.maybe(draw(st.sampled_from(("missing", "no-addresses"))))
        if whole is not None:
            ip_groups.append(whole)
            continue
        members = tokens_(draw(st.integers(0, 3)))
        tag = maker.maybe("tag", TAG_SPELLINGS)
        ip_groups.append(tuple(members) + ((tag,) if tag else ()))

    def addresses() -> tuple[tuple, tuple[int, ...]]:
        literal = tokens_(draw(st.integers(0, 3)))
        tag = maker.maybe("tag", TAG_SPELLINGS)
        groups = draw(st.lists(st.integers(0, group_count - 1), max_size=2, unique=True)) if group_count else []
        if not literal and not groups and tag is None:
            literal = tokens_(1)
        return tuple(literal) + ((tag,) if tag else ()), tuple(groups)

    names = iter(range(10 ** 6))
    policies = []
    for depth in range(draw(st.integers(1, 3))):
        group_priorities = draw(st.lists(st.integers(100, 600), min_size=1, max_size=2, unique=True))
        groups = []
        for g_index, g_priority in enumerate(group_priorities):
            c_priorities = draw(st.lists(st.integers(100, 600), min_size=1, max_size=3, unique=True))
            collections = []
            for c_priority in c_priorities:
                rules = []
                for _ in range(draw(st.integers(1, max_rules))):
                    sources, source_groups = addresses()
                    destinations, destination_groups = addresses()
                    ports = tuple(port_token(rng) for _ in range(draw(st.integers(1, 3))))
                    port_hole = maker.maybe("port", MALFORMED_PORTS)
                    rules.append(RuleSpec(f"r{next(names)}", tuple(draw(PROTOCOL_SPELLINGS)), sources, source_groups,
                                          destinations, destination_groups, ports + ((port_hole,) if port_hole else ())))
                collections.append(CollectionSpec(f"c{next(names)}", c_priority, draw(st.booleans()), tuple(rules)))
            groups.append(GroupSpec(f"rcg-{depth}-{g_index}", g_priority, tuple(collections)))
        policies.append(tuple(groups))
    return PolicySpec(tuple(policies), tuple(ip_groups), tuple(maker.made))


# --- rendering ----------------------------------------------------------------------------------

Filling = Callable[[Hole], list[str]]


def _row(resource_id: str, kind: str, properties: dict) -> dict:
    name = resource_id.rsplit("/", 1)[-1]
    return {"id": resource_id, "name": name, "type": kind, "location": "westeurope", "resourceGroup": "rg-fw",
            "subscriptionId": SUB.rsplit("/", 1)[-1], "tags": {}, "properties": properties}


def _tokens(values: tuple, fill: Filling | None) -> list[str]:
    out: list[str] = []
    for value in values:
        if isinstance(value, Hole):
            out.extend([value.spelled] if fill is None else fill(value))
        else:
            out.append(value)
    return out


def render(spec: PolicySpec, fill: Filling | None = None) -> list[dict]:
    """Rows as Resource Graph returns them; with `fill`, every hole replaced by the tokens it returns."""
    rows = []
    for index, group in enumerate(spec.ip_groups):
        gid = ip_group_id(index)
        if isinstance(group, Hole):
            if fill is not None:
                rows.append(_row(gid, IP_GROUP_TYPE, {"ipAddresses": fill(group)}))
            elif group.kind == "no-addresses":
                rows.append(_row(gid, IP_GROUP_TYPE, {"provisioningState": "Succeeded"}))
            continue  # "missing": no row at all
        rows.append(_row(gid, IP_GROUP_TYPE, {"ipAddresses": _tokens(group, fill)}))
    for depth, groups in enumerate(spec.policies):
        pid = policy_id(depth)
        props: dict = {"threatIntelMode": "Alert",
                       "ruleCollectionGroups": [{"id": f"{pid}/ruleCollectionGroups/{g.name}"} for g in groups]}
        if depth:
            props["basePolicy"] = {"id": policy_id(depth - 1)}
        rows.append(_row(pid, POLICY_TYPE, props))
        for group in groups:
            collections = []
            for collection in group.collections:
                rules = [{
                    "ruleType": "NetworkRule", "name": rule.name, "ipProtocols": list(rule.protocols),
                    "sourceAddresses": _tokens(rule.sources, fill),
                    "sourceIpGroups": [ip_group_id(i) for i in rule.source_groups],
                    "destinationAddresses": _tokens(rule.destinations, fill),
                    "destinationIpGroups": [ip_group_id(i).upper() for i in rule.destination_groups],
                    "destinationPorts": _tokens(rule.ports, fill),
                } for rule in collection.rules]
                collections.append({"name": collection.name, "priority": collection.priority,
                                    "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                                    "action": {"type": "Allow" if collection.allow else "Deny"}, "rules": rules})
            # Rule kinds the network evaluator must ignore: an application rule allowing everything
            # on the web ports, and a DNAT collection, both before every network collection.
            collections.append({"name": f"app-{group.name}", "priority": 99, "ruleCollectionType":
                                "FirewallPolicyFilterRuleCollection", "action": {"type": "Allow"},
                                "rules": [{"ruleType": "ApplicationRule", "name": "web", "sourceAddresses": ["*"],
                                           "protocols": [{"protocolType": "Https", "port": 443}],
                                           "targetFqdns": ["*"]}]})
            collections.append({"name": f"dnat-{group.name}", "priority": 98, "ruleCollectionType":
                                "FirewallPolicyNatRuleCollection", "action": {"type": "Dnat"},
                                "rules": [{"ruleType": "NatRule", "name": "in", "ipProtocols": ["TCP"],
                                           "sourceAddresses": ["*"], "destinationAddresses": ["203.0.113.9"],
                                           "destinationPorts": ["*"], "translatedAddress": "10.0.0.4",
                                           "translatedPort": "443"}]})
            rows.append(_row(f"{pid}/ruleCollectionGroups/{group.name}", RCG_TYPE,
                             {"priority": group.priority, "ruleCollections": collections[::-1]}))
    return rows


# --- equivalent rewrites ------------------------------------------------------------------------

def _split_token(token, how: str) -> tuple:
    """One address token respelled; anything but a plain CIDR is kept."""
    if not isinstance(token, str) or "/" not in token:
        return (token,)
    network = ipaddress.ip_network(token, strict=False)
    if how == "halves" and network.prefixlen < network.max_prefixlen:
        return tuple(str(half) for half in network.subnets(prefixlen_diff=1))
    if how == "range":
        return (f"{network.network_address}-{network.broadcast_address}",)
    return (token,)


def rewrite(spec: PolicySpec, how: str) -> PolicySpec:
    """The same policy, spelled differently: `halves`, `range` (every CIDR as its halves or as a
    first-last range, in rules and IP groups) or `ip-group` (each rule's literal addresses moved
    into a new IP group of their own)."""
    ip_groups = list(spec.ip_groups)

    def addresses(tokens: tuple, groups: tuple[int, ...]) -> tuple[tuple, tuple[int, ...]]:
        if how == "ip-group":
            literal = tuple(t for t in tokens if isinstance(t, str))
            if not literal:
                return tokens, groups
            ip_groups.append(literal)
            return tuple(t for t in tokens if not isinstance(t, str)), (*groups, len(ip_groups) - 1)
        return tuple(part for token in tokens for part in _split_token(token, how)), groups

    policies = []
    for groups in spec.policies:
        new_groups = []
        for group in groups:
            collections = []
            for collection in group.collections:
                rules = []
                for rule in collection.rules:
                    sources, source_groups = addresses(rule.sources, rule.source_groups)
                    destinations, destination_groups = addresses(rule.destinations, rule.destination_groups)
                    rules.append(replace(rule, sources=sources, source_groups=source_groups,
                                         destinations=destinations, destination_groups=destination_groups))
                collections.append(replace(collection, rules=tuple(rules)))
            new_groups.append(replace(group, collections=tuple(collections)))
        policies.append(tuple(new_groups))
    if how != "ip-group":
        ip_groups = [g if isinstance(g, Hole) else tuple(p for t in g for p in _split_token(t, how)) for g in ip_groups]
    return PolicySpec(tuple(policies), tuple(ip_groups), spec.holes)
