"""Route table does not steer Internet-bound traffic.

**What it checks**
The route table of every AKS subnet must cover the whole public IPv4 space with its own
routes: a `0.0.0.0/0` route, or more specific routes that together cover it (for example
`0.0.0.0/1` + `128.0.0.0/1`). Any public destination left to Azure's system routes fails,
unless the VNet is connected to a Virtual WAN secured hub that steers `Internet` traffic to the
hub firewall (routing intent, or a static `0.0.0.0/0` to the firewall in the hub route table
associated with the connection) and the table keeps gateway route propagation on (the hub's
route applies). If a virtual hub's routing could not be read, such a table is `skipped` (the hub
may steer it), unless it turns gateway route propagation off. A route of the table without
`addressPrefix`, without a known `nextHopType`, or (to an appliance) without a valid
`nextHopIpAddress` makes the verdict `skipped`, naming the route: it could decide anything.

**Why it matters**
Azure's system route for `0.0.0.0/0` sends traffic to the Internet. A route table that is empty,
or that holds only private prefixes, is associated but does nothing for egress: the cluster
still reaches the Internet directly, while the association makes it look controlled.

**How to fix**
Add `az network route-table route create --address-prefix 0.0.0.0/0 --next-hop-type
VirtualAppliance --next-hop-ip-address <firewall private IP>` to the route table.
"""
from dataclasses import dataclass

from aksaudit.api import T_CLUSTER, T_FIREWALL, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_VNET, PathEvidence, CheckMeta, FixKind, Severity, fail, passed, skipped
from aksaudit.checks.evidence import path_evidence, path_gap, shared_outcomes, unread_pools

@dataclass(frozen=True, kw_only=True)
class FixEvidence(PathEvidence):
    """What the fix reads: the PathEvidence alone."""


META = CheckMeta(
    id="UDR002",
    slug="route-table-without-default-route",
    title="Route table does not steer Internet-bound traffic",
    severity=Severity.HIGH,
    fix=FixKind.SAFE,
    evidence=FixEvidence,
    # the evidence names the firewalls the fix can point the route at
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_VIRTUAL_HUB, T_FIREWALL),
    references=("https://learn.microsoft.com/azure/aks/egress-outboundtype",
                "https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview"),
    tags=("egress", "routing"),
)


def evaluate(estate, options):
    return shared_outcomes(_outcomes(estate))


def _outcomes(estate):
    yield from unread_pools(estate)
    for path in estate.egress_paths:
        gap = path_gap(path)
        if gap:
            yield gap
        elif path.route_table is None:
            continue  # no route table at all: UDR001's business
        elif path.hub_unknown:
            yield skipped(path.route_table.id, path.hub_unknown)
        elif path.decision.uncovered and not path.hub_steered:
            evidence = path_evidence(estate, path)
            evidence["routes"] = [f"{r.address_prefix} -> {r.next_hop_type} {r.next_hop_ip}".strip()
                                  for r in path.route_table.routes]
            yield fail(path.route_table.id,
                       f"Route table '{path.route_table.header.name}' on AKS subnet '{path.subnet.name}' has no "
                       "route covering Internet destinations (no 0.0.0.0/0 or covering set): they fall through "
                       "to the system route to the Internet.", evidence=evidence)
        else:
            yield passed(path.route_table.id)
