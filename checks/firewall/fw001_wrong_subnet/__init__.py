"""Azure Firewall outside AzureFirewallSubnet.

**What it checks**
Every IP configuration of an Azure Firewall must sit in a subnet named exactly
`AzureFirewallSubnet` (compared case-insensitively); the management IP configuration must sit
in `AzureFirewallManagementSubnet`. Secured-hub firewalls (no IP configurations) pass. A firewall
whose IP configurations, or the subnet or private IP of its first one, could not be read is
`skipped`.

**Why it matters**
Azure Firewall only deploys into the dedicated subnet; a firewall recorded against any other
subnet (a hand-edited template, an import from another tool, a tutorial that names it
`fw-subnet`) means the firewall the routes point at is not the one people think, or the
deployment that was meant to filter never really happened.

**How to fix**
A firewall cannot be moved between subnets. Create an `AzureFirewallSubnet` (at least /26) in
the VNet, redeploy the firewall into it, then update every route's next hop to the new private
IP.
"""
from dataclasses import dataclass

from aksaudit.api import T_CLUSTER, T_FIREWALL, T_VNET, CheckMeta, FixKind, Severity, fail, parse_network, passed, ArmId, skipped

@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    vnet: str
    vnet_readable: bool
    vnet_address_prefixes: tuple[str, ...]
    vnet_subnet_names: tuple[str, ...]
    firewall_subnet_exists: bool
    proposed_subnet_prefix: str | None


META = CheckMeta(
    id="FW001",
    slug="firewall-not-in-azurefirewallsubnet",
    title="Azure Firewall is not in AzureFirewallSubnet",
    severity=Severity.HIGH,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    # The VNet and the clusters in it: where a dedicated subnet fits without colliding with a
    # subnet or a cluster's service or pod range, for the fix.
    requires=(T_FIREWALL, T_VNET, T_CLUSTER),
    references=("https://learn.microsoft.com/azure/firewall/firewall-faq",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("firewall",),
)

EXPECTED = {False: "AzureFirewallSubnet", True: "AzureFirewallManagementSubnet"}
FIREWALL_SUBNET_PREFIXLEN = 26  # "Azure Firewall doesn't need a subnet bigger than /26"


def clusters_by_subnet(estate) -> dict[str, list]:
    """Clusters per lower-cased subnet id they use, found once per scan rather than once per firewall."""
    found: dict[str, list] = {}
    for cluster in estate.clusters.values():
        for subnet_id in cluster.subnet_ids():
            found.setdefault(subnet_id.lower(), []).append(cluster)
    return found


def free_prefix(estate, vnet, by_subnet: dict[str, list] | None = None) -> str:
    """The first /26 of the VNet's address space that no subnet and no cluster range uses.

    A remediation script creates AzureFirewallSubnet there. Cluster service and pod CIDRs are
    avoided too: a service CIDR inside the VNet (the tutorial's mistake) has no subnet of its
    own, so a subnet placed on it would collide with ClusterIPs. '' when nothing is free.
    """
    taken = [n for subnet in vnet.subnets for n in subnet.prefixes]
    vnet_subnets = {subnet.id.lower() for subnet in vnet.subnets}
    by_subnet = clusters_by_subnet(estate) if by_subnet is None else by_subnet
    users = {id(c): c for subnet_id in vnet_subnets for c in by_subnet.get(subnet_id, ())}
    for cluster in users.values():
        taken.extend(n for n in map(parse_network, (*cluster.service_cidrs, *cluster.pod_cidrs)) if n is not None)
    for space in vnet.address_prefixes:
        if space.version != 4 or space.prefixlen > FIREWALL_SUBNET_PREFIXLEN:
            continue
        for candidate in space.subnets(new_prefix=FIREWALL_SUBNET_PREFIXLEN):
            if not any(candidate.version == other.version and candidate.overlaps(other) for other in taken):
                return str(candidate)
    return ""


def placement_evidence(estate, vnet_id: str, by_subnet: dict[str, list] | None = None) -> dict:
    """What a fix needs to add AzureFirewallSubnet to the VNet, as the scan saw it."""
    vnet = estate.vnet(vnet_id)
    if vnet is None:
        return {"vnet_readable": False}
    names = sorted(subnet.name for subnet in vnet.subnets)
    return {
        "vnet_readable": True,
        "vnet_address_prefixes": sorted(str(n) for n in vnet.address_prefixes),
        "vnet_subnet_names": names,
        "firewall_subnet_exists": any(n.lower() == EXPECTED[False].lower() for n in names),
        "proposed_subnet_prefix": free_prefix(estate, vnet, by_subnet),
    }


def evaluate(estate, options):
    by_subnet = None  # built on the first misplaced firewall, then shared by all of them
    for firewall in estate.firewalls.values():
        wrong = [c for c in firewall.ip_configs
                 if c.subnet_id and ArmId.parse(c.subnet_id).name.lower() != EXPECTED[c.management].lower()]
        if not wrong and firewall.addresses_unread:  # an IP configuration not read may be misplaced
            yield skipped(firewall.id, firewall.addresses_unread)
            continue
        if not wrong:
            yield passed(firewall.id)
            continue
        names = ", ".join(f"'{c.name}' in '{ArmId.parse(c.subnet_id).name}'" for c in wrong)
        subnet = ArmId.parse(wrong[0].subnet_id)
        vnet_id = str(subnet.parent or subnet)
        by_subnet = clusters_by_subnet(estate) if by_subnet is None else by_subnet
        yield fail(firewall.id,
                   f"Firewall '{firewall.header.name}' has IP configuration(s) outside the dedicated subnet: {names} "
                   "(Azure Firewall requires AzureFirewallSubnet).",
                   evidence={
                       "ip_configurations": [{"name": c.name, "subnet": c.subnet_id, "private_ip": c.private_ip,
                                              "management": c.management, "expected_subnet": EXPECTED[c.management]}
                                             for c in wrong],
                       "vnet": vnet_id,
                       "resource_group": firewall.header.resource_group,
                       "location": firewall.header.location,
                       **placement_evidence(estate, vnet_id, by_subnet),
                   })
