"""A deliberately simple reference for Azure Firewall network rules: one packet at a time.

The set-based evaluator in `aksaudit.analysis` answers for whole regions of traffic at once and
is fast because it is clever; this module is slow because it is not. It reads the raw Resource
Graph rows itself (no `aksaudit` parsing), walks the rules in the order Azure documents
("Azure Firewall rule processing logic", learn.microsoft.com/azure/firewall/rule-processing):

* a policy's rules come after its parent (base) policy's: a parent's rule collection groups
  always take precedence, whatever the child's priorities;
* within a policy, rule collection groups by priority (100 first, 65000 last), and within a group
  its rule collections by priority;
* only network rules are walked here (DNAT rules translate inbound traffic, application rules only
  see what no network rule decided), and the first rule that matches ends processing with its
  collection's action; no match leaves the packet undecided by network rules (and Azure denies
  by default).

A rule matches when the protocol is listed (`Any` is TCP, UDP and ICMP), the destination port is
in one of the port tokens (`*`, `n`, `a-b`; ICMP has no port), and each of source and destination
is in one of the rule's address tokens or one of its IP groups' tokens. Membership is decided per
token with nothing but `ipaddress`: `*`, an address, a CIDR (host bits allowed), an `a-b` range.

The oracle refuses what it cannot read (an unknown token, a missing IP group, a group without
`ipAddresses`) by raising `Unreadable`: tests that exercise unknown data fill the holes in first.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Iterable, Mapping, Sequence

POLICY = "microsoft.network/firewallpolicies"
RCG = "microsoft.network/firewallpolicies/rulecollectiongroups"
IP_GROUP = "microsoft.network/ipgroups"
PROTOCOLS = {"tcp": {"tcp"}, "udp": {"udp"}, "icmp": {"icmp"}, "any": {"tcp", "udp", "icmp"}}


class Unreadable(ValueError):
    """The rows hold something the oracle will not guess about."""


@dataclass(frozen=True)
class Packet:
    source: ipaddress.IPv4Address | ipaddress.IPv6Address
    destination: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: int | None  # None for ICMP
    protocol: str  # tcp | udp | icmp


@dataclass(frozen=True)
class Verdict:
    allow: bool
    group_id: str  # the rule collection group holding the deciding rule
    collection: str
    rule: str

    @property
    def locus(self) -> str:
        return f"ruleCollections/{self.collection}/rules/{self.rule}"


@lru_cache(maxsize=None)
def token_bounds(token: str) -> tuple | None:
    """(first, last) address a token denotes, as `ipaddress` objects; None for `*` (every address)."""
    text = token.strip()
    try:
        if text == "*":
            return None
        if "-" in text:
            low, high = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
            if low.version != high.version or high < low:
                raise Unreadable(f"address range {token!r}")
            return low, high
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            return network.network_address, network.broadcast_address
        address = ipaddress.ip_address(text)
        return address, address
    except ValueError as error:
        raise Unreadable(f"address token {token!r}: {error}") from None


def address_in(token: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    bounds = token_bounds(token)
    if bounds is None:
        return True
    low, high = bounds
    return low.version == address.version and low <= address <= high


def port_in(token: str, port: int) -> bool:
    text = token.strip()
    if text == "*":
        return True
    low, dash, high = text.partition("-")
    if not (low.strip().isdigit() and (not dash or high.strip().isdigit())):
        raise Unreadable(f"port token {token!r}")
    first, last = int(low), int(high) if dash else int(low)
    if not 0 <= first <= last <= 65535:
        raise Unreadable(f"port token {token!r}")
    return first <= port <= last


class Oracle:
    """Decide packets against one firewall policy (and its base policies) held in raw rows."""

    def __init__(self, rows: Iterable[Mapping], policy_id: str) -> None:
        self.rows = {row["id"].lower(): row for row in rows}
        self.policy_id = policy_id

    def _row(self, resource_id: str, kind: str) -> Mapping:
        row = self.rows.get(resource_id.lower())
        if row is None or row["type"].lower() != kind:
            raise Unreadable(f"{resource_id} is not in the rows")
        return row

    def chain(self) -> list[Mapping]:
        """[root base policy, ..., the policy]."""
        chain, current = [], self.policy_id
        while current:
            policy = self._row(current, POLICY)
            chain.insert(0, policy)
            current = (policy["properties"].get("basePolicy") or {}).get("id", "")
        return chain

    @cached_property
    def network_rules(self) -> list[tuple[bool, str, str, Mapping]]:
        """(allow, group id, collection name, rule) in processing order."""
        ordered = []
        for policy in self.chain():
            groups = [self._row(ref["id"], RCG) for ref in policy["properties"].get("ruleCollectionGroups", [])]
            for group in sorted(groups, key=lambda g: g["properties"]["priority"]):
                collections = group["properties"]["ruleCollections"]
                for collection in sorted(collections, key=lambda c: c["priority"]):
                    if collection["ruleCollectionType"] != "FirewallPolicyFilterRuleCollection":
                        continue
                    allow = collection["action"]["type"].lower() == "allow"
                    for rule in collection["rules"]:
                        if rule["ruleType"] == "NetworkRule":
                            ordered.append((allow, group["id"], collection["name"], rule))
        return ordered

    def _group_tokens(self, group_ids: Sequence[str]) -> list[str]:
        tokens = []
        for group_id in group_ids:
            addresses = self._row(group_id, IP_GROUP)["properties"].get("ipAddresses")
            if addresses is None:
                raise Unreadable(f"{group_id} has no ipAddresses")
            tokens.extend(addresses)
        return tokens

    def _addresses_hold(self, rule: Mapping, side: str, address) -> bool:
        tokens = [*rule.get(f"{side}Addresses", []), *self._group_tokens(rule.get(f"{side}IpGroups", []))]
        return any(address_in(token, address) for token in tokens)

    def matches(self, rule: Mapping, packet: Packet) -> bool:
        protocols = set()
        for name in rule["ipProtocols"]:
            if name.lower() not in PROTOCOLS:
                raise Unreadable(f"protocol {name!r}")
            protocols |= PROTOCOLS[name.lower()]
        if packet.protocol not in protocols:
            return False
        if packet.protocol != "icmp" and not any(port_in(t, packet.port) for t in rule["destinationPorts"]):
            return False
        return self._addresses_hold(rule, "source", packet.source) and \
            self._addresses_hold(rule, "destination", packet.destination)

    def decide(self, packet: Packet, *, ignore_denies: bool = False,
               only: frozenset[tuple[str, str]] | None = None) -> Verdict | None:
        """The first network rule matching the packet, or None.

        `ignore_denies` walks only the Allow rules (what they permit before exceptions); `only`
        restricts the walk to rules named by (group id lower-cased, locus).
        """
        for allow, group_id, collection, rule in self.network_rules:
            if ignore_denies and not allow:
                continue
            verdict = Verdict(allow, group_id, collection, rule["name"])
            if only is not None and (group_id.lower(), verdict.locus) not in only:
                continue
            if self.matches(rule, packet):
                return verdict
        return None

    def allows(self, packet: Packet, **kwargs) -> bool:
        verdict = self.decide(packet, **kwargs)
        return verdict is not None and verdict.allow

    # --- boundaries, for exhaustive checks over representatives ---------------------------------

    def address_cuts(self, side: str, version: int) -> set[int]:
        """Every integer where membership in some rule's `side` addresses can change."""
        cuts = set()
        end = 2 ** (32 if version == 4 else 128)
        for _, _, _, rule in self.network_rules:
            tokens = [*rule.get(f"{side}Addresses", []), *self._group_tokens(rule.get(f"{side}IpGroups", []))]
            for token in tokens:
                first, last = token_span(token, version)
                if first is not None:
                    cuts.update({first, last + 1})
        return {c for c in cuts if 0 <= c <= end} | {0, end}

    def port_cuts(self) -> set[int]:
        cuts = {0, 65536}
        for _, _, _, rule in self.network_rules:
            for token in rule["destinationPorts"]:
                text = token.strip()
                if text != "*":
                    low, _, high = text.partition("-")
                    cuts.update({int(low), int(high or low) + 1})
        return cuts


def token_span(token: str, version: int) -> tuple[int | None, int | None]:
    """The first and last address of one token of the given IP version (None, None for another version)."""
    bounds = token_bounds(token)
    if bounds is None:
        return 0, 2 ** (32 if version == 4 else 128) - 1
    low, high = bounds
    return (int(low), int(high)) if low.version == version else (None, None)


def representatives(cuts: Iterable[int], low: int, high: int) -> list[int]:
    """One value per elementary interval of [low, high) cut at `cuts`: enough to decide any
    question whose answer is constant between consecutive cuts."""
    points = sorted({low, *(c for c in cuts if low < c < high)})
    return points
