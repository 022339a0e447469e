"""What a firewall rule reaches: address and port predicates shared by the rule checks."""
from __future__ import annotations

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
