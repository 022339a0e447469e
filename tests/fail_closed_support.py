"""Removing one datum from an estate, and comparing what every check says before and after.

The monotonic fail-closed property: deleting a row, or deleting or nulling one field inside a
row, may make a verdict worse or unknown, never better. An estate is the rows of an example,
a check fixture or a scenario; every check in the registry runs on it in memory.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

from aksaudit.results.findings import Status
from aksaudit.model.estate import Estate, build_estate
from aksaudit.model.resources import T_CLUSTER
from aksaudit.run.registry import load_registry
from aksaudit.model.row_fields import id_key

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = load_registry()
_WEIGHT = {Status.PASS: 0, Status.SKIPPED: 1, Status.ERROR: 2, Status.FAIL: 3}

OutcomeKey = tuple[str, str, str]  # (check id, lower-cased resource id, locus)
Path_ = tuple[Any, ...]


@dataclass(frozen=True, eq=False)  # hashed by identity: loaded once, cached per object
class Source:
    """One estate: where it comes from, its rows and the per-check options it is judged with."""

    name: str
    rows: tuple[Any, ...]
    options: Mapping[str, Mapping[str, Any]]


def _load(path: Path) -> Source:
    document = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(document, dict):
        return Source(str(path.relative_to(ROOT)), tuple(document["estate"]), document.get("options", {}))
    return Source(str(path.relative_to(ROOT)), tuple(document), {})


@lru_cache(maxsize=None)
def sources(kind: str) -> tuple[Source, ...]:
    """Every estate of a kind: 'examples', 'fixtures' or 'scenarios'."""
    if kind == "examples":
        paths = [p for p in (ROOT / "examples").glob("*.json") if p.name != "expected.json"]
    elif kind == "fixtures":
        paths = [*(ROOT / "checks").rglob("good.json"), *(ROOT / "checks").rglob("bad.json")]
    else:
        paths = [p for p in (ROOT / "tests" / "scenarios").glob("*.json") if p.name != "expected.json"]
    return tuple(_load(p) for p in sorted(paths))


@dataclass(frozen=True)
class Mutation:
    """Delete row `row`, or delete / null the field at `path` inside it."""

    row: int
    path: Path_ = ()
    action: str = "delete"  # 'delete' or 'null'

    def apply(self, rows: tuple[Any, ...]) -> list[Any]:
        if not self.path:
            return [r for i, r in enumerate(rows) if i != self.row]
        changed = list(rows)
        row = changed[self.row] = copy.deepcopy(rows[self.row])
        parent = row
        for step in self.path[:-1]:
            parent = parent[step]
        if self.action == "null":
            parent[self.path[-1]] = None
        else:
            del parent[self.path[-1]]
        return changed

    def field(self, rows: tuple[Any, ...]) -> str:
        """'<row type>:<path with list indexes as []>', the key the known-gaps list uses."""
        kind = _row_type(rows[self.row])
        text = "".join(f"[]" if isinstance(step, int) else f".{step}" for step in self.path).lstrip(".")
        return f"{kind}:{text}" if self.path else f"{kind}:<row>"

    def describe(self, rows: tuple[Any, ...]) -> str:
        row = rows[self.row]
        rid = row.get("id", "") if isinstance(row, dict) else ""
        where = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in self.path).lstrip(".")
        return f"{self.action} {where or 'row'} of row {self.row} ({rid})"


def _walk(value: Any, prefix: Path_) -> Iterator[Mutation]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield Mutation(-1, prefix + (key,), "delete")
            if item is not None:
                yield Mutation(-1, prefix + (key,), "null")
            yield from _walk(item, prefix + (key,))
    elif isinstance(value, list):
        # A list element is nulled, not removed: removing one (a rule, a route) is a different,
        # equally readable estate, while a null element is one that could not be read.
        for index, item in enumerate(value):
            if item is not None:
                yield Mutation(-1, prefix + (index,), "null")
            yield from _walk(item, prefix + (index,))


@lru_cache(maxsize=None)
def mutations(source: Source) -> tuple[Mutation, ...]:
    found = []
    for index, row in enumerate(source.rows):
        found.append(Mutation(index))
        found.extend(Mutation(index, m.path, m.action) for m in _walk(row, ()))
    return tuple(found)


def outcomes(rows: list[Any], options: Mapping[str, Mapping[str, Any]]) -> tuple[Estate, dict[OutcomeKey, Status]]:
    """Every check's outcomes, merged the way the engine merges them (worst status wins); a check
    that raises counts as `error` on an empty resource id."""
    estate = build_estate(rows, source="mutated")
    merged: dict[OutcomeKey, Status] = {}
    for check in REGISTRY.checks:
        try:
            found = list(check.evaluate(estate, {**check.meta.options, **options.get(check.id, {})}))
        except Exception:  # noqa: BLE001 - a crash is reported as a violation, not raised
            merged[(check.id, "", "<raised>")] = Status.ERROR
            continue
        for outcome in found:
            key = (check.id, id_key(outcome.resource_id), outcome.locus)
            if key not in merged or _WEIGHT[outcome.status] > _WEIGHT[merged[key]]:
                merged[key] = outcome.status
    return estate, merged


@lru_cache(maxsize=None)
def baseline(source: Source) -> tuple[tuple[OutcomeKey, Status], ...]:
    return tuple(outcomes(list(source.rows), source.options)[1].items())


def _row_id(row: Any) -> str:
    value = row.get("id") if isinstance(row, dict) else None
    return id_key(value) if isinstance(value, str) else ""


def _row_type(row: Any) -> str:
    return str(row.get("type", "")).lower() if isinstance(row, dict) else ""


def _under(resource: str, owner: str) -> bool:
    return bool(owner) and (resource == owner or resource.startswith(owner + "/"))


def violations(source: Source, mutation: Mutation, meaningful_absence: Any, known_gaps: Any) -> list[str]:
    """What got better: a `fail` or `skipped` outcome now `pass`, or gone without its resource."""
    rows = source.rows
    before = dict(baseline(source))
    estate, after = outcomes(mutation.apply(rows), source.options)
    owner = _row_id(rows[mutation.row])
    field = mutation.field(rows)
    removed = not mutation.path or any(r.index == mutation.row for r in estate.rejected)
    # A cluster is what makes its subnets, route tables and load balancers AKS's: with its row gone
    # (or unreadable, which the scan reports) verdicts about them may go too.
    scope_removed = removed and _row_type(rows[mutation.row]) == T_CLUSTER
    skipped_on = {(check, resource) for (check, resource, _), status in after.items() if status is Status.SKIPPED}
    found = []
    if any(status is Status.ERROR and locus == "<raised>" for (_, _, locus), status in after.items()):
        found.append(f"a check raised after {mutation.describe(rows)}")
    for key, status in before.items():
        if status is Status.PASS:
            continue
        check, resource, locus = key
        if known_gaps(check, field):
            continue
        now = after.get(key)
        if now is Status.PASS:
            found.append(f"{check} {resource} {locus!r}: {status.value} -> pass after {mutation.describe(rows)}")
        elif now is None:
            if removed and _under(resource, owner):
                continue  # the resource was the deleted (or now unreadable) row, or inside it
            if (check, resource) in skipped_on or any(c == check and _under(r, owner) for c, r in skipped_on):
                continue  # the check says it could not judge the resource, or something in the row the datum is from
            if scope_removed or meaningful_absence(field):
                continue  # a different, fully readable estate: fewer verdicts, none better
            found.append(f"{check} {resource} {locus!r}: {status.value} -> gone after {mutation.describe(rows)}")
    return found


# Fields whose absence Azure itself uses to say "none": deleting one gives another estate, fully
# readable, in which verdicts about what the field pointed at may go (a subnet no pool names is no
# AKS subnet), but none may turn into a pass. '<type>:<path>' as `Mutation.field` spells it.
MEANINGFUL_ABSENCE = frozenset({
    # a pool without a node subnet runs in an AKS-managed VNet; without a pod subnet its pods take
    # addresses from the node subnet or an overlay
    "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[].vnetSubnetID",
    "microsoft.containerservice/managedclusters:properties.agentPoolProfiles[].podSubnetID",
    # a subnet without a route table (or NAT gateway) has none
    "microsoft.network/virtualnetworks:properties.subnets[].properties.routeTable",
    "microsoft.network/virtualnetworks:properties.subnets[].properties.natGateway",
    # a cluster without ipFamilies is IPv4 only (the API's default); dropping 'IPv6' from the list is a
    # single-stack cluster, about which UDR008 has nothing to say
    "microsoft.containerservice/managedclusters:properties.networkProfile.ipFamilies",
    "microsoft.containerservice/managedclusters:properties.networkProfile.ipFamilies[]",
    # a cluster without an API server access profile, or without authorized IP ranges, has a public
    # endpoint open to every address (Azure documents an empty list as the feature turned off);
    # dropping one range is another, narrower list
    "microsoft.containerservice/managedclusters:properties.apiServerAccessProfile",
    "microsoft.containerservice/managedclusters:properties.apiServerAccessProfile.authorizedIPRanges",
    "microsoft.containerservice/managedclusters:properties.apiServerAccessProfile.authorizedIPRanges[]",
})


def meaningful_absence(field: str) -> bool:
    return field in MEANINGFUL_ABSENCE
