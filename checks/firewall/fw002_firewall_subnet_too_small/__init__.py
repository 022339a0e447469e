"""AzureFirewallSubnet smaller than /26.

**What it checks**
Every subnet named `AzureFirewallSubnet` or `AzureFirewallManagementSubnet` (compared
case-insensitively) must have an IPv4 prefix of at least /26 (64 addresses). A subnet whose
prefixes could not be read, and a VNet whose subnet list was not read whole (one of the missing
subnets may be the firewall's), are `skipped`, naming the datum.

**Why it matters**
Azure Firewall adds instances as it scales out, each taking an address from the subnet; the
documented size is /26, and the management subnet needs the same. In a smaller subnet the
firewall cannot scale (or cannot be deployed at all), so under load egress is dropped or the
deployment that was meant to filter the cluster's traffic fails.

**How to fix**
A subnet holding a firewall cannot be resized in place. Delete the firewall (keep its policy
and public IPs), resize the subnet to /26 (`az network vnet subnet update --address-prefixes
<x.y.z.0/26>`), redeploy the firewall and update the routes' next hop to its new private IP.
"""
from dataclasses import dataclass

from aksaudit.api import T_VNET, CheckMeta, FixKind, Severity, fail, passed, skipped

@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    vnet: str
    subnet_name: str
    prefixes: tuple[str, ...]
    required_prefix_length: int
    vnet_address_space: tuple[str, ...]


META = CheckMeta(
    id="FW002",
    slug="firewall-subnet-too-small",
    title="AzureFirewallSubnet is smaller than /26",
    severity=Severity.MEDIUM,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    requires=(T_VNET,),
    references=("https://learn.microsoft.com/azure/firewall/firewall-faq",
                "https://learn.microsoft.com/azure/firewall/management-nic"),
    tags=("firewall", "addressing"),
)

FIREWALL_SUBNETS = ("azurefirewallsubnet", "azurefirewallmanagementsubnet")
MIN_PREFIX = 26


def evaluate(estate, options):
    for vnet in estate.vnets.values():
        if vnet.subnets_unread:  # a subnet not read may be a firewall subnet
            yield skipped(vnet.id, vnet.subnets_unread)
        for subnet in vnet.subnets:
            if subnet.name.lower() not in FIREWALL_SUBNETS:
                continue
            if subnet.unread:
                yield skipped(subnet.id, subnet.unread)
                continue
            v4 = [p for p in subnet.prefixes if p.version == 4]
            if not v4 or min(p.prefixlen for p in v4) <= MIN_PREFIX:
                yield passed(subnet.id)
                continue
            prefixes = [str(p) for p in v4]
            yield fail(subnet.id,
                       f"Subnet '{subnet.name}' in VNet '{vnet.header.name}' is {', '.join(prefixes)}: Azure "
                       f"Firewall needs a /{MIN_PREFIX} to scale out.",
                       evidence={"subnet": subnet.id, "subnet_name": subnet.name, "prefixes": prefixes,
                                 "required_prefix_length": MIN_PREFIX, "vnet": vnet.id,
                                 "vnet_address_space": [str(p) for p in vnet.address_prefixes]})
