"""Where a firewall rule sits in its ARM body, the state `remove_rule` compares before the PUT, and
the body without the rule, all as JMESPath that `az --query` evaluates."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ...jmes import field, literal, path, shape, to_string


@dataclass(frozen=True)
class RulePlace:
    """Where rules sit in an ARM body: the collection list, and the rule list and action inside
    a collection. A rule collection group and a classic firewall differ only in these paths."""

    collections: tuple[str, ...]
    rules: tuple[str, ...]
    action: tuple[str, ...]


def rule_place(owner_kind: str, collection_key: str) -> RulePlace:
    if owner_kind == "rule_collection_group":
        return RulePlace(("properties", "ruleCollections"), ("rules",), ("action", "type"))
    if owner_kind == "classic_firewall":
        return RulePlace(("properties", collection_key), ("properties", "rules"), ("properties", "action", "type"))
    raise ValueError(f"unknown rule owner kind {owner_kind!r}")


def _collection(place: RulePlace, collection: str) -> str:
    return f"{path(place.collections)}[?name == {literal(collection)}]"


def rule_state_query(place: RulePlace, collection: str, rule: str, rule_json: dict[str, Any]) -> str:
    """Three lines of `-o tsv`: the body's ETag, the rule's state, and how many such rules exist.

    The state is `{"rule": <the rule, keys as scanned>, "action": <its collection's action>}`:
    a rule whose collection turned from Allow to Deny must not be removed as if it still allowed.
    """
    rules = path(place.rules)
    state = (f"{_collection(place, collection)} | [0] | "
             f"{{rule: {rules}[?name == {literal(rule)}] | [0] | {shape(rule_json)}, action: {path(place.action)}}}")
    count = f"length(({_collection(place, collection)}.{rules}[] || `[]`)[?name == {literal(rule)}])"
    return f"[etag, to_string({state}), {count}]"


def rule_state(rule_json: dict[str, Any], action: str) -> str:
    """The state `rule_state_query` reads for a rule that still looks as it did at scan time."""
    return to_string({"rule": rule_json, "action": action})


def _replace(names: Sequence[str], value: str, base: Sequence[str] = ()) -> str:
    """An expression equal to the current node with the member at `names` replaced by `value`
    (itself evaluated against the current node)."""
    current = path(base) if base else "@"
    head = names[0]
    inner = value if len(names) == 1 else _replace(names[1:], value, (*base, head))
    return f"merge({current}, {{{field(head)}: {inner}}})"


def rule_removal_query(place: RulePlace, collection: str, rule: str) -> str:
    """The GET body without the rule, ready to PUT back; a collection left empty goes too."""
    rules = path(place.rules)
    without_rule = _replace(place.rules, f"{rules}[?name != {literal(rule)}]")
    edited = f"map(&(name == {literal(collection)} && {without_rule} || @), {path(place.collections)})"
    kept = f"{edited}[?name != {literal(collection)} || length({rules} || `[]`) > `0`]"
    return _replace(place.collections, kept)
