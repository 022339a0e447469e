"""Next hop is a firewall's public IP.

**What it checks**
A `VirtualAppliance` route that decides Internet-bound traffic for an AKS subnet must not name
one of a firewall's public IPs (its public IP address resources, or a secured hub's
`hubIPAddresses.publicIPs`). A public next hop IP is `skipped` while a firewall row, or a
public IP a firewall names, could not be read: it may be that firewall's.

**Why it matters**
Azure only forwards to an appliance's private IP; a public IP as next hop is a classic
copy-paste mistake (`az network firewall show` prints both). Traffic is dropped or leaves
without filtering, while the route table looks as if it points at the firewall.

**How to fix**
Use the firewall's private IP: `az network route-table route update --next-hop-ip-address
<firewall private IP>` (`ipConfigurations[0].privateIPAddress`).
"""
from dataclasses import dataclass

from aksaudit.api import (
    FIREWALL_PUBLIC_IP, T_CLUSTER, T_FIREWALL, T_PUBLIC_IP, T_ROUTE_TABLE, T_VNET, RouteEvidence, CheckMeta, FixKind, Severity, fail,
    passed,
    UNRESOLVED, skipped,
)
from aksaudit.checks.evidence import judge_hops, route_evidence

@dataclass(frozen=True, kw_only=True)
class FixEvidence(RouteEvidence):
    """What the fix reads beyond the shared evidence."""

    target_firewall_private_ips: tuple[str, ...]  # the private IPs of the firewall whose public IP was used


META = CheckMeta(
    id="UDR005",
    slug="next-hop-is-firewall-public-ip",
    title="Next hop is a firewall's public IP",
    severity=Severity.CRITICAL,
    fix=FixKind.SAFE,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_PUBLIC_IP),
    references=("https://learn.microsoft.com/azure/aks/limit-egress-traffic",),
    tags=("egress", "routing", "firewall"),
)


def evaluate(estate, options):
    def judge(path, hop):
        if hop.next_hop is None:
            return None
        if hop.next_hop.kind == UNRESOLVED:  # a firewall whose public IPs could not be read may own it
            return skipped(hop.route.id, f"cannot tell what {hop.next_hop.ip} is: {hop.next_hop.reason}")
        if hop.next_hop.kind != FIREWALL_PUBLIC_IP:
            return passed(hop.route.id)
        firewall = hop.next_hop.firewall
        evidence = route_evidence(estate, path, hop.route)
        evidence["firewall"] = firewall.id
        # The fix points the route at this same firewall's private IP when it is reachable.
        evidence["target_firewall_private_ips"] = list(firewall.private_ips)
        return fail(hop.route.id,
                    f"Route '{hop.route.name}' sends AKS subnet '{path.subnet.name}' Internet traffic to "
                    f"{hop.next_hop.ip}, the PUBLIC IP of firewall '{firewall.header.name}'; "
                    "a next hop must be the firewall's private IP.", evidence=evidence)

    return judge_hops(estate, judge)
