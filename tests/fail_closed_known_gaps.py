"""Removals the monotonic test exempts, per check: (check id, "<row type>:<field path>").

Each entry is a single deletion that turns a `fail` or `skipped` outcome of that check into `pass`, or makes
it disappear, and is not a fail-closed gap: the estate left is complete and valid, and Azure's own semantics
give it the new verdict (a row that is simply not there, or a field whose absence Azure documents as a
meaning). A datum that is missing, null or of the wrong type is never listed here: it is a named gap and the
verdicts that need it say `skipped`. Each check's comment says why its entries are not violations.
"""
from __future__ import annotations

KNOWN_GAPS: dict[str, frozenset[str]] = {
    # Each entry is a different, complete estate whose verdict Azure's semantics change, not a datum read as empty:
    # - outboundNetworkDependenciesEndpoints <row>: the cluster's own dependency list is an optional live read; without
    #   it AKS003 judges the firewall against the documented list (an unreadable row is a gap: see requirements.py).
    # - azurefirewalls <row>: with the firewall gone the route's next hop is an IP nothing answers on, which UDR004
    #   fails; there is no firewall whose rules AKS003 could judge.
    # - firewallpolicies basePolicy: a policy without `basePolicy` inherits nothing (its rules alone apply).
    "AKS003": frozenset({
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:<row>",
        "microsoft.network/azurefirewalls:<row>",
        "microsoft.network/firewallpolicies:properties.basePolicy",
    }),
    # azurefirewalls <row>: with the firewall gone the route's next hop is an IP nothing answers on, which UDR004
    # fails; no firewall's addresses are left for the API server's ranges to leave out.
    "AKS007": frozenset({
        "microsoft.network/azurefirewalls:<row>",
    }),
    # hubVirtualNetworkConnections <row>: a VNet with no hub connection is not attached to the hub, so its Internet
    # egress is not steered to a firewall (UDR001/UDR002 judge that); an unreadable connection row is a gap.
    "AKS006": frozenset({
        "microsoft.network/virtualhubs/hubvirtualnetworkconnections:<row>",
    }),
    # - managedclusters <row>: without the cluster no AKS subnet sits behind the firewall (an unreadable row is a gap).
    # - azurefirewalls <row>: the next hop then answers nowhere (UDR004 fails it); no firewall applies the policy.
    # - azurefirewalls firewallPolicy: a firewall without `firewallPolicy` is a classic one; the policy applies nowhere.
    # - subnets[].routeTable: a subnet without a route table sends Internet traffic straight out (UDR001 fails it).
    "FW005": frozenset({
        "microsoft.containerservice/managedclusters:<row>",
        "microsoft.network/azurefirewalls:<row>",
        "microsoft.network/azurefirewalls:properties.firewallPolicy",
        "microsoft.network/virtualnetworks:properties.subnets[].properties.routeTable",
    }),
    # - azurefirewalls firewallPolicy: a firewall without `firewallPolicy` is a classic firewall, whose own
    #   `threatIntelMode` (read, and required) applies.
    # - firewallpolicies basePolicy: a policy without `basePolicy` inherits no mode.
    # - firewallpolicies threatIntelMode: an unset mode sets nothing (a child inherits its base's; a chain setting
    #   none has Azure's default, Alert), so the strictest mode the chain sets decides.
    "FW006": frozenset({
        "microsoft.network/azurefirewalls:properties.firewallPolicy",
        "microsoft.network/firewallpolicies:properties.basePolicy",
        "microsoft.network/firewallpolicies:properties.threatIntelMode",
    }),
    # - azurefirewalls <row>: the next hop is then a public IP no firewall owns, which UDR004 fails.
    # - ipConfigurations[].properties.publicIPAddress: an IP configuration without a public IP (forced tunnelling)
    #   owns none; a reference naming nothing (`publicIPAddress.id` missing) is a gap.
    # networkinterfaces/effectiveroutetable <row>: with the snapshot's only effective-route row gone and no record
    # of the lookups, the snapshot is one taken without --effective-routes, about which UDR009 has nothing to say
    # (with the record, or with other rows left, a subnet without its row is skipped).
    "UDR009": frozenset({
        "microsoft.network/networkinterfaces/effectiveroutetable:<row>",
    }),
    # virtualNetworkPeerings[].properties.useRemoteGateways: a peering without it does not use the remote VNet's
    # gateway (the API's default), so the VNet learns no routes through it (null is a gap: the VNet is not read).
    "UDR010": frozenset({
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[].properties.useRemoteGateways",
    }),
    "UDR005": frozenset({
        "microsoft.network/azurefirewalls:<row>",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.publicIPAddress",
    }),
    # azurefirewalls <row>: with the firewall gone the next hop is an IP nothing answers on, which UDR004 fails;
    # no firewall VNet is left to be unpeered.
    "UDR007": frozenset({
        "microsoft.network/azurefirewalls:<row>",
    }),
}


def known_gap(check_id: str, field: str) -> bool:
    return field in KNOWN_GAPS.get(check_id, frozenset())
