"""Internet-bound route does not go to a virtual appliance.

**What it checks**
The routes that decide Internet-bound traffic for an AKS subnet (longest-prefix match over the
public address space, so an override pair such as `0.0.0.0/1` + `128.0.0.0/1` counts) must
have next hop type `VirtualAppliance`. A table holding a route that cannot be read whole (no
prefix, no or an unknown next hop type, an appliance route without a valid IP) is `skipped`,
naming that route.

**Why it matters**
A deciding route with next hop `Internet` sends traffic out directly; `None` blackholes it
(nodes cannot pull images or reach the control plane); `VnetLocal` or `VirtualNetworkGateway`
send it somewhere that does not filter Internet egress. Any of these defeats the firewall.

**How to fix**
Point the route at the firewall's private IP: `az network route-table route update
--next-hop-type VirtualAppliance --next-hop-ip-address <firewall private IP>`.
"""
from dataclasses import dataclass

from aksaudit.api import T_CLUSTER, T_FIREWALL, T_ROUTE_TABLE, T_VNET, RouteEvidence, CheckMeta, FixKind, Severity, fail, passed
from aksaudit.checks.evidence import judge_hops, route_evidence

@dataclass(frozen=True, kw_only=True)
class FixEvidence(RouteEvidence):
    """What the fix reads: the RouteEvidence alone."""


META = CheckMeta(
    id="UDR003",
    slug="internet-route-not-to-appliance",
    title="Internet-bound route does not go to a virtual appliance",
    severity=Severity.HIGH,
    fix=FixKind.SAFE,
    evidence=FixEvidence,
    # the evidence names the firewalls the fix can point the route at
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL),
    references=("https://learn.microsoft.com/azure/aks/egress-udr",
                "https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview"),
    tags=("egress", "routing"),
)


def evaluate(estate, options):
    def judge(path, hop):
        if hop.route.to_appliance:
            return passed(hop.route.id)
        return fail(hop.route.id,
                    f"Route '{hop.route.name}' ({hop.route.address_prefix}) decides Internet-bound traffic "
                    f"for AKS subnet '{path.subnet.name}' but its next hop is '{hop.route.next_hop_type}', "
                    "not a virtual appliance.", evidence=route_evidence(estate, path, hop.route))

    return judge_hops(estate, judge)
