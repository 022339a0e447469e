"""Firewall VNet is not reachable over a connected peering.

**What it checks**
When the route that decides an AKS subnet's Internet traffic targets a firewall in another VNet,
the subnet's VNet must have a peering to that VNet that carries the subnet's traffic: `Connected`
on both sides (the firewall VNet's peering back included, when that VNet was read), and, for a
subnet peering (`peerCompleteVnets: false`), the AKS subnet among `localSubnetNames` and the
firewall's subnet among `remoteSubnetNames` (and the reverse on the other side). Reported on the
peering when one exists but does not carry the traffic; on the subnet's VNet when there is none,
that is when the next hop IP belongs to exactly one firewall in the estate, in a VNet whose
address space does not overlap the cluster's (an overlapping VNet cannot be peered and is an
isolated twin, not the intended hub). When a firewall's addresses or the VNet's peering list
could not be read, the next hop may be that firewall: the VNet and its peerings are `skipped`.

**Why it matters**
A UDR can name an appliance in another VNet only through a working peering. A peering that was
deleted and recreated on one side only (`Initiated`), or whose remote side was deleted
(`Disconnected`), blackholes the cluster's egress while every route still looks right: image
pulls, node bootstrapping and upgrades fail, and the usual "fix" is a route to the Internet.

**How to fix**
Create or re-create the peering on both sides (`az network vnet peering create` in the spoke and
in the hub, with `--allow-forwarded-traffic`), then check both sides show `Connected`
(`az network vnet peering list --query "[].peeringState"`).
"""
from dataclasses import dataclass

from aksaudit.api import (
    FIREWALL, T_CLUSTER, T_FIREWALL, T_ROUTE_TABLE, T_VNET, UNKNOWN, RouteEvidence, CheckMeta, FixKind, Estate, Severity,
    VirtualNetwork, fail, passed,
    T_PUBLIC_IP, UNRESOLVED, skipped,
)
from aksaudit.checks.evidence import firewall_vnet_id, path_gap, route_evidence, unpeered_firewall_vnets, unread_pools

@dataclass(frozen=True, kw_only=True)
class PeeringState:
    name: str
    state: str


@dataclass(frozen=True, kw_only=True)
class FixEvidence(RouteEvidence):
    """What the fix reads beyond the shared evidence."""

    firewall: str
    local_vnet: str
    remote_vnet: str
    remote_vnet_read: bool
    local_peering: PeeringState | None
    remote_peering: PeeringState | None
    local_peering_names: tuple[str, ...]
    remote_peering_names: tuple[str, ...]
    peering: str | None = None  # the peering that exists but does not carry the traffic
    peering_blocked: str | None = None


META = CheckMeta(
    id="UDR007",
    slug="firewall-vnet-not-peered",
    title="Firewall VNet is not reachable over a connected peering",
    severity=Severity.HIGH,
    fix=FixKind.DISRUPTIVE,
    evidence=FixEvidence,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_PUBLIC_IP),
    references=("https://learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview",
                "https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview"),
    tags=("egress", "routing", "hub-spoke"),
)


def _peering_evidence(estate: Estate, vnet: VirtualNetwork, remote_id: str) -> dict:
    """Both sides of the link between `vnet` and the firewall's VNet, as a fix needs them: which
    peering each side has towards the other (name and state, or None), and the names already in
    use on each side (a new peering must not take one: a create under an existing name would
    replace that peering). The remote side is None when its VNet was not readable."""
    remote = estate.vnet(remote_id)

    def towards(source: VirtualNetwork | None, target_id: str) -> dict | None:
        found = [p for p in (source.peerings if source else ()) if p.remote_vnet_id.lower() == target_id.lower()]
        return {"name": found[0].name, "state": found[0].state} if found else None

    return {"local_vnet": vnet.id, "remote_vnet": remote_id, "remote_vnet_read": remote is not None,
            "local_peering": towards(vnet, remote_id), "remote_peering": towards(remote, vnet.id),
            "local_peering_names": [p.name for p in vnet.peerings],
            "remote_peering_names": [p.name for p in remote.peerings] if remote else []}


def evaluate(estate, options):
    yield from unread_pools(estate)
    for path in estate.egress_paths:
        gap = path_gap(path)
        if gap:
            yield gap
            continue
        if path.vnet is None:
            continue
        for hop in path.hops:
            next_hop = hop.next_hop
            if next_hop is None:
                continue
            if next_hop.kind == FIREWALL and next_hop.peering is not None and next_hop.blocked:
                peering = next_hop.peering
                evidence = route_evidence(estate, path, hop.route)  # built for failures only: it is costly
                evidence.update({"peering": peering.id, "peering_state": peering.state,
                                 "peering_blocked": next_hop.blocked, "firewall": next_hop.firewall.id,
                                 **_peering_evidence(estate, path.vnet, peering.remote_vnet_id)})
                yield fail(peering.id,
                           f"The peering from VNet '{path.vnet.header.name}' to the firewall's VNet does not carry "
                           f"AKS subnet '{path.subnet.name}' to firewall '{next_hop.firewall.header.name}' "
                           f"({next_hop.ip}): {next_hop.blocked}.", evidence=evidence)
                continue
            if next_hop.kind == UNRESOLVED:  # a firewall that could not be read may be the one it names
                reason = f"cannot tell what {next_hop.ip} is: {next_hop.reason}"
                yield skipped(path.vnet.id, reason)
                for peering in path.vnet.peerings:  # nor whether a peering carries traffic to it
                    yield skipped(peering.id, reason)
                continue
            candidates = unpeered_firewall_vnets(estate, path.vnet, next_hop.ip) if next_hop.kind == UNKNOWN else {}
            if len(candidates) == 1:
                (firewall, *_), = candidates.values()
                remote_id = firewall_vnet_id(firewall)
                remote = estate.vnet(remote_id)
                back = [p.id for p in (remote.peerings if remote else ()) if p.remote_vnet_id.lower() == path.vnet.id.lower()]
                evidence = route_evidence(estate, path, hop.route)
                evidence.update({"firewall": firewall.id, "firewall_vnet": remote_id, "remote_peerings_to_us": back,
                                 **_peering_evidence(estate, path.vnet, remote_id)})
                yield fail(path.vnet.id,
                           f"Route '{hop.route.name}' sends AKS subnet '{path.subnet.name}' Internet traffic to "
                           f"{next_hop.ip}, firewall '{firewall.header.name}' in VNet '{remote_id.rsplit('/', 1)[-1]}', "
                           f"but VNet '{path.vnet.header.name}' has no peering to that VNet.", evidence=evidence)
            else:
                yield passed(path.vnet.id)
