"""Known fail-closed gaps in code the monotonic test does not fix: (check id, "<row type>:<field path>").

Each entry is a single deletion or nulling that today turns a `fail` or `skipped` outcome of that check into
`pass`, or makes it disappear without a `skipped` naming the datum. They sit in rule evaluation, routing and
the firewall and routing checks; whoever fixes one deletes its entries (the test then holds them to the
property). Nothing may be added here for the cluster checks or the cluster, VNet, subnet, public IP and load
balancer parsers: those are fixed instead.
"""
from __future__ import annotations

KNOWN_GAPS: dict[str, frozenset[str]] = {
    # firewall owner (checks/cluster/aks003): a cluster whose egress path lost its firewall, route table,
    # subnet or pools gets no outcome instead of skipped; an unreadable rule collection, rule field, IP group
    # or outbound-endpoint row lets it pass
    "AKS003": frozenset({
        "microsoft.network/virtualnetworks:properties.subnets[].properties.addressPrefixes[]",
        "microsoft.network/virtualnetworks:properties.subnets[].properties.addressPrefixes",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:<row>",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:id",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:properties",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:properties.endpoints",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:properties.endpoints[]",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:properties.endpoints[].domainName",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:properties.endpoints[].endpointDetails",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:properties.endpoints[].endpointDetails[]",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:properties.endpoints[].endpointDetails[].port",
        "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints:type",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[]",
        "microsoft.network/azurefirewalls:<row>",
        "microsoft.network/azurefirewalls:id",
        "microsoft.network/azurefirewalls:properties",
        "microsoft.network/azurefirewalls:properties.ipConfigurations",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[]",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.privateIPAddress",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.subnet",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.subnet.id",
        "microsoft.network/azurefirewalls:type",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[]",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].action",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].action.type",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].priority",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[]",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].destinationAddresses",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].destinationPorts",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].destinationPorts[]",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].ipProtocols[]",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].protocols",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].protocols[]",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].protocols[].protocolType",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].ruleType",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].sourceAddresses",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].sourceIpGroups",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].targetFqdns",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].targetFqdns[]",
        "microsoft.network/firewallpolicies:properties",
        "microsoft.network/firewallpolicies:properties.basePolicy",
        "microsoft.network/firewallpolicies:properties.basePolicy.id",
        "microsoft.network/firewallpolicies:properties.ruleCollectionGroups",
        "microsoft.network/routetables:<row>",
        "microsoft.network/routetables:id",
        "microsoft.network/routetables:properties",
        "microsoft.network/routetables:properties.routes",
        "microsoft.network/routetables:type",
        "microsoft.network/virtualnetworks:<row>",
        "microsoft.network/virtualnetworks:id",
        "microsoft.network/virtualnetworks:properties",
        "microsoft.network/virtualnetworks:properties.subnets",
        "microsoft.network/virtualnetworks:properties.subnets[]",
        "microsoft.network/virtualnetworks:properties.subnets[].properties",
        "microsoft.network/virtualnetworks:properties.subnets[].properties.addressPrefix",
        "microsoft.network/virtualnetworks:properties.subnets[].properties.routeTable.id",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[]",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[].properties",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[].properties.remoteAddressSpace.addressPrefixes[]",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[].properties.remoteVirtualNetwork",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[].properties.remoteVirtualNetwork.id",
        "microsoft.network/virtualnetworks:type",
    }),
    # routing owner (auditor/egress.py, route and Virtual WAN parsers): a route without properties, a deleted
    # hub connection or routing intent reads as "no route to an appliance", so the load balancers get no
    # outcome instead of skipped
    "AKS006": frozenset({
        "microsoft.network/routetables:properties",
        "microsoft.network/routetables:properties.routes",
        "microsoft.network/virtualhubs/hubvirtualnetworkconnections:<row>",
        "microsoft.network/virtualhubs/hubvirtualnetworkconnections:id",
        "microsoft.network/virtualhubs/hubvirtualnetworkconnections:properties",
        "microsoft.network/virtualhubs/hubvirtualnetworkconnections:properties.remoteVirtualNetwork",
        "microsoft.network/virtualhubs/hubvirtualnetworkconnections:properties.remoteVirtualNetwork.id",
        "microsoft.network/virtualhubs/hubvirtualnetworkconnections:type",
    }),
    # firewall owner: a firewall ipConfiguration without its subnet reads as no subnet, so FW001 passes
    "FW001": frozenset({
        "microsoft.network/azurefirewalls:properties",
        "microsoft.network/azurefirewalls:properties.ipConfigurations",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[]",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.subnet",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.subnet.id",
    }),
    # firewall owner: FW002 does not consult the VNet gaps (subnet list or a subnet prefix not read) and
    # passes or says nothing
    "FW002": frozenset({
        "microsoft.network/virtualnetworks:properties.subnets",
        "microsoft.network/virtualnetworks:properties.subnets[]",
        "microsoft.network/virtualnetworks:properties.subnets[].properties",
        "microsoft.network/virtualnetworks:properties.subnets[].properties.addressPrefix",
    }),
    # firewall owner (firewall_rules.py, rulesets.py, IP groups): unreadable rules, collections and IP groups
    # read as empty
    "FW003": frozenset({
        "microsoft.network/azurefirewalls:properties",
        "microsoft.network/azurefirewalls:properties.networkRuleCollections",
        "microsoft.network/azurefirewalls:properties.networkRuleCollections[]",
        "microsoft.network/azurefirewalls:properties.networkRuleCollections[].name",
        "microsoft.network/azurefirewalls:properties.networkRuleCollections[].properties",
        "microsoft.network/azurefirewalls:properties.networkRuleCollections[].properties.action",
        "microsoft.network/azurefirewalls:properties.networkRuleCollections[].properties.action.type",
        "microsoft.network/azurefirewalls:properties.networkRuleCollections[].properties.rules",
        "microsoft.network/azurefirewalls:properties.networkRuleCollections[].properties.rules[].name",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[]",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].action",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].action.type",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].name",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].name",
    }),
    # firewall owner (firewall_rules.py, rulesets.py): unreadable rules and collections read as empty
    "FW004": frozenset({
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[]",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].action",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].action.type",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].name",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[]",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].name",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].ruleType",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].targetFqdns",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].targetFqdns[]",
    }),
    # firewall owner (checks/firewall/fw005, scope.py): unreadable rules/IP groups read as empty; a cluster
    # whose pools are unread, a deleted cluster row or peering removes the AKS sources and FW005 passes
    "FW005": frozenset({
        "microsoft.containerservice/managedclusters:<row>",
        "microsoft.containerservice/managedclusters:id",
        "microsoft.containerservice/managedclusters:properties",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[]",
        "microsoft.containerservice/managedclusters:type",
        "microsoft.network/azurefirewalls:<row>",
        "microsoft.network/azurefirewalls:id",
        "microsoft.network/azurefirewalls:properties",
        "microsoft.network/azurefirewalls:properties.firewallPolicy",
        "microsoft.network/azurefirewalls:properties.firewallPolicy.id",
        "microsoft.network/azurefirewalls:properties.ipConfigurations",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[]",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.privateIPAddress",
        "microsoft.network/azurefirewalls:type",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[]",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].action",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].action.type",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].name",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules",
        "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].name",
        "microsoft.network/firewallpolicies:properties",
        "microsoft.network/firewallpolicies:properties.ruleCollectionGroups",
        "microsoft.network/routetables:properties",
        "microsoft.network/routetables:properties.routes",
        "microsoft.network/virtualnetworks:properties.subnets[].properties.routeTable",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings",
    }),
    # firewall owner: a missing threatIntelMode (firewall or policy) passes
    "FW006": frozenset({
        "microsoft.network/azurefirewalls:properties",
        "microsoft.network/azurefirewalls:properties.threatIntelMode",
        "microsoft.network/firewallpolicies:<row>",
        "microsoft.network/firewallpolicies:id",
        "microsoft.network/firewallpolicies:properties",
        "microsoft.network/firewallpolicies:properties.basePolicy",
        "microsoft.network/firewallpolicies:properties.basePolicy.id",
        "microsoft.network/firewallpolicies:properties.threatIntelMode",
        "microsoft.network/firewallpolicies:type",
    }),
    # routing owner (auditor/egress.py): a cluster whose pools are unread gets no egress path, so no outcome
    # (it should be skipped naming cluster.pools_unread)
    "UDR001": frozenset({
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[]",
    }),
    # routing owner (auditor/egress.py, hub connection parser): pools unread (no path), hub connection fields
    # read as defaults
    "UDR002": frozenset({
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[]",
        "microsoft.network/virtualhubs/hubvirtualnetworkconnections:properties.enableInternetSecurity",
    }),
    # routing owner (auditor/egress.py, route parser): pools unread (no path), routes without
    # properties/prefix/next hop read as empty
    "UDR003": frozenset({
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[]",
        "microsoft.network/routetables:properties",
        "microsoft.network/routetables:properties.routes",
    }),
    # routing owner (auditor/egress.py, route parser): as UDR003
    "UDR004": frozenset({
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[]",
        "microsoft.network/routetables:properties",
        "microsoft.network/routetables:properties.routes",
    }),
    # routing owner (auditor/egress.py): as UDR003, and a firewall public IP whose row or ipAddress is unread
    # resolves to "unknown" instead of a gap (PublicIp.unread is available)
    "UDR005": frozenset({
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[]",
        "microsoft.network/azurefirewalls:<row>",
        "microsoft.network/azurefirewalls:id",
        "microsoft.network/azurefirewalls:properties",
        "microsoft.network/azurefirewalls:properties.ipConfigurations",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[]",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.publicIPAddress",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.publicIPAddress.id",
        "microsoft.network/azurefirewalls:type",
        "microsoft.network/publicipaddresses:<row>",
        "microsoft.network/publicipaddresses:id",
        "microsoft.network/publicipaddresses:properties",
        "microsoft.network/publicipaddresses:properties.ipAddress",
        "microsoft.network/publicipaddresses:type",
        "microsoft.network/routetables:properties",
        "microsoft.network/routetables:properties.routes",
    }),
    # routing owner (auditor/egress.py, route parser): as UDR003
    "UDR006": frozenset({
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[]",
        "microsoft.network/routetables:properties",
        "microsoft.network/routetables:properties.routes",
    }),
    # routing owner (auditor/egress.py, peering parser): pools unread (no path), peerings and firewall
    # ipConfigurations read as empty
    "UDR007": frozenset({
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles",
        "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[]",
        "microsoft.network/azurefirewalls:<row>",
        "microsoft.network/azurefirewalls:id",
        "microsoft.network/azurefirewalls:properties",
        "microsoft.network/azurefirewalls:properties.ipConfigurations",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[]",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.privateIPAddress",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.subnet",
        "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.subnet.id",
        "microsoft.network/azurefirewalls:type",
        "microsoft.network/routetables:properties",
        "microsoft.network/routetables:properties.routes",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[]",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[].properties",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[].properties.remoteVirtualNetwork",
        "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[].properties.remoteVirtualNetwork.id",
    }),
}

# FW007 walks application rules exactly as FW004 does (allow_rules): the same unreadable collection fields.
KNOWN_GAPS["FW007"] = KNOWN_GAPS["FW004"] | {
    "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].targetUrls",
    "microsoft.network/firewallpolicies/rulecollectiongroups:properties.ruleCollections[].rules[].targetUrls[]",
}
# routing owner: UDR008 reads a table without routes as routing nothing; FW006 reads a missing policy reference
# as a classic firewall
KNOWN_GAPS["UDR008"] = frozenset({"microsoft.network/routetables:properties", "microsoft.network/routetables:properties.routes"})
KNOWN_GAPS["FW006"] = KNOWN_GAPS.get("FW006", frozenset()) | {
    "microsoft.network/azurefirewalls:properties.firewallPolicy",
    "microsoft.network/azurefirewalls:properties.firewallPolicy.id",
}


def known_gap(check_id: str, field: str) -> bool:
    return field in KNOWN_GAPS.get(check_id, frozenset())
