"""The evidence a check's fix reads, as types: the contract between checks and their templates.

A finding's evidence stays a JSON object (JSON v1 carries it as it is, and `remediate --from`
reads it back from a file); these frozen dataclasses say which of its members a remediation
template may rely on. The shared evidence helpers build them, and a check declares the type its
template reads in `CheckMeta.evidence`; the contract tests hold the templates to the types (a
template reads only fields its type has) and the checks to them (every finding's evidence has
every field its type requires). Members a type does not list are for people reading the finding.

A field defaulting to `None` is optional: absent from the evidence when the finding has no such
value (a subnet without a route table has no `route_table`), never written as null.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class RouteState:
    """One route as the scan saw it: a fix re-reads the route and acts only if it still matches."""

    name: str
    address_prefix: str
    next_hop_type: str
    next_hop_ip: str | None


@dataclass(frozen=True, kw_only=True)
class PathEvidence:
    """An AKS subnet's egress path: the cluster, the subnet, its VNet and its route table."""

    cluster: str
    pools: tuple[str, ...]
    subnet: str
    subnet_name: str
    subnet_prefixes: tuple[str, ...]
    vnet: str
    vnet_resource_group: str
    location: str
    network_plugin: str
    firewall_private_ips: tuple[str, ...]  # of the firewalls the VNet reaches: where a route may point
    route_table: str | None = None
    route_table_routes: tuple[RouteState, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class RouteEvidence(PathEvidence):
    """The route deciding a subnet's Internet traffic, on its path."""

    route: str
    route_name: str
    address_prefix: str
    next_hop_type: str
    next_hop_ip: str | None


@dataclass(frozen=True, kw_only=True)
class RuleEvidence:
    """Where a firewall rule lives and what it looked like, so that a fix removes exactly it.

    `collection_key` is the ARM property holding the collection (`ruleCollections` in a rule
    collection group, `networkRuleCollections`/`applicationRuleCollections` on a classic
    firewall); `rule_json` is the rule object verbatim and `collection_action` its collection's.
    """

    rule: str
    collection: str
    collection_key: str
    owner_kind: str  # rule_collection_group | classic_firewall
    collection_action: str
    rule_json: Mapping[str, Any]


_SCALARS = (str, int, float, bool, type(None))


def evidence_dict(value: Any) -> Any:
    """The JSON object of a dataclass (fields in order, optional ones left out when None).

    Called for every finding's evidence, so the common leaves (scalars, dicts, lists) are tested
    with exact type checks before the slower dataclass and `Mapping` ABC tests."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k: evidence_dict(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [evidence_dict(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for item in dataclasses.fields(value):
            member = getattr(value, item.name)
            if member is None and item.default is None:
                continue
            out[item.name] = evidence_dict(member)
        return out
    if isinstance(value, (list, tuple)):
        return [evidence_dict(v) for v in value]
    if isinstance(value, Mapping):
        return {k: evidence_dict(v) for k, v in value.items()}
    return value


def _element_type(kind: Any) -> Any:
    """The dataclass inside `X`, `X | None`, `tuple[X, ...]`, or None."""
    for arg in (kind, *typing.get_args(kind)):
        if isinstance(arg, type) and dataclasses.is_dataclass(arg):
            return arg
        inner = [a for a in typing.get_args(arg) if isinstance(a, type) and dataclasses.is_dataclass(a)]
        if inner:
            return inner[0]
    return None


def evidence_problems(kind: type, evidence: Any, where: str = "evidence") -> list[str]:
    """What a finding's evidence lacks that its type requires: required fields, recursively into
    fields typed as dataclasses or tuples of them."""
    if not isinstance(evidence, Mapping):
        return [f"{where} is not an object"]
    problems = []
    hints = typing.get_type_hints(kind)
    for item in dataclasses.fields(kind):
        required = item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
        if item.name not in evidence:
            if required:
                problems.append(f"{where}.{item.name} is missing")
            continue
        inner = _element_type(hints[item.name])
        member = evidence[item.name]
        if inner is None or member is None:
            continue
        if isinstance(member, list):
            for index, element in enumerate(member):
                problems += evidence_problems(inner, element, f"{where}.{item.name}[{index}]")
        else:
            problems += evidence_problems(inner, member, f"{where}.{item.name}")
    return problems
