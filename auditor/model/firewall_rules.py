"""One normalised shape for Azure Firewall rules, whether classic or policy-based.

Classic firewalls keep rules inline (network/application/nat rule collections); firewall
policies keep them in rule collection groups. Checks reason about one `FirewallRule` type and
a `locus` that says where the rule lives inside its resource.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from aksaudit.model.row_fields import RowError, arr, obj, strings, text

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
        if isinstance(item, Mapping):
            kind = text(item.get("protocolType"), f"{key}[{index}].protocolType")
            port = item.get("port")
            result.append(f"{kind}:{port}" if port is not None else kind)
        else:
            result.append(text(item, f"{key}[{index}]"))
    return tuple(result)


def _rule(raw: Any, where: str, *, kind: str, action: str, collection: str, collection_priority: int,
          group_priority: int, owner_id: str, locus: str, raw_action: str = "") -> FirewallRule:
    raw = obj(raw, where)
    protocols_key = "ipProtocols" if "ipProtocols" in raw else "protocols"
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
        source_addresses=strings(raw.get("sourceAddresses"), f"{where}.sourceAddresses"),
        source_ip_groups=strings(raw.get("sourceIpGroups"), f"{where}.sourceIpGroups"),
        destination_addresses=strings(raw.get("destinationAddresses"), f"{where}.destinationAddresses"),
        destination_ip_groups=strings(raw.get("destinationIpGroups"), f"{where}.destinationIpGroups"),
        destination_fqdns=strings(raw.get("destinationFqdns"), f"{where}.destinationFqdns"),
        destination_ports=strings(raw.get("destinationPorts"), f"{where}.destinationPorts"),
        target_fqdns=strings(raw.get("targetFqdns"), f"{where}.targetFqdns"),
        target_urls=strings(raw.get("targetUrls"), f"{where}.targetUrls"),
        fqdn_tags=strings(raw.get("fqdnTags"), f"{where}.fqdnTags"),
        web_categories=strings(raw.get("webCategories"), f"{where}.webCategories"),
        raw=dict(raw),
        raw_action=raw_action,
    )


_POLICY_RULE_KINDS = {"networkrule": NETWORK, "applicationrule": APPLICATION, "natrule": NAT}


def policy_rules(group_id: str, props: Mapping[str, Any]) -> tuple[FirewallRule, ...]:
    """Rules of a rule collection group, in the group's own order."""
    group_priority = _priority(props.get("priority"), "properties.priority")
    rules: list[FirewallRule] = []
    for c_index, raw in enumerate(arr(props.get("ruleCollections"), "properties.ruleCollections")):
        where = f"properties.ruleCollections[{c_index}]"
        collection = obj(raw, where)
        name = text(collection.get("name"), f"{where}.name")
        raw_action = text(obj(collection.get("action"), f"{where}.action").get("type"), f"{where}.action.type")
        action = raw_action.lower()
        nat_collection = text(collection.get("ruleCollectionType"), f"{where}.ruleCollectionType").lower() \
            == "firewallpolicynatrulecollection"
        priority = _priority(collection.get("priority"), f"{where}.priority")
        for r_index, rule in enumerate(arr(collection.get("rules"), f"{where}.rules")):
            rule_where = f"{where}.rules[{r_index}]"
            rule_type = text(obj(rule, rule_where).get("ruleType"), f"{rule_where}.ruleType").lower()
            kind = NAT if nat_collection else _POLICY_RULE_KINDS.get(rule_type, rule_type or NETWORK)
            rule_name = text(obj(rule, rule_where).get("name"), f"{rule_where}.name")
            rules.append(_rule(rule, rule_where, kind=kind, action=action, collection=name,
                               collection_priority=priority, group_priority=group_priority, owner_id=group_id,
                               locus=f"ruleCollections/{name}/rules/{rule_name}", raw_action=raw_action))
    return tuple(rules)


_CLASSIC_COLLECTIONS = (
    ("networkRuleCollections", NETWORK),
    ("applicationRuleCollections", APPLICATION),
    ("natRuleCollections", NAT),
)


def classic_rules(firewall_id: str, props: Mapping[str, Any]) -> tuple[FirewallRule, ...]:
    """Inline rules of a firewall without policy; locus names the ARM property path."""
    rules: list[FirewallRule] = []
    for key, kind in _CLASSIC_COLLECTIONS:
        for c_index, raw in enumerate(arr(props.get(key), f"properties.{key}")):
            where = f"properties.{key}[{c_index}]"
            collection = obj(raw, where)
            name = text(collection.get("name"), f"{where}.name")
            c_props = obj(collection.get("properties"), f"{where}.properties")
            raw_action = text(obj(c_props.get("action"), f"{where}.properties.action").get("type"),
                              f"{where}.properties.action.type")
            action = raw_action.lower()
            priority = _priority(c_props.get("priority"), f"{where}.properties.priority")
            for r_index, rule in enumerate(arr(c_props.get("rules"), f"{where}.properties.rules")):
                rule_where = f"{where}.properties.rules[{r_index}]"
                rule_name = text(obj(rule, rule_where).get("name"), f"{rule_where}.name")
                rules.append(_rule(rule, rule_where, kind=kind, action=action, collection=name,
                                   collection_priority=priority, group_priority=0, owner_id=firewall_id,
                                   locus=f"{key}/{name}/rules/{rule_name}", raw_action=raw_action))
    return tuple(rules)
