"""Threat intelligence is off.

**What it checks**
The threat intelligence mode that applies to each firewall must not be `Off`: for a classic
firewall (no policy), its own `threatIntelMode`; for a firewall policy, the strictest mode along
its `basePolicy` chain, since a child policy inherits its base's mode and may only make it
stricter (`Off` < `Alert` < `Deny`; an unset mode inherits, and Azure's default is `Alert`).
Policies are judged when a firewall uses them or when no other policy derives from them; a base
policy that only feeds child policies is judged through them. A classic firewall's mode is always
returned by Azure: a missing one is `skipped`, not read as `Alert`; a chain with a link that
could not be read passes only when a mode that was read is already not `Off` (an unread link can
only make it stricter).

**Why it matters**
Threat intelligence alerts on (or denies) traffic to and from IP addresses and domains Microsoft
knows to be malicious: command-and-control servers, crypto-mining pools, exfiltration endpoints.
It is the one control that still works when an allow rule is broader than it should be. With it
off, a compromised pod talking to a known-bad host raises nothing.

**How to fix**
Set the mode to `Alert` or `Deny` on the policy (or, for classic rules, on the firewall):
`az resource update --ids <policy or firewall id> --set properties.threatIntelMode=Deny`. A child
policy can only be stricter than its base, so fix the base policy when the `Off` is inherited.
"""
from dataclasses import dataclass

from aksaudit.api import (
    T_FIREWALL, T_POLICY, CheckMeta, FixKind, Estate, FirewallPolicy, Severity, fail, passed, policy_chain, skipped,
    THREAT_INTEL_MODE,
)

@dataclass(frozen=True, kw_only=True)
class ChainLink:
    policy: str
    threat_intel_mode: str | None


@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    threat_intel_mode: str | None
    policy: str | None = None  # a policy's finding; a classic firewall's has none
    chain: tuple[ChainLink, ...] | None = None


META = CheckMeta(
    id="FW006",
    slug="threat-intel-off",
    title="Threat intelligence is off",
    severity=Severity.MEDIUM,
    fix=FixKind.SAFE,
    evidence=FixEvidence,
    requires=(T_FIREWALL, T_POLICY),
    references=("https://learn.microsoft.com/azure/firewall/threat-intel",
                "https://learn.microsoft.com/azure/firewall/policy-rule-sets"),
    tags=("firewall",),
)

STRICTNESS = {"off": 0, "alert": 1, "deny": 2}
DEFAULT_MODE = "Alert"


def effective_mode(modes: list[str]) -> str:
    """The strictest explicit mode of a chain; Azure's default when none is set."""
    explicit = [m for m in modes if m.strip().lower() in STRICTNESS]
    return max(explicit, key=lambda m: STRICTNESS[m.strip().lower()]) if explicit else DEFAULT_MODE


def _judged_policies(estate: Estate) -> list[FirewallPolicy]:
    """Policies a firewall uses, plus those no policy in the estate derives from."""
    used = {f.policy_id.lower() for f in estate.firewalls.values() if f.policy_id}
    bases = {p.base_policy_id.lower() for p in estate.policies.values() if p.base_policy_id}
    return [p for key, p in estate.policies.items() if key in used or key not in bases]


def evaluate(estate, options):
    for firewall in estate.firewalls.values():
        if firewall.policy_id and firewall.policy_id.lower() not in estate.policies:
            yield skipped(firewall.id, f"its firewall policy is unreadable: {estate.gap(firewall.policy_id)}")
        elif not firewall.policy_id and firewall.unread(THREAT_INTEL_MODE, "properties.firewallPolicy"):
            yield skipped(firewall.id, firewall.unread(THREAT_INTEL_MODE, "properties.firewallPolicy"))
        elif not firewall.policy_id and effective_mode([firewall.threat_intel_mode]).lower() == "off":
            yield fail(firewall.id,
                       f"Firewall '{firewall.header.name}' has threat intelligence Off.",
                       evidence={"firewall": firewall.id, "threat_intel_mode": firewall.threat_intel_mode,
                                 "resource_group": firewall.header.resource_group})
        elif not firewall.policy_id:
            yield passed(firewall.id)
    for policy in _judged_policies(estate):
        chain, gaps = policy_chain(estate, policy.id)
        gaps += [f"firewall policy {p.id}: {why}" for p in chain for why in p.gaps.values()]
        modes = [p.threat_intel_mode for p in chain]
        mode = effective_mode(modes)
        known = [m for m in modes if m.strip().lower() in STRICTNESS]
        # A mode not read can only make the chain stricter than what was read, never laxer; with no
        # mode read at all, what an unread link sets is what applies.
        if mode.lower() != "off" and (known or not gaps):
            yield passed(policy.id)
        elif gaps:
            yield skipped(policy.id, "; ".join(gaps))
        else:
            yield fail(policy.id,
                       f"Firewall policy '{policy.header.name}' has threat intelligence Off"
                       + (" along its whole base-policy chain." if len(chain) > 1 else "."),
                       evidence={"policy": policy.id, "threat_intel_mode": policy.threat_intel_mode,
                                 "chain": [{"policy": p.id, "threat_intel_mode": p.threat_intel_mode} for p in chain],
                                 "firewalls": sorted(f.id for f in estate.firewalls.values()
                                                     if f.policy_id.lower() == policy.id.lower()),
                                 "resource_group": policy.header.resource_group})
