"""Application rule allows a whole multi-tenant domain.

**What it checks**
An `Allow` application rule (classic or policy, base policies included) whose target FQDNs or
target URLs match every host name under a domain anyone can publish content on with a free
account — `*.blob.core.windows.net`, `*.azurewebsites.net`, `*.cloudfront.net`, `*.github.io` and
the like, and broader patterns covering them such as `*.core.windows.net` or `*.windows.net`.
The list is the option `multi_tenant_domains` (its default is in the generated docs page);
targets that FW004 already reports (`*`, a whole public suffix) are not reported again.

**Why it matters**
Such a wildcard allows the workload's storage account, but equally an attacker's: data can be
exfiltrated to any storage account, and malware can fetch payloads from any web app or CDN
distribution. Reference architectures allow some of these wildcards (for example storage for
AKS's own features), so the finding is low severity and a team that accepts the risk records it
as a suppression with a reason; narrowing the target is better.

**How to fix**
Name the accounts or hosts the workload really uses (`mystorage.blob.core.windows.net`), or
reach them through private endpoints and drop the rule.
"""
from dataclasses import dataclass

from aksaudit.api import (
    DEFAULT_MULTI_TENANT_DOMAINS, T_FIREWALL, T_POLICY, T_RCG, APPLICATION, RuleEvidence, CheckMeta, FixKind, Severity, domain_covered,
    every_name, fail, passed, public_suffix_covered, skipped,
)
from aksaudit.checks.firewall.rule_evidence import rule_evidence
from aksaudit.checks.firewall.rule_owners import allow_rules

@dataclass(frozen=True, kw_only=True)
class FixEvidence(RuleEvidence):
    """What the fix reads: the RuleEvidence alone."""


META = CheckMeta(
    id="FW007",
    slug="application-rule-multi-tenant-domain",
    title="Application rule allows a whole multi-tenant domain",
    severity=Severity.LOW,
    fix=FixKind.DISRUPTIVE,
    evidence=FixEvidence,
    requires=(T_FIREWALL, T_POLICY, T_RCG),
    references=("https://learn.microsoft.com/azure/firewall/rule-processing",
                "https://learn.microsoft.com/azure/aks/outbound-rules-control-egress"),
    tags=("firewall", "rules"),
    options={"multi_tenant_domains": DEFAULT_MULTI_TENANT_DOMAINS},
)


def evaluate(estate, options):
    domains = tuple(str(d) for d in options.get("multi_tenant_domains", DEFAULT_MULTI_TENANT_DOMAINS))
    for owner_id, rule, gap in allow_rules(estate, APPLICATION):
        if gap:
            yield skipped(owner_id, gap)
            continue
        broad = []
        for target in (*rule.target_fqdns, *rule.target_urls):
            if every_name(target) or public_suffix_covered(target):
                continue  # FW004's finding
            domain = domain_covered(target, domains)
            if domain is not None:
                broad.append((target, domain))
        if not broad:
            yield passed(owner_id, locus=rule.locus)
            continue
        yield fail(owner_id,
                   f"Application rule '{rule.name}' in collection '{rule.collection}' allows "
                   + ", ".join(f"{t} (every host under {d})" for t, d in broad)
                   + ": anyone can publish content there, so the rule also allows an attacker's hosts.",
                   locus=rule.locus,
                   evidence={**rule_evidence(rule), "wildcards": [t for t, _ in broad],
                             "domains": [d for _, d in broad], "protocols": list(rule.protocols),
                             "sources": list(rule.source_addresses), "source_ip_groups": list(rule.source_ip_groups)})
