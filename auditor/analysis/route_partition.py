"""Which routes of a route table decide where Internet-bound traffic goes, per address family.

Azure picks the longest matching prefix, so `0.0.0.0/1` + `128.0.0.0/1` override `0.0.0.0/0`
and a `/8` to `Internet` punches a hole through a default route to the firewall. We partition
the public address space (IPv4, or IPv6 when a dual-stack cluster asks) by the winning user
route instead of looking for a literal `0.0.0.0/0` or `::/0`.

A route the table holds but that cannot be read whole (no prefix, no or an unknown next hop
type, an appliance route without an IP) is not skipped: whatever it might win is unknown, and
the decision says so (`unknown`), so that no verdict that depends on it can pass.
"""
from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence, TypeVar

from aksaudit.model.resources import IPNetwork, Route

T = TypeVar("T")

# Address ranges that are never Internet destinations (RFC 6890 special-purpose IPv4 blocks).
NON_PUBLIC_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
))
# IPv6 Internet destinations are global unicast, 2000::/3 (RFC 4291 section 2.4, IANA's IPv6
# address space registry): everything outside it (link-local fe80::/10, unique local fc00::/7,
# multicast ff00::/8, loopback, the reserved blocks) never reaches the Internet. Inside it only
# the documentation block 2001:db8::/32 (RFC 3849) is never routed.
NON_PUBLIC_V6 = tuple(ipaddress.IPv6Network(n) for n in (
    "::/3", "4000::/2", "8000::/1", "2001:db8::/32",
))

# A route that wins a block of at least 1/16 of the public space decides "the Internet" as a
# whole; narrower winners are exceptions to it (holes, host routes). IPv4: prefix /4 or shorter;
# IPv6: /7 or shorter (1/16 of 2000::/3).
DECIDING_MAX_PREFIXLEN = {4: 4, 6: 7}


@dataclass(frozen=True)
class _Space:
    """One address family's public space as merged, sorted [start, end) integers: decide() asks
    "is this public?" for every slice of every route table, and a bisect over integers costs a
    fraction of building address objects and testing each block."""

    end: int
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    cuts: frozenset[int]

    def non_public(self, start: int) -> bool:
        index = bisect.bisect_right(self.starts, start) - 1
        return index >= 0 and start < self.ends[index]


def _space(blocks: tuple[ipaddress.IPv4Network, ...] | tuple[ipaddress.IPv6Network, ...], bits: int) -> _Space:
    spans: list[list[int]] = []
    for low, high in sorted((int(b.network_address), int(b.network_address) + b.num_addresses) for b in blocks):
        if spans and low <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], high)
        else:
            spans.append([low, high])
    return _Space(2 ** bits, tuple(s[0] for s in spans), tuple(s[1] for s in spans),
                  frozenset(c for s in spans for c in s))


_SPACES = {4: _space(NON_PUBLIC_V4, 32), 6: _space(NON_PUBLIC_V6, 128)}


@dataclass(frozen=True)
class RouteDecision:
    """How a route table splits the public destinations of one address family among its routes."""

    deciding: tuple[Route, ...]  # broad winners: the routes that steer Internet-bound traffic
    exceptions: tuple[Route, ...]  # narrower winners of public space (holes and host routes)
    uncovered: bool  # some public space falls through to Azure's system route to the Internet
    service_tag_routes: tuple[Route, ...]  # prefixes that are service tags, not CIDRs
    # Why where some public traffic goes cannot be known: a route that could win it cannot be
    # read whole. Empty when every route that matters was readable.
    unknown: tuple[str, ...] = ()
    version: int = 4

    @property
    def readable(self) -> bool:
        return not self.unknown


def _bounds(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    start = int(network.network_address)
    return start, start + network.num_addresses


def partition(entries: Sequence[tuple[IPNetwork, T]], version: int = 4) -> tuple[list[T], bool]:
    """Longest-prefix match over one family's public space: the entries that win some public
    address (each once, in order of first win) and whether some public address matches none.

    `entries` are (prefix, owner) pairs in table order: ties go to the earlier entry. Shared by
    subnet route tables and Virtual WAN hub route tables, whose routes decide alike.
    """
    winners, uncovered = _winning_positions(tuple(network for network, _ in entries), version)
    return [entries[index][1] for index in winners], uncovered


@lru_cache(maxsize=4096)
def _winning_positions(networks: tuple[IPNetwork, ...], version: int) -> tuple[tuple[int, ...], bool]:
    """Positions of the prefixes that win some public address (in order of first win), and
    whether some public address matches none.

    Depends on the prefixes and their order only, never on the routes around them, so it is
    cached on them: thousands of spoke tables hold the same few prefixes (a default route to
    their hub's firewall), and each would otherwise cut the address space anew.
    """
    space = _SPACES[version]
    spans = [(*_bounds(network), network.prefixlen, index)
             for index, network in enumerate(networks) if network.version == version]
    cuts = {0, space.end} | space.cuts
    for start, end, *_ in spans:
        cuts.update((start, end))
    points = sorted(cuts)
    # Longest prefix first, ties in table order (a stable sort): the first span that contains a
    # slice is the one longest-prefix match picks.
    spans.sort(key=lambda span: -span[2])
    winners: dict[int, None] = {}
    uncovered = False
    for start, end in zip(points, points[1:]):
        if space.non_public(start):
            continue
        best = next((index for r_start, r_end, _, index in spans if r_start <= start and end <= r_end), None)
        if best is None:
            uncovered = True
        else:
            winners.setdefault(best)
    return tuple(winners), uncovered


@lru_cache(maxsize=4096)
def decide(routes: tuple[Route, ...], version: int = 4) -> RouteDecision:
    """Longest-prefix-match partition of one family's public space over a table's routes.

    Cached: a table is shared by the node and pod subnets of its clusters, and each of their
    egress paths asks for the same partition. Routes are frozen, so equal tuples decide alike.
    """
    winners, uncovered = partition([(r.network, r) for r in routes if r.network is not None], version)
    by_id: dict[str, Route] = {}
    for route in winners:
        by_id.setdefault(route.id.lower(), route)
    won = list(by_id.values())
    tags = tuple(r for r in routes if r.network is None and r.is_service_tag)
    # A route with no usable prefix could be anything: where every public address goes is
    # unknown. A readable prefix with an unreadable next hop matters only where it wins.
    unknown = [r.defect for r in routes if r.network is None and not r.is_service_tag]
    unknown += [r.defect for r in (*won, *tags) if r.defect]
    limit = DECIDING_MAX_PREFIXLEN[version]
    return RouteDecision(
        deciding=tuple(r for r in won if r.network.prefixlen <= limit),  # type: ignore[union-attr]
        exceptions=tuple(r for r in won if r.network.prefixlen > limit),  # type: ignore[union-attr]
        uncovered=uncovered,
        service_tag_routes=tags,
        unknown=tuple(dict.fromkeys(unknown)),
        version=version,
    )


def public_slices(networks: Sequence[IPNetwork], version: int = 4) -> list[tuple[int, int]]:
    """The public address space of one family cut at every boundary of `networks`, as [start, end)
    integer slices: inside a slice every one of the networks either holds all of it or none, so
    longest-prefix match picks the same route for each of its addresses."""
    space = _SPACES[version]
    cuts = {0, space.end} | space.cuts
    for network in networks:
        if network.version == version:
            cuts.update(_bounds(network))
    points = sorted(cuts)
    return [(start, end) for start, end in zip(points, points[1:]) if not space.non_public(start)]
