"""Firewall VNet is not reachable over a connected peering.

**What it checks**
When the route that decides an AKS subnet's Internet traffic targets a firewall in another VNet,
the subnet's VNet must have a peering to that VNet in state `Connected`. Reported on the peering
when one exists but is `Initiated` or `Disconnected`; on the subnet's VNet when there is none,
that is when the next hop IP belongs to exactly one firewall in the estate, in a VNet whose
address space does not overlap the cluster's (an overlapping VNet cannot be peered and is an
isolated twin, not the intended hub).

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
from aksaudit.api import (
    FIREWALL, T_CLUSTER, T_FIREWALL, T_ROUTE_TABLE, T_VNET, UNKNOWN, CheckMeta, Estate, Firewall, Severity,
    VirtualNetwork, fail, passed,
)
from aksaudit.checks.evidence import path_gap, route_evidence

META = CheckMeta(
    id="UDR007",
    slug="firewall-vnet-not-peered",
    title="Firewall VNet is not reachable over a connected peering",
    severity=Severity.HIGH,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL),
    references=("https://learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview",
                "https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview"),
    tags=("egress", "routing", "hub-spoke"),
)


def _firewall_vnet_id(firewall: Firewall) -> str:
    subnets = [c.subnet_id for c in firewall.ip_configs if c.subnet_id and not c.management]
    return subnets[0].rsplit("/subnets/", 1)[0] if subnets else ""


def _unpeered_firewall_vnets(estate: Estate, vnet: VirtualNetwork, ip: str) -> dict[str, list[Firewall]]:
    """VNets (lower-cased id -> firewalls) other than `vnet` holding a firewall with this private IP
    that `vnet` could be peered to (address spaces do not overlap)."""
    found: dict[str, list] = {}
    for firewall in estate.firewalls_with_private_ip(ip):
        remote_id = _firewall_vnet_id(firewall)
        if not remote_id or remote_id.lower() == vnet.id.lower():
            continue
        remote = estate.vnet(remote_id)
        if remote and any(a.version == b.version and a.overlaps(b)
                          for a in remote.address_prefixes for b in vnet.address_prefixes):
            continue
        found.setdefault(remote_id.lower(), []).append(firewall)
    return found


def evaluate(estate, options):
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
            evidence = route_evidence(estate, path, hop.route)
            if next_hop.kind == FIREWALL and next_hop.peering is not None and not next_hop.peering.connected:
                peering = next_hop.peering
                evidence.update({"peering": peering.id, "peering_state": peering.state,
                                 "remote_vnet": peering.remote_vnet_id, "firewall": next_hop.firewall.id})
                yield fail(peering.id,
                           f"Peering '{peering.name}' from VNet '{path.vnet.header.name}' to the firewall's VNet is "
                           f"'{peering.state}', not Connected: AKS subnet '{path.subnet.name}' cannot reach firewall "
                           f"'{next_hop.firewall.header.name}' ({next_hop.ip}).", evidence=evidence)
                continue
            candidates = _unpeered_firewall_vnets(estate, path.vnet, next_hop.ip) if next_hop.kind == UNKNOWN else {}
            if len(candidates) == 1:
                (firewall, *_), = candidates.values()
                remote_id = _firewall_vnet_id(firewall)
                remote = estate.vnet(remote_id)
                back = [p.id for p in (remote.peerings if remote else ()) if p.remote_vnet_id.lower() == path.vnet.id.lower()]
                evidence.update({"firewall": firewall.id, "firewall_vnet": remote_id, "remote_peerings_to_us": back})
                yield fail(path.vnet.id,
                           f"Route '{hop.route.name}' sends AKS subnet '{path.subnet.name}' Internet traffic to "
                           f"{next_hop.ip}, firewall '{firewall.header.name}' in VNet '{remote_id.rsplit('/', 1)[-1]}', "
                           f"but VNet '{path.vnet.header.name}' has no peering to that VNet.", evidence=evidence)
            else:
                yield passed(path.vnet.id)
