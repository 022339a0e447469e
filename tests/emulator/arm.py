"""The ARM reads a per-subscription collector makes, served from the same tenant as Resource Graph.

`aksaudit scan --source arm` (and the tools that collect that way) list each resource type per
subscription with the SDKs' `list_all`-style calls, page with `nextLink`, list the subscriptions
the identity can read, and expand management groups through their descendants. Bodies are the
ARM JSON of the tenant's rows (ARM casing of `type`, no Resource Graph columns), so a correct
ARM collection yields the same rows, once projected, as a Resource Graph one.
"""
from __future__ import annotations

import json
import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .kql import _WHERE, Query, QueryError, _flat, _path, _split_pipes
from .tenant import ARM_ONLY_TYPES, NETWORK_TABLE_TYPES, Tenant, resource_group_of, subscription_of

LIST = re.compile(r"^/subscriptions/([^/]+)/providers/([^/]+)/([^/]+)$", re.IGNORECASE)
SUBSCRIPTIONS = re.compile(r"^/subscriptions/?$", re.IGNORECASE)
DESCENDANTS = re.compile(r"^/providers/microsoft\.management/managementgroups/([^/]+)/descendants$", re.IGNORECASE)
ARG_ONLY_COLUMNS = frozenset({"tenantId", "resourceGroup", "subscriptionId"})


def arm_body(row: Mapping[str, Any], arm_type: str) -> dict[str, Any]:
    """A Resource Graph row as ARM returns the resource: its own casing of `type`, no ARG columns."""
    body = {k: v for k, v in row.items() if k not in ARG_ONLY_COLUMNS and v is not None}
    body["type"] = arm_type
    return body


# A row as the index keeps it: the row itself, or (lean) where it sits in the estate file plus the
# few fields queries filter and sort on.
Handle = Any
LIGHT_COLUMNS = frozenset({"id", "type", "subscriptionId"})


class FileRows:
    """An estate file written one row per line (as benchmarks/estate.py writes it), read on demand.

    A million-row tenant held as Python objects takes about four times the file's size; holding
    offsets instead keeps the emulator small enough to run beside the scan it serves.
    """

    def __init__(self, path: str | Path) -> None:
        self._handle = Path(path).open("rb")
        self._map = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ)

    def load(self, handle: Handle) -> dict[str, Any]:
        if isinstance(handle, dict):
            return handle
        offset, length = handle[0], handle[1]
        return json.loads(self._map[offset:offset + length])

    def scan(self) -> Iterable[tuple[Handle, dict[str, Any]]]:
        """(handle, row) for every row line; each row is decoded once, here, and then dropped."""
        offset = 0
        for line in self._handle:
            start, offset = offset, offset + len(line)
            body = line.rstrip(b"\r\n").rstrip(b",")
            if body.startswith(b"{"):
                row = json.loads(body)
                yield (start, len(body), str(row.get("id", "")), str(row.get("type", ""))), row


def _light(handle: Handle) -> Mapping[str, Any]:
    if isinstance(handle, dict):
        return handle
    return {"id": handle[2], "type": handle[3], "subscriptionId": subscription_of(handle[2])}


