"""One normalised shape for Azure Firewall rules, whether classic or policy-based.

Classic firewalls keep rules inline (network/application/nat rule collections); firewall
policies keep them in rule collection groups. Checks reason about one `FirewallRule` type and
a `locus` that says where the rule lives inside its resource.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from aksaudit.model.row_fields import RowError, arr, obj, plain_strings, strings, text

Gaps = dict[str, str]  # path in the row -> why the datum there could not be read

NETWORK = "network"
APPLICATION = "application"
NAT = "nat"

UNRESTRICTED_ADDRESSES = frozenset({"*", "0.0.0.0/0", "internet", "any", "::/0"})
FULL_PORT_RANGES = frozenset({"*", "0-65535", "1-65535"})


@dataclass(frozen=True)
class FirewallRule:
    name: str
    kind: str  # network | application | nat
    action: str  # allow | deny | dnat | snat (lower-case)
    collection: str
    collection_priority: int
    group_priority: int  # rule collection group priority (0 for classic rules)
    owner_id: str  # the rule collection group (policy) or firewall (classic) holding the rule
    locus: str
    protocols: tuple[str, ...]
    source_addresses: tuple[str, ...]
    source_ip_groups: tuple[str, ...]
    destination_addresses: tuple[str, ...]
    destination_ip_groups: tuple[str, ...]
    destination_fqdns: tuple[str, ...]
    destination_ports: tuple[str, ...]
    target_fqdns: tuple[str, ...]
    target_urls: tuple[str, ...]
    fqdn_tags: tuple[str, ...]
    web_categories: tuple[str, ...]
    # The rule object and its collection's action exactly as read: a remediation script compares
    # them with what Azure holds at apply time and refuses to edit a rule that has changed since.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    raw_action: str = field(default="", compare=False, repr=False)
    # Why a datum of this rule (or of its collection) could not be read: a rule missing its name,
    # kind, action, priority, protocols, ports, sources or targets is not a narrower rule, it is an
    # unknown one. A check never judges such a rule `pass`; its owner reports the gap.
    gaps: tuple[str, ...] = ()

    @property
    def allows(self) -> bool:
        return self.action == "allow"


def is_unrestricted_address(value: str) -> bool:
    return value.strip().lower() in UNRESTRICTED_ADDRESSES


def is_full_port_range(value: str) -> bool:
    return value.replace(" ", "") in FULL_PORT_RANGES


def _priority(value: Any, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None:
        return 0
    raise RowError(f"'{key}' is {type(value).__name__}, expected an integer")


def _protocols(raw: Any, key: str) -> tuple[str, ...]:
    """Application rule protocols are objects ({protocolType, port}); network ones are strings."""
    result = []
    for index, item in enumerate(arr(raw, key)):
        if type(item) is str:  # a network rule's, without the abstract-class check below
            result.append(item)
        elif isinstance(item, Mapping):
            kind = text(item.get("protocolType"), f"{key}[{index}].protocolType")
            port = item.get("port")
            result.append(f"{kind}:{port}" if port is not None else kind)
        else:
            result.append(text(item, f"{key}[{index}]"))
    return tuple(result)


ACTIONS = frozenset({"allow", "deny", "dnat", "snat"})


def _listed(gaps: list[str], raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of strings of a rule; a null element is a value that could not be read."""
    value = raw.get(key)
    found = () if value is None else plain_strings(value)
    if found is not None and all(found):  # the common case: absent, or non-empty strings kept whole
        return found
    if isinstance(value, list) and any(item is None for item in value):
        gaps.append(f"'{where}.{key}' holds an element that is null")
    return tuple(item for item in strings(value, f"{where}.{key}") if item)


