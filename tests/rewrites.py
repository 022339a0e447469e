"""Semantically equivalent rewrites of Resource Graph rows, for the metamorphic tests.

Each rewrite is a pure function `(rows, choose) -> Rewritten`: it never mutates its input (rows it
edits are copied, the others shared) and all its freedom comes from `choose(n)`, which returns an
index in `range(n)`. The tests back `choose` with Hypothesis, so Hypothesis picks where a rewrite
applies (every eligible site asks `choose(2)`: 0 rewrites it, 1 leaves it) and how (split points,
orders, casings). Index 0 is always the most thorough choice, so the simplest example Hypothesis
tries first rewrites every eligible site (`EVERYWHERE`).

Why these rewrites are equivalent (what Azure documents, and what a verdict about traffic must
therefore not notice):

* a CIDR is the union of its two halves, and a CIDR is the `a-b` range of its first and last
  address (Azure Firewall rules and IP groups accept ranges; routes need CIDRs, so they are only split);
* a route split into two half-prefix routes with the same next hop decides every destination the
  same way: longest-prefix match picks a half wherever it picked the whole, no other route sits
  between `/n` and `/n+1`, and a user route wins ties with BGP and system routes;
* a port range (or `*`) is the union of two adjacent ranges;
* a rule matches when source, destination, port and protocol each match one of its entries, so a
  rule equals two rules in the same collection that partition its destinations, ports or targets;
  a rule's literal addresses equal an IP group holding them;
* rows come in no defined order, JSON objects have no key order, ARM ids are ASCII
  case-insensitive.

Where a rewrite creates an object, `Rewritten` maps it back: `ids` maps a new (lower-cased)
resource id to the original one (the upper half of a split route to the route), `loci` maps
(lower-cased resource id, new locus) to the original locus (the second half of a split rule to the
rule). `Rewritten.original` applies both to a finding key, so finding sets compare exactly.
"""
from __future__ import annotations

import copy
import ipaddress
import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

Choose = Callable[[int], int]
Rows = Sequence[Any]
FindingKey = tuple[str, str, str]

T_FIREWALL = "microsoft.network/azurefirewalls"
T_RCG = "microsoft.network/firewallpolicies/rulecollectiongroups"
T_IP_GROUP = "microsoft.network/ipgroups"
T_ROUTE_TABLE = "microsoft.network/routetables"
NETWORK, APPLICATION = "network", "application"
_CLASSIC = (("networkRuleCollections", NETWORK), ("applicationRuleCollections", APPLICATION))
_POLICY_KINDS = {"networkrule": NETWORK, "applicationrule": APPLICATION}
_ID_PREFIX = "/subscriptions/"
MAX_PORT = 65535


def EVERYWHERE(n: int) -> int:
    """The chooser that rewrites every eligible site, with the default parameters."""
    return 0


@dataclass(frozen=True)
class Rewritten:
    """Rewritten rows, how many sites changed, and how new ids and loci map to the originals."""

    rows: list[Any]
    sites: int
    ids: Mapping[str, str] = field(default_factory=dict)
    loci: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def original(self, key: FindingKey) -> FindingKey:
        check_id, resource_id, locus = key
        resource_id = resource_id.lower()
        locus = self.loci.get((resource_id, locus), locus)
        return check_id, self.ids.get(resource_id, resource_id), locus


# --- addresses and ports ---------------------------------------------------------------------------

