"""Azure Firewall outside AzureFirewallSubnet.

**What it checks**
Every IP configuration of an Azure Firewall must sit in a subnet named exactly
`AzureFirewallSubnet` (compared case-insensitively); the management IP configuration must sit
in `AzureFirewallManagementSubnet`. Secured-hub firewalls (no IP configurations) pass.

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
from aksaudit.api import T_FIREWALL, CheckMeta, Severity, fail, passed

META = CheckMeta(
    id="FW001",
    slug="firewall-not-in-azurefirewallsubnet",
    title="Azure Firewall is not in AzureFirewallSubnet",
    severity=Severity.HIGH,
    requires=(T_FIREWALL,),
    references=("https://learn.microsoft.com/azure/firewall/firewall-faq",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("firewall",),
)

EXPECTED = {False: "AzureFirewallSubnet", True: "AzureFirewallManagementSubnet"}


def evaluate(estate, options):
    for firewall in estate.firewalls.values():
        wrong = [c for c in firewall.ip_configs
                 if c.subnet_id and c.subnet_id.rstrip("/").rsplit("/", 1)[-1].lower() != EXPECTED[c.management].lower()]
        if not wrong:
            yield passed(firewall.id)
            continue
        names = ", ".join(f"'{c.name}' in '{c.subnet_id.rsplit('/', 1)[-1]}'" for c in wrong)
        yield fail(firewall.id,
                   f"Firewall '{firewall.header.name}' has IP configuration(s) outside the dedicated subnet: {names} "
                   "(Azure Firewall requires AzureFirewallSubnet).",
                   evidence={
                       "ip_configurations": [{"name": c.name, "subnet": c.subnet_id, "private_ip": c.private_ip,
                                              "management": c.management, "expected_subnet": EXPECTED[c.management]}
                                             for c in wrong],
                       "vnet": wrong[0].subnet_id.rsplit("/subnets/", 1)[0],
                       "resource_group": firewall.header.resource_group,
                       "location": firewall.header.location,
                   })