def _rule_gaps(raw: Mapping[str, Any], where: str, kind: str, protocols_key: str, sides: Mapping[str, tuple]) -> list[str]:
    """What Azure always returns for a rule of this kind and this row lacks.

    Azure refuses a rule without a name, protocols, sources, or (network) ports and destinations,
    or (application) targets, so a row without one was not read whole."""
    gaps = []
    if not isinstance(raw.get("name"), str) or not raw["name"].strip():
        gaps.append(f"'{where}.name' is missing or empty")
    if kind not in (NETWORK, APPLICATION, NAT):
        gaps.append(f"'{where}.ruleType' is missing or not a known rule type, so what kind of rule it is is unknown")
        return gaps
    protocols = raw.get(protocols_key)
    if kind != NAT and (not isinstance(protocols, list) or not protocols):
        gaps.append(f"'{where}.{protocols_key}' is missing or empty")
    elif isinstance(protocols, list) and any(p is None or (type(p) is not str and isinstance(p, Mapping)
                                                           and not p.get("protocolType")) for p in protocols):
        gaps.append(f"'{where}.{protocols_key}' holds a protocol that could not be read")
    if not sides["sourceAddresses"] and not sides["sourceIpGroups"]:
        gaps.append(f"'{where}' lists no source address or IP group")
    if kind == NETWORK:
        if not sides["destinationPorts"]:
            gaps.append(f"'{where}.destinationPorts' is missing or empty")
        if not (sides["destinationAddresses"] or sides["destinationIpGroups"] or sides["destinationFqdns"]):
            gaps.append(f"'{where}' lists no destination")
    elif kind == APPLICATION:
        if not (sides["targetFqdns"] or sides["targetUrls"] or sides["fqdnTags"] or sides["webCategories"]):
            gaps.append(f"'{where}' lists no target FQDN, URL, FQDN tag or web category")
    return gaps


_SIDES = ("sourceAddresses", "sourceIpGroups", "destinationAddresses", "destinationIpGroups", "destinationFqdns",
          "destinationPorts", "targetFqdns", "targetUrls", "fqdnTags", "webCategories")


def _rule(raw: Any, where: str, *, kind: str, action: str, collection: str, collection_priority: int,
          group_priority: int, owner_id: str, locus: str, raw_action: str = "",
          collection_gaps: tuple[str, ...] = ()) -> FirewallRule:
    raw = obj(raw, where)
    protocols_key = "ipProtocols" if "ipProtocols" in raw else "protocols"
    gaps: list[str] = list(collection_gaps)
    sides = {key: _listed(gaps, raw, key, where) for key in _SIDES}
    gaps += _rule_gaps(raw, where, kind, protocols_key, sides)
    return FirewallRule(
        name=text(raw.get("name"), f"{where}.name"),
        kind=kind,
        action=action,
        collection=collection,
        collection_priority=collection_priority,
        group_priority=group_priority,
        owner_id=owner_id,
        locus=locus,
        protocols=_protocols(raw.get(protocols_key), f"{where}.{protocols_key}"),
        source_addresses=sides["sourceAddresses"],
        source_ip_groups=sides["sourceIpGroups"],
        destination_addresses=sides["destinationAddresses"],
        destination_ip_groups=sides["destinationIpGroups"],
        destination_fqdns=sides["destinationFqdns"],
        destination_ports=sides["destinationPorts"],
        target_fqdns=sides["targetFqdns"],
        target_urls=sides["targetUrls"],
        fqdn_tags=sides["fqdnTags"],
        web_categories=sides["webCategories"],
        raw=dict(raw),
        raw_action=raw_action,
        gaps=tuple(dict.fromkeys(gaps)),
    )


def _collection_gaps(name: Any, action: str, priority: Any, where: str, action_key: str) -> tuple[str, ...]:
    """What every rule of a collection inherits: its name (in the rule's locus), action and priority."""
    gaps = []
    if not isinstance(name, str) or not name.strip():
        gaps.append(f"'{where}.name' is missing or empty")
    if action.lower() not in ACTIONS:
        gaps.append(f"'{where}.{action_key}' is missing or not a known action, so whether its rules allow or deny "
                    f"is unknown")
    if priority is None:
        gaps.append(f"'{where}.priority' is missing, so where its rules come in processing order is unknown")
    return tuple(gaps)


def _collection_rules(raw_rules: list[Any], where: str, gaps: Gaps,
                      build: Callable[[Mapping[str, Any], str], FirewallRule]) -> list[FirewallRule]:
    """A collection's rules, built one by one; a null rule, and every datum a rule lacks, go to `gaps`."""
    rules = []
    for index, raw in enumerate(raw_rules):
        rule_where = f"{where}[{index}]"
        if raw is None:
            gaps[rule_where] = f"'{rule_where}' is null, so what the rule does is unknown"
            continue
        built = build(obj(raw, rule_where), rule_where)
        rules.append(built)
        if built.gaps:
            gaps[rule_where] = "; ".join(built.gaps)
    return rules


