"""Which routes of a route table decide where Internet-bound traffic goes.

Azure picks the longest matching prefix, so `0.0.0.0/1` + `128.0.0.0/1` override `0.0.0.0/0`
and a `/8` to `Internet` punches a hole through a default route to the firewall. We partition
the public IPv4 space by the winning user route instead of looking for a literal `0.0.0.0/0`.
"""
from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from .resources import Route

# Address ranges that are never Internet destinations (RFC 6890 special-purpose IPv4 blocks).
NON_PUBLIC_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
))
_SPACE_END = 2 ** 32
# The same blocks as merged, sorted [start, end) integers: decide() asks "is this public?" for
# every slice of every route table, and a bisect over integers costs a fraction of building
# IPv4Address objects and testing each block.
def _merged(blocks: tuple[ipaddress.IPv4Network, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    spans: list[list[int]] = []
    for low, high in sorted((int(b.network_address), int(b.network_address) + b.num_addresses) for b in blocks):
        if spans and low <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], high)
        else:
            spans.append([low, high])
    return tuple(s[0] for s in spans), tuple(s[1] for s in spans)


_NON_PUBLIC_STARTS, _NON_PUBLIC_ENDS = _merged(NON_PUBLIC_V4)
_NON_PUBLIC_CUTS = frozenset(c for b in NON_PUBLIC_V4
                             for c in (int(b.network_address), int(b.network_address) + b.num_addresses))

# A route that wins a block of at least 1/16 of the IPv4 space (prefix /4 or shorter) decides
# "the Internet" as a whole; narrower winners are exceptions to it (holes, host routes).
DECIDING_MAX_PREFIXLEN = 4


@dataclass(frozen=True)
class RouteDecision:
    """How a route table splits public IPv4 destinations among its routes."""

    deciding: tuple[Route, ...]  # broad winners: the routes that steer Internet-bound traffic
    exceptions: tuple[Route, ...]  # narrower winners of public space (holes and host routes)
    uncovered: bool  # some public space falls through to Azure's system route to the Internet
    service_tag_routes: tuple[Route, ...]  # prefixes that are service tags, not CIDRs


def _bounds(network: ipaddress.IPv4Network) -> tuple[int, int]:
    start = int(network.network_address)
    return start, start + network.num_addresses


def _non_public(start: int) -> bool:
    index = bisect.bisect_right(_NON_PUBLIC_STARTS, start) - 1
    return index >= 0 and start < _NON_PUBLIC_ENDS[index]


@lru_cache(maxsize=4096)
def decide(routes: tuple[Route, ...]) -> RouteDecision:
    """Longest-prefix-match partition of the public IPv4 space over a table's routes.

    Cached: a table is shared by the node and pod subnets of its clusters, and each of their
    egress paths asks for the same partition. Routes are frozen, so equal tuples decide alike.
    """
    v4 = [r for r in routes if isinstance(r.network, ipaddress.IPv4Network)]
    spans = [(*_bounds(r.network), r.network.prefixlen, r) for r in v4]  # type: ignore[arg-type]
    cuts = {0, _SPACE_END} | _NON_PUBLIC_CUTS
    for start, end, _, _ in spans:
        cuts.update((start, end))
    points = sorted(cuts)
    # Longest prefix first, ties in table order (a stable sort): the first span that contains a
    # slice is the one longest-prefix match picks.
    spans.sort(key=lambda span: -span[2])
    winners: dict[str, Route] = {}
    uncovered = False
    for start, end in zip(points, points[1:]):
        if _non_public(start):
            continue
        best = next((route for r_start, r_end, _, route in spans if r_start <= start and end <= r_end), None)
        if best is None:
            uncovered = True
        else:
            winners.setdefault(best.id.lower(), best)
    won = list(winners.values())
    return RouteDecision(
        deciding=tuple(r for r in won if r.network.prefixlen <= DECIDING_MAX_PREFIXLEN),  # type: ignore[union-attr]
        exceptions=tuple(r for r in won if r.network.prefixlen > DECIDING_MAX_PREFIXLEN),  # type: ignore[union-attr]
        uncovered=uncovered,
        service_tag_routes=tuple(r for r in routes if r.network is None and r.address_prefix),
    )
