"""Network rule lets AKS web traffic skip FQDN filtering.

**What it checks**
An `Allow` network rule (classic or policy, base policies included) that lets TCP (or `Any`)
reach unrestricted destinations (`*`, `0.0.0.0/0`, `Internet`, `Any`, or an IP group holding
`0.0.0.0/0`) on port 80 or 443 (a single port, a range covering it, or `*`), from sources that
include part of an AKS node or pod subnet (CIDRs, `*`, or IP groups, expanded).

**Why it matters**
Azure Firewall evaluates network rules before application rules, and a network-rule match ends
processing. A rule that allows 443 to anywhere therefore lets every HTTPS request out before
any application rule looks at its FQDN: the carefully curated FQDN allow-list for the cluster
is decoration, and a compromised pod can reach any host on the web.

**How to fix**
Remove the rule, or narrow its destinations to the IP ranges or service tags the workload really
needs; express web egress as application rules with FQDNs (and the `AzureKubernetesService` FQDN
tag for AKS's own dependencies).
"""
from aksaudit.api import (
    NETWORK, Estate, T_CLUSTER, T_FIREWALL, T_IP_GROUP, T_POLICY, T_RCG, T_VNET, CheckMeta, Severity, fail, passed, skipped,
)
from aksaudit.checks.firewall.rule_evidence import rule_evidence
from aksaudit.checks.firewall.rule_owners import allow_rules
from aksaudit.checks.firewall.scope import carries_tcp, expand_addresses, overlaps_any, port_allowed, reaches_everywhere

META = CheckMeta(
    id="FW005",
    slug="network-rule-bypasses-fqdn-filtering",
    title="Network rule lets AKS web traffic skip FQDN filtering",
    severity=Severity.MEDIUM,
    requires=(T_CLUSTER, T_VNET, T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP),
    references=("https://learn.microsoft.com/azure/firewall/rule-processing",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("firewall", "rules"),
)

WEB_PORTS = (80, 443)


def _aks_subnets(estate: Estate) -> tuple[list[tuple[str, tuple]], list[str]]:
    """(subnet name, its prefixes) for every AKS node and pod subnet, and those we could not read."""
    subnets, gaps = {}, []
    for path in estate.egress_paths:
        if path.subnet is None:
            gaps.append(path.gap)
        else:
            subnets.setdefault(path.subnet.id.lower(), (path.subnet.name, path.subnet.prefixes))
    return list(subnets.values()), gaps


def evaluate(estate, options):
    subnets, subnet_gaps = _aks_subnets(estate)
    if not subnets and not subnet_gaps:
        return  # no AKS subnet in scope: nothing can bypass anything for AKS
    hits: dict[tuple[str, ...], list[str]] = {}  # sources -> the AKS subnets they reach: rules share sources
    for owner_id, rule, gap in allow_rules(estate, NETWORK):
        if gap:
            yield skipped(owner_id, gap)
            continue
        ports = [p for p in WEB_PORTS if port_allowed(rule, p)]
        if not carries_tcp(rule) or not ports:
            yield passed(owner_id, locus=rule.locus)
            continue
        destinations, missing = expand_addresses(estate, rule.destination_addresses, rule.destination_ip_groups)
        if missing and not reaches_everywhere(destinations):
            yield skipped(owner_id, "; ".join(missing), locus=rule.locus)  # the group may hold 0.0.0.0/0
            continue
        if not reaches_everywhere(destinations):
            yield passed(owner_id, locus=rule.locus)
            continue
        sources, missing = expand_addresses(estate, rule.source_addresses, rule.source_ip_groups)
        hit = hits.get(sources)
        if hit is None:
            hit = hits[sources] = [name for name, prefixes in subnets if overlaps_any(prefixes, sources)]
        if hit:
            yield fail(owner_id,
                       f"Network rule '{rule.name}' in collection '{rule.collection}' allows TCP "
                       f"{'/'.join(map(str, ports))} to any destination from AKS subnet(s) {', '.join(hit)}: "
                       "network rules match before application rules, so FQDN filtering never sees that traffic.",
                       locus=rule.locus,
                       evidence={**rule_evidence(rule), "collection_priority": rule.collection_priority,
                                 "protocols": list(rule.protocols), "ports": list(rule.destination_ports),
                                 "web_ports_allowed": ports, "sources": list(rule.source_addresses),
                                 "source_ip_groups": list(rule.source_ip_groups),
                                 "destinations": list(rule.destination_addresses),
                                 "destination_ip_groups": list(rule.destination_ip_groups),
                                 "aks_subnets": hit})
        elif missing or subnet_gaps:
            yield skipped(owner_id, "; ".join(missing + subnet_gaps), locus=rule.locus)
        else:
            yield passed(owner_id, locus=rule.locus)
