"""Next hop IP is not a reachable firewall.

**What it checks**
A `VirtualAppliance` route that decides Internet-bound traffic for an AKS subnet must name the
private IP of an Azure Firewall in the subnet's own VNet, in a VNet peered to it (a hub in
another subscription counts), the firewall of a Virtual WAN secured hub the VNet is connected to
(`hubIPAddresses.privateIPAddress`), or an appliance IP approved in configuration
(`approved_appliances`). Private IPs repeat across isolated VNets and across virtual hubs, so
the IP is looked up only where the subnet can reach, never estate-wide.

**Why it matters**
A stale IP after a firewall redeploy, a typo, or an IP of some other VM either blackholes the
cluster's egress (upgrades and image pulls fail) or sends it through a box that does not filter.

**How to fix**
Update the route's next hop to the firewall's current private IP (`az network firewall show
--query "ipConfigurations[0].privateIPAddress"`), or approve the appliance in configuration if
it is a sanctioned network virtual appliance.
"""
from dataclasses import dataclass

from aksaudit.api import (
    T_CLUSTER, T_FIREWALL, T_PUBLIC_IP, T_ROUTE_TABLE, T_VNET, UNKNOWN, UNRESOLVED, RouteEvidence, CheckMeta, FixKind, Severity, fail, passed, skipped,
)
from aksaudit.checks.evidence import judge_hops, route_evidence, unpeered_firewall_vnets

@dataclass(frozen=True, kw_only=True)
class FixEvidence(RouteEvidence):
    """What the fix reads beyond the shared evidence."""

    unpeered_firewall: str | None = None  # the IP is this firewall's, in a VNet not peered with the subnet's


META = CheckMeta(
    id="UDR004",
    slug="next-hop-not-firewall",
    title="Next hop IP is not a reachable firewall",
    severity=Severity.HIGH,
    fix=FixKind.SAFE,
    evidence=FixEvidence,
    # public IPs: a next hop that is a firewall's public IP is UDR005's finding, not this one's
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_PUBLIC_IP),
    references=("https://learn.microsoft.com/azure/aks/limit-egress-traffic",
                "https://learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview"),
    tags=("egress", "routing", "firewall"),
    options={"approved_appliances": ()},
)


def evaluate(estate, options):
    approved = {str(ip).strip() for ip in options.get("approved_appliances", ())}

    def judge(path, hop):
        next_hop = hop.next_hop
        if next_hop is None:
            return None  # not an appliance route: UDR003's business
        if next_hop.kind == UNRESOLVED and next_hop.ip not in approved:
            return skipped(hop.route.id, f"cannot tell what {next_hop.ip} is: {next_hop.reason}")
        if next_hop.kind == UNKNOWN and next_hop.ip not in approved:
            reason = f" ({next_hop.reason})" if next_hop.reason else ""
            evidence = route_evidence(estate, path, hop.route)
            # The IP may be a firewall's in a VNet that is not peered (UDR007): then the route is
            # right and the peering is what a fix must create.
            unpeered = unpeered_firewall_vnets(estate, path.vnet, next_hop.ip) if path.vnet else {}
            if len(unpeered) == 1:
                (firewall, *_), = unpeered.values()
                evidence["unpeered_firewall"] = firewall.id
            return fail(hop.route.id,
                        f"Route '{hop.route.name}' sends AKS subnet '{path.subnet.name}' Internet traffic to "
                        f"{next_hop.ip or '(no IP)'}, which is not the private IP of any firewall reachable from "
                        f"its VNet{reason}.", evidence=evidence)
        return passed(hop.route.id)

    return judge_hops(estate, judge)