def _cidr(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR written with an explicit prefix and no host bits, that has two halves; else None."""
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        network = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError:
        return None
    return network if network.prefixlen < network.max_prefixlen else None


def halves(value: str) -> tuple[str, str] | None:
    network = _cidr(value)
    if network is None:
        return None
    low, high = network.subnets(prefixlen_diff=1)
    return str(low), str(high)


def as_range(value: str) -> str | None:
    """An IPv4 CIDR as the `first-last` range Azure Firewall accepts (it takes no IPv6 ranges)."""
    network = _cidr(value)
    if network is None or network.version != 4:
        return None
    return f"{network.network_address}-{network.broadcast_address}"


def is_literal_address(value: Any) -> bool:
    """An IP, CIDR or `a-b` range: what an IP group may hold (service tags, `*` and FQDNs may not)."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    parts = text.split("-")
    try:
        if len(parts) == 2:
            ipaddress.ip_address(parts[0])
            ipaddress.ip_address(parts[1])
        else:
            ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


_PORT_RANGE = re.compile(r"\s*([0-9]{1,5})\s*-\s*([0-9]{1,5})\s*")


def port_bounds(value: Any) -> tuple[int, int] | None:
    """(low, high) of a splittable destination port entry: `a-b` with a < b, or `*`."""
    if not isinstance(value, str):
        return None
    if value.strip() == "*":
        return 0, MAX_PORT
    match = _PORT_RANGE.fullmatch(value)
    if not match:
        return None
    low, high = int(match.group(1)), int(match.group(2))
    return (low, high) if low < high <= MAX_PORT else None


def split_ports(value: str, choice: int = 0) -> tuple[str, str] | None:
    """Two adjacent ranges; `choice` 0 splits in the middle, others move the split point."""
    bounds = port_bounds(value)
    if bounds is None:
        return None
    low, high = bounds
    width = high - low  # number of possible split points
    cut = low + ((high - low - 1) // 2 + choice) % width
    return f"{low}-{cut}", f"{cut + 1}-{high}"


# --- walking rows ------------------------------------------------------------------------------------

def row_type(row: Any) -> str:
    """A row's lower-cased type ('' when it has none)."""
    return row.get("type", "").lower() if isinstance(row, dict) and isinstance(row.get("type"), str) else ""


def _props(value: Any) -> dict:
    props = value.get("properties") if isinstance(value, dict) else None
    return props if isinstance(props, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


@dataclass
class RuleSite:
    """A filter rule inside a (copied) row: its collection's rule list, and where it lives."""

    owner_id: str  # lower-cased id of the firewall (classic) or rule collection group (policy)
    kind: str
    rules: list  # the collection's rule list (the rule is rules[index])
    index: int
    locus_prefix: str  # the locus of the rule minus its name

    @property
    def rule(self) -> dict:
        return self.rules[self.index]


def filter_rules(row: Any) -> Iterator[RuleSite]:
    """Network and application rules of a classic firewall or a rule collection group (not DNAT)."""
    owner = row.get("id", "").lower() if isinstance(row.get("id"), str) else ""
    if row_type(row) == T_FIREWALL:
        for key, kind in _CLASSIC:
            for collection in _list(_props(row).get(key)):
                if not isinstance(collection, dict) or not isinstance(collection.get("name"), str):
                    continue
                rules = _list(_props(collection).get("rules"))
                for index in range(len(rules)):
                    if isinstance(rules[index], dict) and isinstance(rules[index].get("name"), str):
                        yield RuleSite(owner, kind, rules, index, f"{key}/{collection['name']}/rules/")
    elif row_type(row) == T_RCG:
        for collection in _list(_props(row).get("ruleCollections")):
            if not isinstance(collection, dict) or not isinstance(collection.get("name"), str):
                continue
            kind_of = str(collection.get("ruleCollectionType", "")).lower()
            if kind_of != "firewallpolicyfilterrulecollection":
                continue
            rules = _list(collection.get("rules"))
            for index in range(len(rules)):
                rule = rules[index]
                if not isinstance(rule, dict) or not isinstance(rule.get("name"), str):
                    continue
                kind = _POLICY_KINDS.get(str(rule.get("ruleType", "")).lower())
                if kind:
                    yield RuleSite(owner, kind, rules, index, f"ruleCollections/{collection['name']}/rules/")


def address_fields(kind: str) -> tuple[str, ...]:
    """Rule fields holding literal addresses (application rules have literal sources only)."""
    return ("sourceAddresses", "destinationAddresses") if kind == NETWORK else ("sourceAddresses",)


class _Copy:
    """Copy-on-write rows: a row is deep-copied the first time a rewrite may edit it."""

    def __init__(self, rows: Rows) -> None:
        self.rows = list(rows)

    def editable(self, index: int) -> Any:
        self.rows[index] = copy.deepcopy(self.rows[index])
        return self.rows[index]

    def of_type(self, *types: str) -> Iterator[Any]:
        for index, row in enumerate(list(self.rows)):
            if row_type(row) in types:
                yield self.editable(index)


def _rewrite_items(items: list, choose: Choose, one: Callable[[str], Sequence[str] | None]) -> int:
    """Replace, in place, each item `one` can rewrite (and `choose` picks) by its rewriting."""
    sites, result = 0, []
    for item in items:
        replacement = one(item)
        if replacement is not None and choose(2) == 0:
            result.extend(replacement)
            sites += 1
        else:
            result.append(item)
    items[:] = result
    return sites


def _rule_addresses(rows: Rows, choose: Choose, one: Callable[[str], Sequence[str] | None],
                    kinds: tuple[str, ...] = (NETWORK, APPLICATION)) -> Rewritten:
    out, sites = _Copy(rows), 0
    for row in out.of_type(T_FIREWALL, T_RCG):
        for site in filter_rules(row):
            if site.kind not in kinds:
                continue
            for name in address_fields(site.kind):
                if isinstance(site.rule.get(name), list):
                    sites += _rewrite_items(site.rule[name], choose, one)
    return Rewritten(out.rows, sites)


def _ip_group_addresses(rows: Rows, choose: Choose, one: Callable[[str], Sequence[str] | None]) -> Rewritten:
    out, sites = _Copy(rows), 0
    for row in out.of_type(T_IP_GROUP):
        addresses = _props(row).get("ipAddresses")
        if isinstance(addresses, list):
            sites += _rewrite_items(addresses, choose, one)
    return Rewritten(out.rows, sites)


# --- the rewrites -------------------------------------------------------------------------------------

def split_rule_cidrs(rows: Rows, choose: Choose) -> Rewritten:
    """Firewall rule source/destination CIDRs -> their two halves, in the same rule."""
    return _rule_addresses(rows, choose, halves)


def split_ip_group_cidrs(rows: Rows, choose: Choose) -> Rewritten:
    """IP group CIDRs -> their two halves, in the same group."""
    return _ip_group_addresses(rows, choose, halves)


def rule_cidrs_as_ranges(rows: Rows, choose: Choose) -> Rewritten:
    """Network rule IPv4 CIDRs written as `first-last` ranges (Azure documents ranges for network
    rules and IP groups; application rules take ranges through IP groups)."""
    return _rule_addresses(rows, choose, lambda v: (r,) if (r := as_range(v)) else None, (NETWORK,))


def ip_group_cidrs_as_ranges(rows: Rows, choose: Choose) -> Rewritten:
    """IP group IPv4 CIDRs written as `first-last` ranges."""
    return _ip_group_addresses(rows, choose, lambda v: (r,) if (r := as_range(v)) else None)


def split_port_ranges(rows: Rows, choose: Choose) -> Rewritten:
    """Network rule destination ports `a-b` (or `*`) -> two adjacent ranges, in the same rule."""
    out, sites = _Copy(rows), 0
    for row in out.of_type(T_FIREWALL, T_RCG):
        for site in filter_rules(row):
            ports = site.rule.get("destinationPorts")
            if site.kind == NETWORK and isinstance(ports, list):
                sites += _rewrite_items(ports, choose, lambda p: _split_port_choosing(p, choose))
    return Rewritten(out.rows, sites)


def _split_port_choosing(port: str, choose: Choose) -> tuple[str, str] | None:
    bounds = port_bounds(port)
    return split_ports(port, choose(bounds[1] - bounds[0])) if bounds else None


def split_routes(rows: Rows, choose: Choose) -> Rewritten:
    """A route with a CIDR prefix -> two routes, one per half, with the same next hop.

    The original route keeps its name and id with the lower half; the upper half is a new route
    `<name>-upper` whose id maps back to the original. A split whose half is already a prefix of the
    same table is not made (two routes with one prefix are not allowed).
    """
    out, sites, ids = _Copy(rows), 0, {}
    for row in out.of_type(T_ROUTE_TABLE):
        routes = _props(row).get("routes")
        if not isinstance(routes, list):
            continue
        prefixes = {str(_props(r).get("addressPrefix", "")).strip() for r in routes if isinstance(r, dict)}
        names = {r.get("name") for r in routes if isinstance(r, dict)}
        result = []
        for route in routes:
            result.append(route)
            if not isinstance(route, dict) or not isinstance(route.get("name"), str):
                continue
            parts = halves(_props(route).get("addressPrefix"))
            if parts is None or set(parts) & prefixes or choose(2) != 0:
                continue
            upper = copy.deepcopy(route)
            upper["name"] = _fresh(f"{route['name']}-upper", names)
            route["properties"]["addressPrefix"], upper["properties"]["addressPrefix"] = parts
            table_id = row.get("id", "") if isinstance(row.get("id"), str) else ""
            old_id = route.get("id") if isinstance(route.get("id"), str) else f"{table_id}/routes/{route['name']}"
            upper["id"] = f"{table_id}/routes/{upper['name']}"
            ids[upper["id"].lower()] = old_id.lower()
            prefixes |= set(parts)
            result.append(upper)
            sites += 1
        routes[:] = result
    return Rewritten(out.rows, sites, ids)


def _fresh(name: str, taken: set) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    taken.add(candidate)
    return candidate


def move_addresses_to_ip_groups(rows: Rows, choose: Choose) -> Rewritten:
    """A rule's literal IPs, CIDRs and ranges -> a new IP group row referenced by the rule.

    `sourceAddresses` move to `sourceIpGroups`, `destinationAddresses` to `destinationIpGroups`;
    what an IP group cannot hold (`*`, service tags) stays literal. The group lives in the rule
    owner's subscription, resource group and region.
    """
    out, sites = _Copy(rows), 0
    taken = {r.get("name") for r in rows if row_type(r) == T_IP_GROUP}
    new_rows = []
    for row in out.of_type(T_FIREWALL, T_RCG):
        for site in filter_rules(row):
            for name in address_fields(site.kind):
                addresses = site.rule.get(name)
                if not isinstance(addresses, list):
                    continue
                movable = [a for a in addresses if is_literal_address(a)]
                if not movable or choose(2) != 0:
                    continue
                group = _ip_group_row(row, _fresh("ipg-moved", taken), movable)
                new_rows.append(group)
                addresses[:] = [a for a in addresses if not is_literal_address(a)]
                groups_key = name.replace("Addresses", "IpGroups")
                site.rule[groups_key] = [*_list(site.rule.get(groups_key)), group["id"]]
                sites += 1
    return Rewritten(out.rows + new_rows, sites)


def _ip_group_row(owner: dict, name: str, addresses: list) -> dict:
    parts = str(owner.get("id", "")).split("/")
    subscription, group = (parts[2], parts[4]) if len(parts) > 4 else ("00000000-0000-0000-0000-000000000000", "rg")
    return {"id": f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Network/ipGroups/{name}",
            "name": name, "type": T_IP_GROUP, "location": owner.get("location", ""), "resourceGroup": group,
            "subscriptionId": subscription,
            "properties": {"provisioningState": "Succeeded", "ipAddresses": list(addresses)}}


# Which fields of a rule make up each dimension a split may partition.
NETWORK_DESTINATIONS = ("destinationAddresses", "destinationIpGroups", "destinationFqdns")
NETWORK_PORTS = ("destinationPorts",)
APPLICATION_TARGETS = ("targetFqdns", "targetUrls", "fqdnTags", "webCategories")


def _dimensions(kind: str) -> tuple[tuple[str, ...], ...]:
    return (NETWORK_DESTINATIONS, NETWORK_PORTS) if kind == NETWORK else (APPLICATION_TARGETS,)


def _items(rule: dict, fields: tuple[str, ...]) -> list[tuple[str, Any]]:
    return [(f, v) for f in fields for v in _list(rule.get(f))]


def _halve_one(items: list[tuple[str, Any]]) -> list[tuple[str, Any]] | None:
    """A single-entry dimension made splittable by halving its entry (a CIDR or a port range)."""
    (name, value), = items
    parts = {"destinationAddresses": halves, "destinationPorts": split_ports}.get(name, lambda _: None)(value)
    return [(name, p) for p in parts] if parts else None


def split_rules(rows: Rows, choose: Choose, kinds: tuple[str, ...] = (NETWORK, APPLICATION)) -> Rewritten:
    """One rule -> two rules in the same collection, partitioning its destinations, ports or targets.

    A dimension with a single entry is first halved (a CIDR into its halves, a port range into two),
    so even `* -> 0.0.0.0/0 : *` can be split. The second rule is named `<name>-part2`; its locus maps
    back to the original rule's.
    """
    out, sites, loci = _Copy(rows), 0, {}
    for row in out.of_type(T_FIREWALL, T_RCG):
        sites_here = [s for s in filter_rules(row) if s.kind in kinds]
        # Insert from the back of each list so earlier indexes stay valid.
        for site in reversed(sites_here):
            options = []
            for fields in _dimensions(site.kind):
                items = _items(site.rule, fields)
                if len(items) == 1:
                    items = _halve_one(items) or items
                if len(items) >= 2:
                    options.append((fields, items))
            if not options or choose(2) != 0:
                continue
            fields, items = options[choose(len(options))]
            # The first entry stays; each other one moves unless `choose` keeps it; one always moves.
            moves = [False] + [choose(2) == 0 for _ in items[1:]]
            if not any(moves):
                moves[-1] = True
            kept = [item for item, move in zip(items, moves) if not move]
            moved = [item for item, move in zip(items, moves) if move]
            first, second = site.rule, copy.deepcopy(site.rule)
            for rule, part in ((first, kept), (second, moved)):
                for name in fields:
                    if name in rule or any(f == name for f, _ in part):
                        rule[name] = [v for f, v in part if f == name]
            taken = {r.get("name") for r in site.rules if isinstance(r, dict)}
            second["name"] = _fresh(f"{first['name']}-part2", taken)
            site.rules.insert(site.index + 1, second)
            loci[(site.owner_id, site.locus_prefix + second["name"])] = site.locus_prefix + first["name"]
            sites += 1
    return Rewritten(out.rows, sites, {}, loci)


def split_network_rules(rows: Rows, choose: Choose) -> Rewritten:
    return split_rules(rows, choose, (NETWORK,))


def split_application_rules(rows: Rows, choose: Choose) -> Rewritten:
    return split_rules(rows, choose, (APPLICATION,))


def _permute(items: list, choose: Choose) -> list:
    """A permutation of `items` picked by `choose` (all zeros: reversed, so the default changes order)."""
    pool, result = list(reversed(items)), []
    while pool:
        result.append(pool.pop(choose(len(pool)) if len(pool) > 1 else 0))
    return result


def reorder_target_fqdns(rows: Rows, choose: Choose) -> Rewritten:
    """Application rule `targetFqdns` in another order."""
    out, sites = _Copy(rows), 0
    for row in out.of_type(T_FIREWALL, T_RCG):
        for site in filter_rules(row):
            targets = site.rule.get("targetFqdns")
            if site.kind == APPLICATION and isinstance(targets, list) and len(targets) > 1:
                targets[:] = _permute(targets, choose)
                sites += 1
    return Rewritten(out.rows, sites)


def reorder_rows(rows: Rows, choose: Choose) -> Rewritten:
    """The rows in another order (Resource Graph promises none)."""
    return Rewritten(_permute(list(rows), choose) if len(rows) > 1 else list(rows), int(len(rows) > 1))


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: _shuffled(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


def reorder_keys(rows: Rows, choose: Choose) -> Rewritten:
    """Every JSON object with its keys in another order (one seed drives every shuffle)."""
    rng = random.Random(choose(2**32))
    return Rewritten([_shuffled(row, rng) for row in rows], len(rows))


_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_case(text: str, rng: random.Random | None, style: int) -> str:
    """ARM compares ids ASCII case-insensitively: only ASCII letters change case (never 'ß' or 'ı')."""
    if style == 0:
        return text.translate(_UPPER)
    if style == 1:
        return text.translate(_LOWER)
    assert rng is not None
    return "".join(c.translate(_UPPER if rng.random() < 0.5 else _LOWER) for c in text)


def _upper(text: str) -> str:
    return ascii_case(text, None, 0)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and value[:len(_ID_PREFIX)].lower() == _ID_PREFIX


def _map_ids(value: Any, recase: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {k: _map_ids(v, recase) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_ids(v, recase) for v in value]
    return recase(value) if _is_id(value) else value


def recase_ids_consistently(rows: Rows, choose: Choose) -> Rewritten:
    """Every ARM id (any string starting `/subscriptions/`) re-cased, each path segment the same way
    wherever it occurs, so every id is spelled one way throughout (default: all upper case)."""
    style, rng, chosen = choose(3), random.Random(choose(2**32)), {}

    def segment(part: str) -> str:
        if part.lower() not in chosen:
            chosen[part.lower()] = ascii_case(part, rng, style)
        return chosen[part.lower()]

    return Rewritten([_map_ids(row, lambda v: "/".join(segment(p) for p in v.split("/"))) for row in rows], len(rows))


def recase_ids_per_reference(rows: Rows, choose: Choose) -> Rewritten:
    """Every occurrence of an ARM id re-cased on its own, so a reference and the row it names differ.

    Default: each row's own id lower case and every reference to it upper case; otherwise each
    occurrence gets its own random casing.
    """
    if choose(2) == 0:
        return Rewritten([{k: ascii_case(v, None, 1) if k == "id" and _is_id(v) else _map_ids(v, _upper)
                           for k, v in row.items()} if isinstance(row, dict) else row for row in rows], len(rows))
    rng = random.Random(choose(2**32))
    return Rewritten([_map_ids(row, lambda v: ascii_case(v, rng, rng.randrange(3))) for row in rows], len(rows))


REWRITES: dict[str, Callable[[Rows, Choose], Rewritten]] = {
    "split_rule_cidrs": split_rule_cidrs,
    "split_ip_group_cidrs": split_ip_group_cidrs,
    "split_routes": split_routes,
    "split_port_ranges": split_port_ranges,
    "move_addresses_to_ip_groups": move_addresses_to_ip_groups,
    "rule_cidrs_as_ranges": rule_cidrs_as_ranges,
    "ip_group_cidrs_as_ranges": ip_group_cidrs_as_ranges,
    "split_network_rules": split_network_rules,
    "split_application_rules": split_application_rules,
    "reorder_target_fqdns": reorder_target_fqdns,
    "reorder_rows": reorder_rows,
    "reorder_keys": reorder_keys,
    "recase_ids_consistently": recase_ids_consistently,
    "recase_ids_per_reference": recase_ids_per_reference,
}


# --- widening: not a rewrite, the opposite ---------------------------------------------------------

ANY_ANY_NAME = "any-any"
WIDEN_COLLECTION = "widen-any"
EVERY_IPV4 = "0.0.0.0-255.255.255.255"

# How to write "TCP from anywhere to every IPv4 address on every port": (the rules' destination
# addresses, destination IP group contents, destination ports). Several entries = several rules.
ANY_ANY_SPELLINGS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...]] = {
    "literal": ((("0.0.0.0/0",), (), ("*",)),),
    "cidr_halves_in_two_rules": ((("0.0.0.0/1",), (), ("*",)), (("128.0.0.0/1",), (), ("*",))),
    "address_range": (((EVERY_IPV4,), (), ("*",)),),
    "ip_group_holding_the_cidr": (((), ("0.0.0.0/0",), ("*",)),),
    "ip_group_holding_the_range": (((), (EVERY_IPV4,), ("*",)),),
    "ip_group_holding_halves": (((), ("0.0.0.0/1", "128.0.0.0/1"), ("*",)),),
    "port_range_halves": ((("0.0.0.0/0",), (), ("0-32767", "32768-65535")),),
}


def add_any_any_rule(rows: Rows, owner_id: str, spelling: str) -> Rewritten:
    """An Allow collection holding an any/any TCP network rule, written as `spelling`, added to the
    classic firewall or rule collection group `owner_id`; rules beyond the first map back to it."""
    out, loci, new_rows = _Copy(rows), {}, []
    index = next(i for i, r in enumerate(rows) if str(r.get("id", "")).lower() == owner_id.lower())
    owner = out.editable(index)
    classic = row_type(owner) == T_FIREWALL
    taken_groups = {r.get("name") for r in rows if row_type(r) == T_IP_GROUP}
    rules = []
    for number, (addresses, group_addresses, ports) in enumerate(ANY_ANY_SPELLINGS[spelling]):
        groups = []
        if group_addresses:
            group = _ip_group_row(owner, _fresh("ipg-everything", taken_groups), list(group_addresses))
            new_rows.append(group)
            groups.append(group["id"])
        name = ANY_ANY_NAME if number == 0 else f"{ANY_ANY_NAME}-part{number + 1}"
        rule = {"name": name, ("protocols" if classic else "ipProtocols"): ["TCP"], "sourceAddresses": ["*"],
                "sourceIpGroups": [], "destinationAddresses": list(addresses), "destinationIpGroups": groups,
                "destinationFqdns": [], "destinationPorts": list(ports)}
        rules.append(rule if classic else {"ruleType": "NetworkRule", **rule})
    prefix = f"{'networkRuleCollections' if classic else 'ruleCollections'}/{WIDEN_COLLECTION}/rules/"
    for rule in rules[1:]:
        loci[(owner_id.lower(), prefix + rule["name"])] = prefix + ANY_ANY_NAME
    props = owner.setdefault("properties", {})
    if classic:
        collections = props.setdefault("networkRuleCollections", [])
        used = {_props(c).get("priority") for c in collections if isinstance(c, dict)}
        collection = {"name": WIDEN_COLLECTION,
                      "properties": {"priority": _free_priority(used), "action": {"type": "Allow"}, "rules": rules}}
    else:
        collections = props.setdefault("ruleCollections", [])
        used = {c.get("priority") for c in collections if isinstance(c, dict)}
        collection = {"name": WIDEN_COLLECTION, "priority": _free_priority(used),
                      "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "action": {"type": "Allow"},
                      "rules": rules}
    collections.append(collection)
    return Rewritten(out.rows + new_rows, 1, {}, loci)


def _free_priority(used: set) -> int:
    return next(p for p in range(100, 65001) if p not in used)
