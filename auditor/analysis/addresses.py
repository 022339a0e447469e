"""Address sets: what a rule's source or destination, an IP group or a route prefix denotes.

A firewall rule may spell the same addresses as `*`, `0.0.0.0/0`, two `/1` halves, a range
`a-b`, an IP group, or a mix; an `AddressSet` is the set of addresses all of those denote, so two
spellings of the same traffic compare equal and a union across rules is just a union.

Service tags are named sets whose prefixes are not known offline: they travel beside the
interval sets as names (`Addresses.tags`). What could not be read or interpreted travels as
reasons (`Addresses.unknown`), so a verdict can tell "allows nothing" from "we do not know".
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

from .intervals import IntervalSet
from .service_tags import EVERYTHING_TAGS, canonical_tag

V4_END = 2 ** 32
V6_END = 2 ** 128

# Never Internet destinations (RFC 6890 special-purpose IPv4 blocks, private space included).
NON_PUBLIC_V4_BLOCKS = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)
# IPv6 Internet destinations are the global unicast space; documentation space is carved out.
PUBLIC_V6_BLOCKS = ("2000::/3",)
NON_PUBLIC_V6_BLOCKS = ("2001:db8::/32",)

# Tokens that mean "every address" in Azure Firewall rules and in the older spellings users write.
EVERY_ADDRESS_TOKENS = frozenset({"*", "any"})


def _block(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    # The size from the prefix length: `num_addresses` goes through a locked cached property, and
    # every AKS subnet's prefixes come here once per firewall on its path.
    start = int(network.network_address)
    return start, start + (1 << (network.max_prefixlen - network.prefixlen))


@dataclass(frozen=True)
class AddressSet:
    """IPv4 and IPv6 addresses as two integer interval sets."""

    v4: IntervalSet = IntervalSet()
    v6: IntervalSet = IntervalSet()

    @classmethod
    def everything(cls) -> "AddressSet":
        return cls(IntervalSet.span(0, V4_END), IntervalSet.span(0, V6_END))

    @classmethod
    def of_networks(cls, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> "AddressSet":
        v4, v6 = [], []
        for network in networks:
            (v4 if network.version == 4 else v6).append(_block(network))
        return cls(IntervalSet.of(v4) if v4 else IntervalSet(), IntervalSet.of(v6) if v6 else IntervalSet())

    def __bool__(self) -> bool:
        return bool(self.v4) or bool(self.v6)

    def __contains__(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return int(address) in (self.v4 if address.version == 4 else self.v6)

    def union(self, *others: "AddressSet") -> "AddressSet":
        others = tuple(o for o in others if o)
        if not others:
            return self
        return AddressSet(self.v4.union(*(o.v4 for o in others)), self.v6.union(*(o.v6 for o in others)))

    __or__ = union

    def intersection(self, other: "AddressSet") -> "AddressSet":
        return AddressSet(self.v4 & other.v4, self.v6 & other.v6)

    __and__ = intersection

    def difference(self, other: "AddressSet") -> "AddressSet":
        return AddressSet(self.v4 - other.v4, self.v6 - other.v6)

    __sub__ = difference

    def covers(self, other: "AddressSet") -> bool:
        return self.v4.covers(other.v4) and self.v6.covers(other.v6)

    def overlaps(self, other: "AddressSet") -> bool:
        return self.v4.overlaps(other.v4) or self.v6.overlaps(other.v6)

    def describe(self, limit: int = 6) -> list[str]:
        """The set as CIDRs and ranges a reader recognises (`0.0.0.0/0`, `10.0.0.0-10.0.0.9`)."""
        parts: list[str] = []
        for spans, version in ((self.v4.spans, 4), (self.v6.spans, 6)):
            cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
            for start, end in spans:
                nets = list(ipaddress.summarize_address_range(cls(start), cls(end - 1)))
                parts.append(str(nets[0]) if len(nets) == 1 else f"{cls(start)}-{cls(end - 1)}")
        if len(parts) > limit:
            return parts[:limit] + [f"... ({len(parts) - limit} more)"]
        return parts


PUBLIC_V4 = AddressSet(IntervalSet.span(0, V4_END)) - AddressSet.of_networks(
    ipaddress.IPv4Network(b) for b in NON_PUBLIC_V4_BLOCKS)
PUBLIC_V6 = AddressSet.of_networks(ipaddress.IPv6Network(b) for b in PUBLIC_V6_BLOCKS) - AddressSet.of_networks(
    ipaddress.IPv6Network(b) for b in NON_PUBLIC_V6_BLOCKS)
PUBLIC = PUBLIC_V4 | PUBLIC_V6
EVERYTHING = AddressSet.everything()


@lru_cache(maxsize=65536)
def parse_address(token: str) -> AddressSet | None:
    """One literal: an IP, a CIDR (host bits allowed, as Azure accepts them) or an `a-b` range.

    None when the token is none of these (a service tag, an FQDN, a typo). Cached: the same
    prefixes recur across thousands of rules and IP groups.
    """
    text = token.strip()
    if not text:
        return None
    if "-" in text and "/" not in text:
        low, _, high = text.partition("-")
        try:
            first, last = ipaddress.ip_address(low.strip()), ipaddress.ip_address(high.strip())
        except ValueError:
            return None
        if first.version != last.version or int(last) < int(first):
            return None
        span = IntervalSet.span(int(first), int(last) + 1)
        return AddressSet(v4=span) if first.version == 4 else AddressSet(v6=span)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return AddressSet.of_networks((network,))


@dataclass(frozen=True)
class Addresses:
    """What a list of address tokens denotes: addresses, service tags, and what could not be read."""

    ips: AddressSet = AddressSet()
    tags: frozenset[str] = frozenset()
    unknown: tuple[str, ...] = field(default=())  # why part of the set is unknown (empty: fully known)

    @property
    def known(self) -> bool:
        return not self.unknown

    def union(self, *others: "Addresses") -> "Addresses":
        # Most rules name no IP group, and most unions are of one part: skip the merges then.
        others = tuple(o for o in others if o.ips or o.tags or o.unknown)
        if not others:
            return self
        if len(others) == 1 and not (self.ips or self.tags or self.unknown):
            return others[0]
        return Addresses(self.ips.union(*(o.ips for o in others)),
                         self.tags.union(*(o.tags for o in others)),
                         tuple(dict.fromkeys([*self.unknown, *(u for o in others for u in o.unknown)])))


def parse_addresses(tokens: Iterable[str], *, where: str = "", extra_tags: frozenset[str] = frozenset()) -> Addresses:
    """Address tokens as a rule, IP group or route holds them (see `_parse_addresses`).

    Cached on the tokens: the same source lists recur across rules and every cluster path asks
    for them again; only a list with unreadable tokens is parsed anew, to name its `where`.
    """
    found = _parse_cached(tuple(tokens), extra_tags)
    return _parse_addresses(found[1], where, extra_tags) if found[0].unknown and where else found[0]


@lru_cache(maxsize=65536)
def _parse_cached(tokens: tuple[str, ...], extra_tags: frozenset[str]) -> tuple[Addresses, tuple[str, ...]]:
    return _parse_addresses(tokens, "", extra_tags), tokens


def _parse_addresses(tokens: Iterable[str], where: str, extra_tags: frozenset[str]) -> Addresses:
    """Address tokens as a rule, IP group or route holds them.

    `*` and `Any` are every address; `Internet` is every address too (it is a tag for all public
    space, and a rule naming it filters nothing). Known service tags become names; anything else
    is unknown, named with `where` so a skipped verdict says which datum it could not read.
    """
    v4: list[tuple[int, int]] = []
    v6: list[tuple[int, int]] = []
    tags: set[str] = set()
    unknown: list[str] = []
    everything = False
    for raw in tokens:
        token = raw.strip()
        if token.lower() in EVERY_ADDRESS_TOKENS:
            everything = True
            continue
        parsed = parse_address(token)
        if parsed is not None:
            v4.extend(parsed.v4.spans)
            v6.extend(parsed.v6.spans)
            continue
        tag = canonical_tag(token, extra_tags)
        if tag is None:
            unknown.append(f"{where + ': ' if where else ''}'{token}' is neither an address, a range nor a known "
                           "service tag")
        elif tag in EVERYTHING_TAGS:
            everything = True
        else:
            tags.add(tag)
    # One merge per side, however many tokens: rules and IP groups list hundreds of prefixes.
    ips = EVERYTHING if everything else AddressSet(IntervalSet.of(v4), IntervalSet.of(v6))
    return Addresses(ips, frozenset(tags), tuple(unknown))
