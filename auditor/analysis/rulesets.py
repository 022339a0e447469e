"""The rules a firewall actually applies, with firewall-policy inheritance resolved.

Azure evaluates DNAT, then network, then application rules; within a type, collections
inherited from the base policy come before the child's, then by group and collection priority.
"""
from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from aksaudit.model.firewall_rules import APPLICATION, NAT, NETWORK, FirewallRule
from aksaudit.model.estate import Estate
from aksaudit.model.resources import Firewall
from aksaudit.model.row_fields import id_key

_KIND_ORDER = {NAT: 0, NETWORK: 1, APPLICATION: 2}
MAX_POLICY_DEPTH = 16


@dataclass(frozen=True)
class RuleSet:
    firewall_id: str
    rules: tuple[FirewallRule, ...]  # in processing order
    owner_ids: tuple[str, ...]  # policies and rule collection groups the rules came from
    gaps: tuple[str, ...]  # what could not be read: any gap means the verdict is unknown
    threat_intel_mode: str  # effective mode (the policy's when a policy is attached)


def policy_chain(estate: Estate, policy_id: str) -> tuple[list, list[str]]:
    """[base ..., child] policies and the gaps met while walking basePolicy links."""
    chain, gaps, seen = [], [], set()
    current = policy_id
    while current and len(chain) < MAX_POLICY_DEPTH:
        if id_key(current) in seen:
            gaps.append(f"base policy cycle at {current}")
            break
        seen.add(id_key(current))
        policy = estate.policies.get(id_key(current))
        if policy is None:
            gaps.append(estate.gap(current))
            break
        chain.append(policy)
        current = policy.base_policy_id
    chain.reverse()
    return chain, gaps


# One RuleSet per firewall and estate: every cluster path through a hub asks for the same
# firewall's rules, and resolving and sorting hundreds of inherited rules per path made scans
# of large estates spend most of their time here. Weak keys: the cache dies with its estate.
_RULESETS: "WeakKeyDictionary[Estate, dict[int, tuple[Firewall, RuleSet]]]" = WeakKeyDictionary()


def effective_rules(estate: Estate, firewall: Firewall) -> RuleSet:
    """The rules `firewall` applies, in processing order (computed once per estate and firewall)."""
    cache = _RULESETS.setdefault(estate, {})
    cached = cache.get(id(firewall))
    if cached is None or cached[0] is not firewall:
        cached = cache[id(firewall)] = (firewall, _resolve(estate, firewall))
    return cached[1]


def _resolve(estate: Estate, firewall: Firewall) -> RuleSet:
    policy_unread = firewall.unread("properties.firewallPolicy")
    if policy_unread:  # which policy applies is unknown, so are its rules
        return RuleSet(firewall.id, (), (firewall.id,), (policy_unread,), "")
    if not firewall.policy_id:
        ordered = sorted(firewall.classic_rules, key=lambda r: (_KIND_ORDER.get(r.kind, 3), r.collection_priority))
        return RuleSet(firewall.id, tuple(ordered), (firewall.id,), firewall.rules_unread, firewall.threat_intel_mode)
    # The same rules, in the same tuple, as the policy's own ruleset: what is computed from a
    # policy's rules (compiled address sets, covers) is then shared by its firewalls.
    shared = policy_ruleset(estate, firewall.policy_id)
    return RuleSet(firewall.id, shared.rules, shared.owner_ids, shared.gaps, shared.threat_intel_mode)


def policy_ruleset(estate: Estate, policy_id: str) -> RuleSet:
    """The rules any firewall using this policy applies (its base policies included), once per estate.

    Checks that judge rules where they are written ask this for every policy, attached to a firewall
    or not: a policy is a deployable unit, and a base policy's rules are judged in each child.
    """
    cache = _POLICY_RULESETS.setdefault(estate, {})
    key = id_key(policy_id)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _resolve_policy(estate, policy_id, policy_id)
    return found


_POLICY_RULESETS: "WeakKeyDictionary[Estate, dict[str, RuleSet]]" = WeakKeyDictionary()


def _resolve_policy(estate: Estate, policy_id: str, firewall_id: str) -> RuleSet:
    chain, gaps = policy_chain(estate, policy_id)
    keyed: list[tuple[tuple, FirewallRule]] = []
    owners: list[str] = [p.id for p in chain]
    for depth, policy in enumerate(chain):
        for group_id in policy.rule_collection_group_ids:
            group = estate.rule_collection_groups.get(id_key(group_id))
            if group is None:
                gaps.append(estate.gap(group_id))
                continue
            owners.append(group.id)
            gaps.extend(f"{group.id}: {why}" for why in group.gaps.values())
            for rule in group.rules:
                keyed.append(((_KIND_ORDER.get(rule.kind, 3), depth, group.priority, rule.collection_priority), rule))
    keyed.sort(key=lambda item: item[0])
    mode = chain[-1].threat_intel_mode if chain else ""
    return RuleSet(firewall_id, tuple(r for _, r in keyed), tuple(owners), tuple(gaps), mode)


def rulesets_by_owner(estate: Estate) -> list[RuleSet]:
    """One ruleset per place rules are written and deployed: every policy (with its base policies)
    and every classic firewall, so a rule is judged in each chain that applies it."""
    found = [policy_ruleset(estate, policy.id) for policy in estate.policies.values()]
    found += [effective_rules(estate, f) for f in estate.firewalls.values()
              if not f.policy_id and (f.classic_rules or f.rules_unread)]
    # A group no policy chain takes in (its policy could not be read, or does not list it) is still
    # a place rules are written and may be deployed: judge it alone rather than not at all.
    judged = {id_key(owner) for ruleset in found for owner in ruleset.owner_ids}
    for key, group in estate.rule_collection_groups.items():
        if key not in judged:
            gap = estate.gap(group.policy_id) if id_key(group.policy_id) not in estate.policies else \
                f"{group.id} is not listed by its policy's ruleCollectionGroups"
            ordered = sorted(group.rules, key=lambda r: (_KIND_ORDER.get(r.kind, 3), r.collection_priority))
            found.append(RuleSet(group.id, tuple(ordered), (group.id,),
                                 (gap, *(f"{group.id}: {why}" for why in group.gaps.values())), ""))
    return found
