"""Every place rules live: policy rule collection groups and classic firewalls."""
from __future__ import annotations

from typing import Iterator

from aksaudit.api import Estate, FirewallRule


def rule_owners(estate: Estate) -> Iterator[tuple[str, tuple[FirewallRule, ...], str]]:
    """(owner id, its rules, gap) for every rule collection group and classic firewall.

    Every group is judged once, so rules inherited from a base policy are judged where they are
    defined. A policy that names a group we could not read yields that group as a gap, and so does
    a group or firewall some of whose rules or collections could not be read.
    """
    for group in estate.rule_collection_groups.values():
        yield group.id, group.rules, "; ".join(group.gaps.values())
    for policy in estate.policies.values():
        for group_id in policy.rule_collection_group_ids:
            if group_id.lower() not in estate.rule_collection_groups:
                yield group_id, (), estate.gap(group_id)
    for firewall in estate.firewalls.values():
        if firewall.classic_rules or firewall.rules_unread:
            yield firewall.id, firewall.classic_rules, "; ".join(firewall.rules_unread)


def allow_rules(estate: Estate, kind: str) -> Iterator[tuple[str, FirewallRule | None, str]]:
    """(owner id, rule, '') for every readable Allow rule of one kind, and (owner id, None, gap) for
    every owner some of whose rules could not be read, so a check reports it `skipped` instead of
    passing it. A rule with a datum missing is never yielded: it is neither passed nor failed."""
    for owner_id, rules, gap in rule_owners(estate):
        if gap:
            yield owner_id, None, gap
        for rule in rules:
            if rule.kind == kind and rule.allows and not rule.gaps:
                yield owner_id, rule, ""
