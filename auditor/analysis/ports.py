"""Port and protocol sets, as Azure Firewall network rules spell them.

`destinationPorts` holds `*`, single ports and `a-b` ranges; a rule's ports are their union, so
`1-32767` + `32768-65535` is the same set as `*` minus port 0 (which no client can use: "every
port" means 1-65535 here, as Azure's own `*` is documented for).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .intervals import IntervalSet

PORT_END = 65536
ALL_PORTS = IntervalSet.span(0, PORT_END)
USABLE_PORTS = IntervalSet.span(1, PORT_END)  # port 0 is reserved: no connection uses it

TCP, UDP, ICMP = "tcp", "udp", "icmp"
ALL_PROTOCOLS = frozenset({TCP, UDP, ICMP})
_PROTOCOL_TOKENS = {"tcp": {TCP}, "udp": {UDP}, "icmp": {ICMP}, "any": set(ALL_PROTOCOLS), "*": set(ALL_PROTOCOLS)}


@dataclass(frozen=True)
class Ports:
    ports: IntervalSet
    unknown: tuple[str, ...] = ()


def parse_ports(tokens: Iterable[str], *, where: str = "") -> Ports:
    spans: list[tuple[int, int]] = []
    unknown: list[str] = []
    for raw in tokens:
        token = raw.replace(" ", "")
        if token == "*":
            spans.append((0, PORT_END))
            continue
        low, dash, high = token.partition("-")
        try:
            first, last = int(low), int(high) if dash else int(low)
        except ValueError:
            first, last = -1, -1
        if 0 <= first <= last < PORT_END:
            spans.append((first, last + 1))
        else:
            unknown.append(f"{where + ': ' if where else ''}port '{raw}' is not a port, a range or '*'")
    return Ports(IntervalSet.of(spans), tuple(unknown))


@dataclass(frozen=True)
class Protocols:
    protocols: frozenset[str]
    unknown: tuple[str, ...] = ()


def parse_protocols(tokens: Iterable[str], *, where: str = "") -> Protocols:
    """Network rule protocols (`TCP`, `UDP`, `ICMP`, `Any`); an empty list is refused by Azure,
    and reads as unknown here rather than as "any" or "none"."""
    found: set[str] = set()
    unknown: list[str] = []
    tokens = list(tokens)
    for raw in tokens:
        known = _PROTOCOL_TOKENS.get(raw.strip().lower())
        if known is None:
            unknown.append(f"{where + ': ' if where else ''}protocol '{raw}' is not TCP, UDP, ICMP or Any")
        else:
            found |= known
    if not tokens:
        unknown.append(f"{where + ': ' if where else ''}no protocol is listed")
    return Protocols(frozenset(found), tuple(unknown))
