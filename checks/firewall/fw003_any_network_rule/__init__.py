"""Network rules allow any destination on any port.

**What it checks**
Whether a firewall's `Allow` network rules (classic `networkRuleCollections`, or a firewall
policy's rule collection groups with its base policies) *together* let some source reach every
public IPv4 address (or every public IPv6 address) on every port over TCP or UDP. The rules are
read as the traffic they permit, not as spelled: `*`, `0.0.0.0/0`, `Any`, the two `/1` halves in
one rule or in two, an IP group holding a range such as `0.0.0.0-255.255.255.255`, and `1-32767`
beside `32768-65535` are all the same traffic. Each policy is judged with its base policies, and
each classic firewall on its own rules. The finding is reported on the rules responsible: every
rule that covers everything on its own, and then, while the rules not named yet still cover it
together, a smallest set of them (so two `/1` halves are named beside an older `*` rule, as a
second `*` rule would be); their evidence names the others. `Deny` rules do not change the verdict: a rule
set that allows everything except a deny list is allow-by-default. Service tags are named sets
(`Internet` is every address; no other tag covers all public space). A rule whose addresses, IP
groups, ports or protocols could not be read is `skipped` when reading it could make the rules
cover everything, naming the datum; a rule or collection that could not be read whole (its
name, kind, action, priority, rule list) makes its owner `skipped`, and every readable rule it
could combine with is `skipped` rather than passed. Option: `known_service_tags` (more tag names
to accept).

**Why it matters**
Network rules are evaluated before application rules; an any/any rule lets every packet out
and turns the firewall into a router. These rules are usually "temporary" debugging aids that
outlive the incident they were added for — and splitting the address space in two does not make
them any narrower.

**How to fix**
Delete the rules, or narrow them to the destinations and ports the workload needs. Prefer
application rules with FQDNs (and the `AzureKubernetesService` FQDN tag) for web traffic.
"""

from dataclasses import dataclass

from aksaudit.api import (
    LOWER, NETWORK, PUBLIC_V4, PUBLIC_V6, T_FIREWALL, T_IP_GROUP, T_POLICY, T_RCG, UPPER, USABLE_PORTS, AddressSet,
    RuleEvidence, CheckMeta, FixKind, Severity, covering_rules, fail, network_rules, passed, rulesets_by_owner, skipped,
)
from aksaudit.checks.firewall.rule_evidence import rule_evidence
from aksaudit.checks.firewall.rule_owners import allow_rules

@dataclass(frozen=True, kw_only=True)
class FixEvidence(RuleEvidence):
    """What the fix reads: the RuleEvidence alone."""


META = CheckMeta(
    id="FW003",
    slug="network-rule-any-any",
    title="Network rule allows any destination on any port",
    severity=Severity.HIGH,
    fix=FixKind.DISRUPTIVE,
    evidence=FixEvidence,
    requires=(T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP),
    references=("https://learn.microsoft.com/azure/firewall/rule-processing",
                "https://learn.microsoft.com/azure/aks/limit-egress-traffic"),
    tags=("firewall", "rules"),
    options={"known_service_tags": ()},
)

PROTOCOLS = ("tcp", "udp")
TARGETS = ((PUBLIC_V4, "IPv4"), (PUBLIC_V6, "IPv6"))


def _evidence(rule, cover, family: str) -> dict:
    others = [r.rule for r in cover.rules if r.rule is not rule]
    return {**rule_evidence(rule), "collection_priority": rule.collection_priority,
            "protocols": list(rule.protocols), "sources": list(rule.source_addresses),
            "source_ip_groups": list(rule.source_ip_groups), "destinations": list(rule.destination_addresses),
            "destination_ip_groups": list(rule.destination_ip_groups), "ports": list(rule.destination_ports),
            "allowed_protocol": cover.protocol.upper(), "allowed_destinations": f"every public {family} address",
            "allowed_from": cover.sources.describe(),
            "together_with": [f"{r.owner_id}/{r.locus}" for r in others]}


def _message(rule, cover, family: str) -> str:
    others = [r.rule for r in cover.rules if r.rule is not rule]
    together = f" together with {', '.join(repr(r.name) for r in others)}" if others else ""
    return (f"Network rule '{rule.name}' in collection '{rule.collection}'{together} allows "
            f"{cover.protocol.upper()} from {', '.join(cover.sources.describe(3))} to every public {family} "
            f"address on every port.")


def evaluate(estate, options):
    extra = frozenset(str(t).strip().lower() for t in options.get("known_service_tags", ()))
    outcomes: dict[tuple[str, str], object] = {}
    rank = {"pass": 0, "skipped": 1, "fail": 2}

    def record(outcome, weight: str) -> None:
        key = (outcome.resource_id.lower(), outcome.locus)
        previous = outcomes.get(key)
        if previous is None or rank[weight] > rank[previous[1]]:
            outcomes[key] = (outcome, weight)

    for owner_id, rule, gap in allow_rules(estate, NETWORK):
        if gap:
            yield skipped(owner_id, gap)
        else:
            record(passed(owner_id, locus=rule.locus), "pass")
    for ruleset in rulesets_by_owner(estate):
        if ruleset.gaps:  # an unread rule or collection may complete a cover with any readable rule
            for rule in ruleset.rules:
                if rule.kind == NETWORK and rule.allows and not rule.gaps:
                    record(skipped(rule.owner_id, "; ".join(ruleset.gaps), locus=rule.locus), "skipped")
        net = network_rules(estate, ruleset, extra)
        for protocol in PROTOCOLS:
            for target, family in TARGETS:
                covers = covering_rules(net, AddressSet.everything(), protocol, target, USABLE_PORTS, LOWER)
                for cover in covers:
                    for compiled in cover.rules:
                        rule = compiled.rule
                        record(fail(rule.owner_id, _message(rule, cover, family), locus=rule.locus,
                                    evidence=_evidence(rule, cover, family)), "fail")
                if covers or not net.gaps:
                    continue
                for cover in covering_rules(net, AddressSet.everything(), protocol, target, USABLE_PORTS, UPPER):
                    for compiled in cover.rules:
                        if compiled.gaps:
                            record(skipped(compiled.rule.owner_id, "; ".join(compiled.gaps), locus=compiled.rule.locus),
                                   "skipped")
    for outcome, _ in outcomes.values():
        yield outcome
