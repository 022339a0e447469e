"""What a firewall rule's sides denote, as address sets: the predicates AKS003's rule walk asks."""
from __future__ import annotations

from functools import lru_cache

from aksaudit.api import (
    PUBLIC_V4, TCP, AddressSet, Addresses, Estate, FirewallRule, ip_group_addresses, parse_addresses, parse_ports,
)


def expand_addresses(estate: Estate, addresses: tuple[str, ...], ip_groups: tuple[str, ...]) -> tuple[Addresses, list[str]]:
    """The addresses a rule side denotes (literals, ranges, tags and IP groups), and what could not be read."""
    found = parse_addresses(addresses).union(ip_group_addresses(estate, ip_groups, "rule"))
    return found, list(found.unknown)


def reaches_everywhere(addresses: Addresses) -> bool:
    """Every public IPv4 address, however it is written (`*`, halves, ranges, IP groups)."""
    return addresses.ips.covers(PUBLIC_V4)


def port_allowed(rule: FirewallRule, port: int) -> bool:
    """Whether a network rule's destination ports include `port` (`*`, single ports, ranges)."""
    return port in _ports(rule.destination_ports)


@lru_cache(maxsize=4096)
def _ports(tokens: tuple[str, ...]):
    return parse_ports(tokens).ports


def carries_tcp(rule: FirewallRule) -> bool:
    """Network rule protocols TCP or Any (no protocol listed is read as any)."""
    return not rule.protocols or any(p.strip().lower() in (TCP, "any") for p in rule.protocols)


def uncovered(targets: AddressSet, addresses: Addresses) -> AddressSet:
    """The part of `targets` that `addresses` do not contain (empty when fully covered)."""
    return targets - addresses.ips


def overlaps_any(targets: AddressSet, addresses: Addresses) -> bool:
    """Whether `addresses` include any part of `targets`."""
    return targets.overlaps(addresses.ips)
