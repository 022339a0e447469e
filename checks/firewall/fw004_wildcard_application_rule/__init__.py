"""Application rule allows every FQDN.

**What it checks**
An `Allow` application rule (classic or policy, base policies included) whose `targetFqdns` or
`targetUrls` contain `*` (high), or a wildcard over a whole top-level domain such as `*.com`
(medium).

**Why it matters**
FQDN filtering is the reason to put AKS egress behind Azure Firewall: it is what stops a
compromised pod from reaching an attacker's host. A `*` target allows every host name, and
`*.com` nearly every one; exfiltration and command-and-control traffic pass untouched.

**How to fix**
Replace the wildcard with the FQDNs the workload needs; allow AKS's own dependencies with the
`AzureKubernetesService` FQDN tag.
"""
from aksaudit.api import T_FIREWALL, T_POLICY, T_RCG, APPLICATION, CheckMeta, Severity, fail, passed, skipped
from aksaudit.checks.firewall.rule_evidence import rule_evidence
from aksaudit.checks.firewall.rule_owners import allow_rules

META = CheckMeta(
    id="FW004",
    slug="application-rule-wildcard-fqdn",
    title="Application rule allows every FQDN",
    severity=Severity.HIGH,
    requires=(T_FIREWALL, T_POLICY, T_RCG),
    references=("https://learn.microsoft.com/azure/firewall/rule-processing",
                "https://learn.microsoft.com/azure/firewall/fqdn-tags"),
    tags=("firewall", "rules"),
)


def _breadth(target: str) -> Severity | None:
    """HIGH for '*', MEDIUM for '*.<tld>', None for a real host pattern."""
    host = target.strip().lower()
    for scheme in ("https://", "http://"):
        host = host.removeprefix(scheme)
    host = host.split("/", 1)[0]
    if host in ("*", "*.*"):
        return Severity.HIGH
    if host.startswith("*.") and "." not in host[2:] and host[2:].replace("-", "").isalnum():
        return Severity.MEDIUM
    return None


def evaluate(estate, options):
    for owner_id, rule, gap in allow_rules(estate, APPLICATION):
        if gap:
            yield skipped(owner_id, gap)
            continue
        broad = [(t, _breadth(t)) for t in (*rule.target_fqdns, *rule.target_urls)]
        broad = [(t, s) for t, s in broad if s is not None]
        if not broad:
            yield passed(owner_id, locus=rule.locus)
            continue
        severity = Severity.HIGH if any(s is Severity.HIGH for _, s in broad) else Severity.MEDIUM
        targets = ", ".join(t for t, _ in broad)
        yield fail(owner_id,
                   f"Application rule '{rule.name}' in collection '{rule.collection}' allows {targets}: "
                   "FQDN filtering is effectively off for its sources.",
                   locus=rule.locus, severity=severity,
                   evidence={**rule_evidence(rule),
                             "wildcards": [t for t, _ in broad], "protocols": list(rule.protocols),
                             "sources": list(rule.source_addresses),
                             "source_ip_groups": list(rule.source_ip_groups)})
