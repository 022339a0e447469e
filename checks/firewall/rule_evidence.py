"""Evidence every firewall-rule finding carries, so a fix can find and guard the exact rule."""
from __future__ import annotations

import json
from typing import Any

from aksaudit.api import FirewallRule, RuleEvidence, evidence_dict

POLICY_COLLECTIONS = "ruleCollections"


def rule_evidence(rule: FirewallRule) -> dict[str, Any]:
    """Where the rule lives and what it looked like at scan time.

    A remediation script edits the rule through ARM, and it must refuse to touch a rule that
    changed after the scan: so the rule object and its collection's action are kept verbatim.
    `collection_key` is the ARM property holding the collection (`ruleCollections` in a rule
    collection group, `networkRuleCollections`/`applicationRuleCollections` on a classic firewall);
    it is the first segment of the locus, which we build ourselves, so it never holds a name.
    """
    collection_key = rule.locus.split("/", 1)[0]
    return evidence_dict(RuleEvidence(
        rule=rule.name, collection=rule.collection, collection_key=collection_key,
        owner_kind="rule_collection_group" if collection_key == POLICY_COLLECTIONS else "classic_firewall",
        collection_action=rule.raw_action,
        rule_json=json.loads(json.dumps(dict(rule.raw)))))  # a plain, JSON-safe copy