_POLICY_RULE_KINDS = {"networkrule": NETWORK, "applicationrule": APPLICATION, "natrule": NAT}


def policy_rules(group_id: str, props: Mapping[str, Any]) -> tuple[tuple[FirewallRule, ...], Gaps]:
    """Rules of a rule collection group, in the group's own order, and what of them could not be
    read at all (a collection or rule that is null, a collection without its rule list)."""
    group_priority = _priority(props.get("priority"), "properties.priority")
    rules: list[FirewallRule] = []
    gaps: Gaps = {}
    for c_index, raw in enumerate(arr(props.get("ruleCollections"), "properties.ruleCollections")):
        where = f"properties.ruleCollections[{c_index}]"
        if raw is None or (isinstance(raw, Mapping) and raw.get("rules") is None):
            gaps[where] = f"'{where}' is null or has no rule list, so which rules it holds is unknown"
            continue
        collection = obj(raw, where)
        name = text(collection.get("name"), f"{where}.name")
        raw_action = text(obj(collection.get("action"), f"{where}.action").get("type"), f"{where}.action.type")
        action = raw_action.lower()
        nat_collection = text(collection.get("ruleCollectionType"), f"{where}.ruleCollectionType").lower() \
            == "firewallpolicynatrulecollection"
        priority = _priority(collection.get("priority"), f"{where}.priority")
        inherited = _collection_gaps(collection.get("name"), action, collection.get("priority"), where, "action.type")

        def build(rule: Mapping[str, Any], rule_where: str) -> FirewallRule:
            rule_type = text(rule.get("ruleType"), f"{rule_where}.ruleType").lower()
            kind = NAT if nat_collection else _POLICY_RULE_KINDS.get(rule_type, rule_type)
            rule_name = text(rule.get("name"), f"{rule_where}.name")
            return _rule(rule, rule_where, kind=kind, action=action, collection=name, collection_priority=priority,
                         group_priority=group_priority, owner_id=group_id,
                         locus=f"ruleCollections/{name}/rules/{rule_name}", raw_action=raw_action,
                         collection_gaps=inherited)

        rules += _collection_rules(arr(collection.get("rules"), f"{where}.rules"), f"{where}.rules", gaps, build)
    return tuple(rules), gaps


CLASSIC_COLLECTIONS = (
    ("networkRuleCollections", NETWORK),
    ("applicationRuleCollections", APPLICATION),
    ("natRuleCollections", NAT),
)


def classic_rules(firewall_id: str, props: Mapping[str, Any]) -> tuple[tuple[FirewallRule, ...], Gaps]:
    """Inline rules of a firewall without policy (locus names the ARM property path), and what of
    them could not be read at all."""
    rules: list[FirewallRule] = []
    gaps: Gaps = {}
    for key, kind in CLASSIC_COLLECTIONS:
        for c_index, raw in enumerate(arr(props.get(key), f"properties.{key}")):
            where = f"properties.{key}[{c_index}]"
            collection = obj(raw, where)
            c_props = obj(collection.get("properties"), f"{where}.properties")
            if raw is None or c_props.get("rules") is None:
                gaps[where] = f"'{where}' is null or has no rule list, so which rules it holds is unknown"
                continue
            name = text(collection.get("name"), f"{where}.name")
            raw_action = text(obj(c_props.get("action"), f"{where}.properties.action").get("type"),
                              f"{where}.properties.action.type")
            action = raw_action.lower()
            priority = _priority(c_props.get("priority"), f"{where}.properties.priority")
            inherited = _collection_gaps(collection.get("name"), action, c_props.get("priority"), where,
                                         "properties.action.type")

            def build(rule: Mapping[str, Any], rule_where: str) -> FirewallRule:
                rule_name = text(rule.get("name"), f"{rule_where}.name")
                return _rule(rule, rule_where, kind=kind, action=action, collection=name,
                             collection_priority=priority, group_priority=0, owner_id=firewall_id,
                             locus=f"{key}/{name}/rules/{rule_name}", raw_action=raw_action,
                             collection_gaps=inherited)

            rules += _collection_rules(arr(c_props.get("rules"), f"{where}.properties.rules"),
                                       f"{where}.properties.rules", gaps, build)
    return tuple(rules), gaps