@dataclass
class TenantIndex:
    """Rows grouped for the lookups each request makes, built once (the benchmark's big tenants);
    without it every request scans every row, which keeps tests free to edit the tenant in place.
    A lean index (`build_lean`) keeps file offsets, not rows, and decodes only the rows it serves."""

    tables: dict[str, dict[str, list[Handle]]] = field(default_factory=dict)  # table -> sub -> rows
    by_type: dict[tuple[str, str], list[Handle]] = field(default_factory=dict)  # (sub, type) -> rows
    policies: dict[str, list[Handle]] = field(default_factory=dict)  # policy id -> its groups' rows
    policy_ids: set[str] = field(default_factory=set)
    subscriptions: list[str] = field(default_factory=list)
    containers: list[dict[str, Any]] = field(default_factory=list)
    load: Callable[[Handle], dict[str, Any]] = lambda handle: handle

    def _add(self, handle: Handle, row: Mapping[str, Any]) -> None:
        rid, rtype = str(row.get("id", "")), str(row.get("type", "")).lower()
        sub = str(row.get("subscriptionId") or subscription_of(rid)).lower()
        table = "networkresources" if rtype in NETWORK_TABLE_TYPES else "resources"
        if rtype not in ARM_ONLY_TYPES:  # not in Resource Graph: served by their ARM child lists only
            self.tables.setdefault(table, {}).setdefault(sub, []).append(handle)
        self.by_type.setdefault((subscription_of(rid), rtype), []).append(handle)
        if rtype == "microsoft.network/firewallpolicies":
            self.policy_ids.add(rid.lower())
        elif rtype in NETWORK_TABLE_TYPES:
            self.policies.setdefault(rid.lower().rsplit("/rulecollectiongroups/", 1)[0], []).append(handle)

    @classmethod
    def build(cls, tenant: Tenant) -> "TenantIndex":
        index = cls()
        for row in tenant.table("resources") + tenant.table("networkresources"):
            index._add(row, row)
        index.subscriptions = tenant.subscriptions()
        index.containers = tenant.table("resourcecontainers")
        return index

    @classmethod
    def build_lean(cls, path: str | Path, tenant: Tenant) -> "TenantIndex":
        """From the estate file itself (the tenant holds no rows: its names and groups only)."""
        rows = FileRows(path)
        index = cls(load=rows.load)
        groups: set[tuple[str, str]] = set()
        for handle, row in rows.scan():
            index._add(handle, row)
            groups.add((subscription_of(handle[2]), resource_group_of(handle[2])))
        index.subscriptions = sorted(set(tenant.subscriptions()) | {sub for sub, _ in groups if sub})
        index.containers = tenant.containers(index.subscriptions, groups)
        return index

    def table_rows(self, table: str, readable: Iterable[str]) -> list[Handle]:
        if table == "resourcecontainers":
            wanted = set(readable)
            return [r for r in self.containers if str(r.get("subscriptionId", "")).lower() in wanted]
        grouped = self.tables.get(table, {})
        return [row for sub in readable for row in grouped.get(sub, ())]

    def select(self, query: Query, text: str, readable: Iterable[str]) -> list[Handle]:
        """The rows a query returns, filtered and ordered as `Query.run` does, not yet projected."""
        for stage in _split_pipes(text)[1:]:
            match = _WHERE.match(stage)
            if match and match.group(1) not in LIGHT_COLUMNS:
                raise QueryError(f"the lean emulator filters on {', '.join(sorted(LIGHT_COLUMNS))} only: {stage}")
        kept = [h for h in self.table_rows(query.table, readable) if all(f(_light(h)) for f in query.filters)]
        if query.order:
            column, descending = query.order
            if column not in LIGHT_COLUMNS and any(not isinstance(h, dict) for h in kept):
                raise QueryError(f"the lean emulator orders by {', '.join(sorted(LIGHT_COLUMNS))} only")
            kept.sort(key=lambda h: str(_light(h).get(column) or "").lower(), reverse=descending)
        return kept

    def project(self, query: Query, handles: Iterable[Handle]) -> list[dict[str, Any]]:
        rows = [self.load(h) for h in handles]
        if query.columns is None:
            return [dict(r) for r in rows]
        return [{_flat(c): _path(r, c) for c in query.columns} for r in rows]


def rows_of_type(tenant: Tenant, index: TenantIndex | None, subscription: str, rtype: str) -> list[dict[str, Any]]:
    """A subscription's rows of one type, in id order (ARM lists are not sorted; ours are, for stable paging)."""
    if index is not None:
        found = [index.load(h) for h in index.by_type.get((subscription.lower(), rtype.lower()), [])]
    else:
        found = [r for r in tenant.rows if subscription_of(str(r.get("id", ""))) == subscription.lower()
                 and str(r.get("type", "")).lower() == rtype.lower()]
    return sorted(found, key=lambda r: str(r.get("id", "")).lower())


def rule_groups(tenant: Tenant, index: TenantIndex | None, subscription: str, group: str,
                policy: str) -> list[dict[str, Any]] | None:
    """`Tenant.rule_collection_groups`, from the index when there is one."""
    if index is None:
        return tenant.rule_collection_groups(subscription, group, policy)
    prefix = (f"/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.network/"
              f"firewallpolicies/{policy}").lower()
    found = [index.load(h) for h in index.policies.get(prefix, [])]
    if not found and prefix not in index.policy_ids:
        return None
    return [{"id": r["id"], "name": r.get("name") or r["id"].rsplit("/", 1)[-1],
             "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
             "etag": "W/\"00000000-0000-0000-0000-000000000000\"", "properties": r.get("properties") or {}}
            for r in found]


def _names(tenant: Tenant) -> Callable[[str], str]:
    """`Tenant.name_of` with its lower-cased table built once, not once per subscription listed."""
    names = {k.lower(): v for k, v in tenant.subscription_names.items()}
    return lambda sub: names.get(sub, f"sub-{sub[:8]}")


def subscription_entries(tenant: Tenant, subscriptions: Iterable[str]) -> list[dict[str, Any]]:
    """`GET /subscriptions` items for the subscriptions the caller can read."""
    name_of = _names(tenant)
    return [{"id": f"/subscriptions/{sub}", "subscriptionId": sub, "displayName": name_of(sub),
             "state": "Enabled", "tenantId": tenant.tenant_id} for sub in subscriptions]


def descendant_entries(tenant: Tenant, group: str) -> list[dict[str, Any]]:
    """`GET .../managementGroups/{group}/descendants` items: the group's subscriptions."""
    parent = f"/providers/Microsoft.Management/managementGroups/{group}"
    name_of = _names(tenant)
    return [{"id": f"/subscriptions/{sub.lower()}", "type": "Microsoft.Management/managementGroups/subscriptions",
             "name": sub.lower(), "properties": {"displayName": name_of(sub.lower()), "parent": {"id": parent}}}
            for sub in tenant.management_groups.get(group, [])]


def resource_group(row: Mapping[str, Any]) -> str:
    return resource_group_of(str(row.get("id", "")))
