"""Network rule allows any destination on any port.

**What it checks**
An `Allow` network rule (classic `networkRuleCollections`, or a policy rule collection group's
`FirewallPolicyFilterRuleCollection` with `ruleType: NetworkRule`, base policies included) whose
destination is unrestricted (`*`, `0.0.0.0/0`, `Internet`, `Any`, or an IP group holding
`0.0.0.0/0`) and whose ports are unrestricted (`*`, `1-65535`, `0-65535`), from any source.

**Why it matters**
Network rules are evaluated before application rules; an any/any rule lets every packet out
and turns the firewall into a router. These rules are usually "temporary" debugging aids that
outlive the incident they were added for.

**How to fix**
Delete the rule, or narrow it to the destinations and ports the workload needs. Prefer
application rules with FQDNs (and the `AzureKubernetesService` FQDN tag) for web traffic.
"""
from aksaudit.api import T_FIREWALL, T_IP_GROUP, T_POLICY, T_RCG, NETWORK, CheckMeta, Severity, fail, passed, skipped
from aksaudit.checks.firewall.scope import all_ports, expand_addresses, reaches_everywhere
from aksaudit.checks.firewall.rule_evidence import rule_evidence
from aksaudit.checks.firewall.rule_owners import allow_rules

META = CheckMeta(
    id="FW003",
    slug="network-rule-any-any",
    title="Network rule allows any destination on any port",
    severity=Severity.HIGH,
    requires=(T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP),
    references=("https://learn.microsoft.com/azure/firewall/rule-processing",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("firewall", "rules"),
)


def evaluate(estate, options):
    for owner_id, rule, gap in allow_rules(estate, NETWORK):
        if gap:
            yield skipped(owner_id, gap)
            continue
        destinations, missing = expand_addresses(estate, rule.destination_addresses, rule.destination_ip_groups)
        if reaches_everywhere(destinations) and all_ports(rule):
            yield fail(owner_id,
                       f"Network rule '{rule.name}' in collection '{rule.collection}' allows "
                       f"{', '.join(rule.protocols) or 'any protocol'} to any destination on every port.",
                       locus=rule.locus,
                       evidence={**rule_evidence(rule),
                                 "collection_priority": rule.collection_priority,
                                 "protocols": list(rule.protocols), "sources": list(rule.source_addresses),
                                 "source_ip_groups": list(rule.source_ip_groups),
                                 "destinations": list(rule.destination_addresses),
                                 "destination_ip_groups": list(rule.destination_ip_groups),
                                 "ports": list(rule.destination_ports)})
        elif missing:
            yield skipped(owner_id, "; ".join(missing), locus=rule.locus)
        else:
            yield passed(owner_id, locus=rule.locus)
