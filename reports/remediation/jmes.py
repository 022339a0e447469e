"""JMESPath written by aksaudit so that `az --query` does the reading and JSON editing.

A machine that runs a remediation script has the Azure CLI, bash and coreutils, but not
necessarily jq or Python; `az` evaluates JMESPath itself. Names from the estate enter a query
only as JSON literals (backquoted) or quoted identifiers, never as raw query text, so a rule
named ``a`] | @`` stays a name.

State comparisons use `to_string()`, which JMESPath defines as compact JSON
(`json.dumps(value, separators=(",", ":"))` in the Python implementation the CLI embeds):
`to_string` below produces the same text, so the script compares the state Azure holds now with
the state the scan saw as two plain strings.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

# One route, as `az network route-table route show` prints it (properties are flattened).
ROUTE_STATE = "to_string([addressPrefix, nextHopType, nextHopIpAddress || ''])"
# All routes of a table, as `az network route-table show` prints it, in name order.
ROUTES_STATE = "to_string(sort_by(routes || `[]`, &name)[*].[name, addressPrefix, nextHopType, nextHopIpAddress || ''])"
# A VNet's address space and subnet names, as `az network vnet show` prints it.
VNET_STATE = "to_string([sort(addressSpace.addressPrefixes || `[]`), sort(subnets[*].name || `[]`)])"


def to_string(value: Any) -> str:
    """What JMESPath's `to_string()` makes of an equal value."""
    return json.dumps(value, separators=(",", ":"), default=str)


def literal(value: Any) -> str:
    """A JMESPath JSON literal; backquotes inside are escaped the way the lexer expects."""
    return "`" + json.dumps(value).replace("`", "\\`") + "`"


def field(name: str) -> str:
    """A quoted identifier: selects the member called `name`, whatever characters it holds."""
    return json.dumps(name)


def path(names: Sequence[str]) -> str:
    return ".".join(field(n) for n in names)


def shape(value: Any) -> str:
    """An expression that rebuilds an equal value with its keys in this value's order.

    Azure may return an object's members in another order than Resource Graph did; projecting
    them by name makes `to_string()` of the live value equal to `to_string()` of the scanned one
    whenever the two are equal as JSON (extra members Azure adds later are ignored).
    """
    if isinstance(value, dict) and value:
        return "{" + ", ".join(f"{field(k)}: {_member(k, v)}" for k, v in value.items()) + "}"
    return "@"


def _member(key: str, value: Any) -> str:
    selector = field(key)
    if isinstance(value, dict) and value:
        return f"{selector}.{shape(value)}"
    if (isinstance(value, list) and value and all(isinstance(item, dict) and item for item in value)
            and all(list(item) == list(value[0]) for item in value)):
        return f"{selector}[*].{shape(value[0])}"
    return selector


def route_state(address_prefix: str, next_hop_type: str, next_hop_ip: str) -> str:
    """ROUTE_STATE of a route with these values."""
    return to_string([address_prefix, next_hop_type, next_hop_ip or ""])


def routes_state(routes: Sequence[dict[str, str]]) -> str:
    """ROUTES_STATE of a table holding these routes (evidence `route_table_routes`)."""
    ordered = sorted(routes, key=lambda r: r["name"])
    return to_string([[r["name"], r["address_prefix"], r["next_hop_type"], r["next_hop_ip"] or ""] for r in ordered])


def vnet_state(address_prefixes: Sequence[str], subnet_names: Sequence[str]) -> str:
    """VNET_STATE of a VNet with this address space and these subnets."""
    return to_string([sorted(address_prefixes), sorted(subnet_names)])


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
