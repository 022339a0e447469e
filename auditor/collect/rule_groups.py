"""Completing rule collection groups that Resource Graph returns without their rules.

Firewall policy rule collection groups live in Resource Graph's `networkresources` table, but
nothing published promises that those rows carry `properties.ruleCollections`. The rules are
the whole point of the firewall checks, so a row without them is completed from ARM with
azure-mgmt-network (`firewall_policy_rule_collection_groups.list`, one call per policy). When
that fails too the row is kept as it is: the model marks its rules unreadable and the firewall
checks report `skipped` for it, never `pass`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from aksaudit.model.resources import T_RCG
from aksaudit.model.row_fields import id_key
from .graph import describe
from .lookups import Lookup, LookupRunner

RULE_GROUPS = "rule collection groups"


@dataclass(frozen=True)
class PolicyRef:
    subscription_id: str
    resource_group: str
    policy_name: str


@dataclass(frozen=True)
class Completion:
    rows: tuple[Mapping[str, Any], ...]
    errors: tuple[str, ...]
    completed: tuple[str, ...]  # ids filled in from ARM, for the snapshot's record of what happened
    lookups: int = 0  # ARM lists sent (one per policy)
    failed: int = 0  # of which failed (their groups are gaps)
    known: int = 0  # groups that came with their rules: no lookup

    def record(self) -> dict[str, dict[str, Any]]:
        """The `arm_lookups` entry of these reads (see live_only.Lookups.record); empty when no
        rule collection group was read at all."""
        if not (self.lookups or self.known):
            return {}
        return {RULE_GROUPS: {"why": "Resource Graph returned rule collection groups without their rules",
                              "made": self.lookups, "failed": self.failed,
                              **({"skipped": {"answer known from Resource Graph data (the rows carry their rules)":
                                              self.known}} if self.known else {})}}


def policy_of(group_id: str) -> PolicyRef | None:
    """`/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/p/ruleCollectionGroups/g`."""
    parts = group_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if len(parts) != 10 or lowered[0] != "subscriptions" or lowered[2] != "resourcegroups" \
            or lowered[6] != "firewallpolicies" or lowered[8] != "rulecollectiongroups":
        return None
    return PolicyRef(parts[1], parts[3], parts[7])


def lacks_rules(row: Any) -> bool:
    if not isinstance(row, Mapping) or str(row.get("type", "")).lower() != T_RCG:
        return False
    props = row.get("properties")
    return not isinstance(props, Mapping) or "ruleCollections" not in props


def _plain(model: Any) -> dict[str, Any]:
    """The SDK's hybrid model back to ARM's own JSON shape (camelCase, nested `properties`)."""
    return json.loads(json.dumps(model.as_dict()))


def complete_rule_groups(rows: Iterable[Mapping[str, Any]], network_client: Callable[[str], Any],
                         runner: LookupRunner | None = None) -> Completion:
    """Fill in `properties` of rule collection groups that lack `ruleCollections`: one ARM list
    per policy, all of them at once through `runner` (ARM's read limits)."""
    rows = list(rows)
    wanted: dict[PolicyRef, list[int]] = {}
    errors: list[str] = []
    for index, row in enumerate(rows):
        if not lacks_rules(row):
            continue
        policy = policy_of(str(row.get("id", "")))
        if policy is None:
            errors.append(f"rule collection group {row.get('id')}: came without rules and its id names no policy")
            continue
        wanted.setdefault(policy, []).append(index)
    completed: list[str] = []
    policies = list(wanted)
    known = sum(1 for row in rows if isinstance(row, Mapping) and str(row.get("type", "")).lower() == T_RCG
                and not lacks_rules(row))

    def listing(policy: PolicyRef) -> Callable[[Callable[[Any], None]], dict[str, dict[str, Any]]]:
        def call(hook: Callable[[Any], None]) -> dict[str, dict[str, Any]]:
            groups = network_client(policy.subscription_id).firewall_policy_rule_collection_groups.list(
                policy.resource_group, policy.policy_name, raw_response_hook=hook)
            return {id_key(str(group.id)): _plain(group) for group in groups}
        return call

    answers = (runner or LookupRunner()).run(
        [Lookup(RULE_GROUPS, p.subscription_id, listing(p)) for p in policies])
    for policy, answer in zip(policies, answers):
        indexes = wanted[policy]
        if answer.error is not None:
            for index in indexes:
                errors.append(f"rule collection group {rows[index].get('id')}: Resource Graph returned it without "
                              f"ruleCollections and reading it from ARM failed ({describe(answer.error)})")
            continue
        fetched = answer.value or {}
        for index in indexes:
            full = fetched.get(id_key(str(rows[index].get("id", ""))))
            if full is None or "ruleCollections" not in (full.get("properties") or {}):
                errors.append(f"rule collection group {rows[index].get('id')}: Resource Graph returned it without "
                              f"ruleCollections and ARM did not list it")
                continue
            rows[index] = {**rows[index], "properties": full["properties"]}
            completed.append(str(rows[index].get("id")))
    failed = sum(1 for answer in answers if answer.error is not None)
    return Completion(tuple(rows), tuple(errors), tuple(completed), len(policies), failed, known)
