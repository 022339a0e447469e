"""The state `add_firewall_subnet` compares before it creates AzureFirewallSubnet: the VNet's
address space and subnet names."""
from __future__ import annotations

from typing import Sequence

from ...jmes import to_string


# A VNet's address space and subnet names, as `az network vnet show` prints it.
VNET_STATE = "to_string([sort(addressSpace.addressPrefixes || `[]`), sort(subnets[*].name || `[]`)])"


def vnet_state(address_prefixes: Sequence[str], subnet_names: Sequence[str]) -> str:
    """VNET_STATE of a VNet with this address space and these subnets."""
    return to_string([sorted(address_prefixes), sorted(subnet_names)])
