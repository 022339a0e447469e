"""Application rule allows every FQDN.

**What it checks**
An `Allow` application rule (classic or policy, base policies included) whose target FQDNs or
target URLs match every host name (`*`: high), or every host name under a public suffix (medium):
`*.com`, `*.co.uk`, and the same sets spelled `*com` or `*.uk` (Azure matches a leading `*` as
"any prefix", so `*m` matches every `.com` name). Public suffixes come from the ICANN section of
the Public Suffix List shipped with aksaudit. Wildcards under a domain anyone can host content
on (`*.blob.core.windows.net`) are FW007's finding.

**Why it matters**
FQDN filtering is the reason to put AKS egress behind Azure Firewall: it is what stops a
compromised pod from reaching an attacker's host. A `*` target allows every host name, and
`*.com` nearly every one; exfiltration and command-and-control traffic pass untouched.

**How to fix**
Replace the wildcard with the FQDNs the workload needs; allow AKS's own dependencies with the
`AzureKubernetesService` FQDN tag.
"""

from dataclasses import dataclass

from aksaudit.api import (
    T_FIREWALL, T_POLICY, T_RCG, APPLICATION, RuleEvidence, CheckMeta, FixKind, Severity, every_name, fail, passed, public_suffix_covered,
    skipped,
)
from aksaudit.checks.firewall.rule_evidence import rule_evidence
from aksaudit.checks.firewall.rule_owners import allow_rules

@dataclass(frozen=True, kw_only=True)
class FixEvidence(RuleEvidence):
    """What the fix reads: the RuleEvidence alone."""


META = CheckMeta(
    id="FW004",
    slug="application-rule-wildcard-fqdn",
    title="Application rule allows every FQDN",
    severity=Severity.HIGH,
    fix=FixKind.DISRUPTIVE,
    evidence=FixEvidence,
    requires=(T_FIREWALL, T_POLICY, T_RCG),
    references=("https://learn.microsoft.com/azure/firewall/rule-processing",
                "https://learn.microsoft.com/azure/firewall/fqdn-tags",
                "https://publicsuffix.org/"),
    tags=("firewall", "rules"),
)


def breadth(target: str) -> tuple[Severity, str] | None:
    """(severity, what the target matches) for a target matching every name or a public suffix."""
    if every_name(target):
        return Severity.HIGH, "every host name"
    suffix = public_suffix_covered(target)
    if suffix is not None:
        return Severity.MEDIUM, f"every host name under the public suffix '{suffix}'"
    return None


def evaluate(estate, options):
    for owner_id, rule, gap in allow_rules(estate, APPLICATION):
        if gap:
            yield skipped(owner_id, gap)
            continue
        broad = [(t, b) for t in (*rule.target_fqdns, *rule.target_urls) if (b := breadth(t)) is not None]
        if not broad:
            yield passed(owner_id, locus=rule.locus)
            continue
        severity = Severity.HIGH if any(s is Severity.HIGH for _, (s, _) in broad) else Severity.MEDIUM
        targets = ", ".join(f"{t} ({what})" for t, (_, what) in broad)
        yield fail(owner_id,
                   f"Application rule '{rule.name}' in collection '{rule.collection}' allows {targets}: "
                   "FQDN filtering is effectively off for its sources.",
                   locus=rule.locus, severity=severity,
                   evidence={**rule_evidence(rule),
                             "wildcards": [t for t, _ in broad], "matches": [what for _, (_, what) in broad],
                             "protocols": list(rule.protocols), "sources": list(rule.source_addresses),
                             "source_ip_groups": list(rule.source_ip_groups)})
