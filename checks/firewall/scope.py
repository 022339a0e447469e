"""What a firewall rule reaches: address and port predicates shared by the rule checks."""
from __future__ import annotations

from functools import lru_cache

from aksaudit.api import Estate, FirewallRule, is_full_port_range, is_unrestricted_address, parse_network


def expand_addresses(estate: Estate, addresses: tuple[str, ...], ip_groups: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """Literal addresses plus the contents of referenced IP groups, and the groups we could not read."""
    expanded = list(addresses)
    missing = []
    for group_id in ip_groups:
        group = estate.ip_groups.get(group_id.strip().lower())
        if group is None:
            missing.append(estate.gap(group_id))
        else:
            expanded.extend(group.addresses)
    return tuple(expanded), missing


def reaches_everywhere(addresses: tuple[str, ...]) -> bool:
    for address in addresses:
        if is_unrestricted_address(address):
            return True
        network = parse_network(address)
        if network is not None and network.prefixlen == 0:
            return True
    return False


def all_ports(rule: FirewallRule) -> bool:
    return any(is_full_port_range(port) for port in rule.destination_ports)


def networks_of(addresses: tuple[str, ...]) -> tuple[bool, tuple]:
    """(matches every address, the CIDRs among them); service tags and FQDNs match no subnet."""
    return _networks_of(tuple(addresses))


@lru_cache(maxsize=4096)
def _networks_of(addresses: tuple[str, ...]) -> tuple[bool, tuple]:
    # Cached: one rule's sources are matched against every cluster subnet behind its firewall.
    if reaches_everywhere(addresses):
        return True, ()
    return False, tuple(n for n in (parse_network(a) for a in addresses) if n is not None)


def uncovered(targets, addresses: tuple[str, ...]) -> list:
    """The parts of `targets` (networks) that `addresses` do not contain; [] when fully covered.

    A union counts: `10.0.0.0/23` + `10.0.2.0/23` cover `10.0.0.0/22`.
    """
    everything, networks = networks_of(addresses)
    if everything:
        return []
    remaining = list(targets)
    for network in networks:
        left = []
        for part in remaining:
            if part.version != network.version or not part.overlaps(network):
                left.append(part)
            elif not part.subnet_of(network):
                left.extend(part.address_exclude(network))
        remaining = left
    return remaining


def overlaps_any(targets, addresses: tuple[str, ...]) -> bool:
    """Whether `addresses` include any part of `targets` (networks)."""
    everything, networks = networks_of(addresses)
    return everything or any(t.version == n.version and t.overlaps(n) for t in targets for n in networks)


def port_allowed(rule: FirewallRule, port: int) -> bool:
    """Whether a network rule's destination ports include `port` (`*`, single ports, ranges)."""
    for value in rule.destination_ports:
        value = value.replace(" ", "")
        if value == "*":
            return True
        low, _, high = value.partition("-")
        try:
            if int(low) <= port <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def carries_tcp(rule: FirewallRule) -> bool:
    """Network rule protocols TCP or Any (no protocol listed is read as any)."""
    return not rule.protocols or any(p.strip().lower() in ("tcp", "any") for p in rule.protocols)
