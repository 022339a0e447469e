"""The public addresses a firewall's outbound traffic leaves from, or why they are not known.

Whatever a firewall sends to the Internet carries one of its own public addresses as source
(SNAT), so anything that admits callers by address (an API server's authorized IP ranges, a
partner's allow list) sees those addresses, not the cluster's. Azure Firewall picks one of them
per connection, so a filter downstream must admit all of them to work every time.

* A firewall in a VNet SNATs to the public IPs of its IP configurations (`ipConfigurations[].
  properties.publicIPAddress`, resolved through the public IP resource); its management IP
  configuration carries forced-tunnelling and management traffic only, never cluster egress.
* A secured virtual hub's firewall has no IP configurations; its addresses are
  `hubIPAddresses.publicIPs.addresses[].address`.
* A NAT gateway on the firewall's subnet takes over: outbound traffic then leaves from the NAT
  gateway's addresses, which the estate does not hold.
* A firewall with no public IP on its data path is forced-tunnelled: its traffic leaves from
  wherever the next device sends it, which the estate does not show either.

What cannot be resolved is a reason, never a shorter list: a verdict over "the firewall's
addresses" must not pass on the ones it could not read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aksaudit.model.resources import IP_CONFIGURATIONS, Firewall

from .addresses import AddressSet, parse_address

if TYPE_CHECKING:
    from aksaudit.model.estate import Estate

HUB_PUBLIC_IPS = "properties.hubIPAddresses.publicIPs.addresses"


@dataclass(frozen=True)
class EgressAddresses:
    """A firewall's outbound public addresses: (address, the public IP resource or hub field) pairs,
    and why the list may be incomplete ('' when it is complete)."""

    firewall: Firewall
    addresses: tuple[tuple[str, str], ...]
    gap: str

    @property
    def address_set(self) -> AddressSet:
        found = [parse_address(address) for address, _ in self.addresses]
        return AddressSet().union(*(a for a in found if a is not None))


def _hub_addresses(firewall: Firewall) -> EgressAddresses:
    gaps = [firewall.unread("properties.hubIPAddresses")]
    gaps += [f"firewall {firewall.id}: '{ip}' in '{HUB_PUBLIC_IPS}' is not an address"
             for ip in firewall.hub_public_ips if parse_address(ip) is None]
    if not firewall.hub_public_ips:
        gaps.append(f"firewall {firewall.id}: '{HUB_PUBLIC_IPS}' is empty, so the addresses its traffic leaves "
                    "from are unknown")
    found = tuple((ip, HUB_PUBLIC_IPS) for ip in dict.fromkeys(firewall.hub_public_ips) if parse_address(ip) is not None)
    return EgressAddresses(firewall, found, "; ".join(gap for gap in gaps if gap))


def firewall_egress_addresses(estate: "Estate", firewall: Firewall) -> EgressAddresses:
    """The public addresses `firewall` SNATs outbound traffic to (see the module docstring)."""
    if firewall.virtual_hub_id:
        return _hub_addresses(firewall)
    gaps: list[str] = []
    unread = firewall.unread(IP_CONFIGURATIONS)
    if unread:
        gaps.append(unread)
    data = [c for c in firewall.ip_configs if not c.management]
    owner = _nat_gateway_gap(estate, firewall, data)
    if owner:  # the firewall's own addresses are not what the traffic leaves from, or may not be
        return EgressAddresses(firewall, (), "; ".join([*gaps, owner]))
    found: list[tuple[str, str]] = []
    for config in data:
        if not config.public_ip_id:
            continue
        public_ip = estate.public_ip(config.public_ip_id)
        if public_ip is None:
            gaps.append(f"public IP of firewall {firewall.id}: {estate.gap(config.public_ip_id)}")
        elif public_ip.unread:
            gaps.append(public_ip.unread)
        elif not public_ip.address:
            gaps.append(f"public IP {public_ip.id} of firewall {firewall.id} has no address allocated")
        elif parse_address(public_ip.address) is None:
            gaps.append(f"public IP {public_ip.id} of firewall {firewall.id}: '{public_ip.address}' is not an address")
        else:
            found.append((public_ip.address, public_ip.id))
    if not found and not gaps:
        gaps.append(f"firewall {firewall.id} has no public IP on its data path (forced tunnelling): the address "
                    "its traffic leaves from is decided beyond it")
    return EgressAddresses(firewall, tuple(dict.fromkeys(found)), "; ".join(dict.fromkeys(gaps)))


def _nat_gateway_gap(estate: "Estate", firewall: Firewall, data) -> str:
    """Why a NAT gateway on the firewall's subnet does, or may, take its outbound traffic ('' when none can)."""
    for config in data:
        if not config.subnet_id:
            continue
        subnet = estate.subnet(config.subnet_id)
        if subnet is None:
            return (f"subnet of firewall {firewall.id} (a NAT gateway there would own its egress): "
                    f"{estate.gap(config.subnet_id)}")
        if subnet.unread:
            return subnet.unread
        if subnet.nat_gateway_id:
            return (f"firewall {firewall.id} sends its outbound traffic through NAT gateway {subnet.nat_gateway_id}, "
                    "whose public addresses the scan does not read")
    return ""
