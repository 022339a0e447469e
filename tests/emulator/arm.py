"""The ARM reads a per-subscription collector makes, served from the same tenant as Resource Graph.

`aksaudit scan --source arm` (and the tools that collect that way) list each resource type per
subscription with the SDKs' `list_all`-style calls, page with `nextLink`, list the subscriptions
the identity can read, and expand management groups through their descendants. Bodies are the
ARM JSON of the tenant's rows (ARM casing of `type`, no Resource Graph columns), so a correct
ARM collection yields the same rows, once projected, as a Resource Graph one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .tenant import NETWORK_TABLE_TYPES, Tenant, resource_group_of, subscription_of

LIST = re.compile(r"^/subscriptions/([^/]+)/providers/([^/]+)/([^/]+)$", re.IGNORECASE)
SUBSCRIPTIONS = re.compile(r"^/subscriptions/?$", re.IGNORECASE)
DESCENDANTS = re.compile(r"^/providers/microsoft\.management/managementgroups/([^/]+)/descendants$", re.IGNORECASE)
ARG_ONLY_COLUMNS = frozenset({"tenantId", "resourceGroup", "subscriptionId"})


def arm_body(row: Mapping[str, Any], arm_type: str) -> dict[str, Any]:
    """A Resource Graph row as ARM returns the resource: its own casing of `type`, no ARG columns."""
    body = {k: v for k, v in row.items() if k not in ARG_ONLY_COLUMNS and v is not None}
    body["type"] = arm_type
    return body


@dataclass
class TenantIndex:
    """Rows grouped for the lookups each request makes, built once (the benchmark's big tenants);
    without it every request scans every row, which keeps tests free to edit the tenant in place."""

    tables: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)  # table -> sub -> rows
    by_type: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # (sub, type) -> rows
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # policy id -> its groups' rows
    policy_ids: set[str] = field(default_factory=set)
    subscriptions: list[str] = field(default_factory=list)
    containers: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def build(cls, tenant: Tenant) -> "TenantIndex":
        index = cls()
        for name in ("resources", "networkresources"):
            grouped: dict[str, list[dict[str, Any]]] = {}
            for row in tenant.table(name):
                grouped.setdefault(str(row.get("subscriptionId") or subscription_of(str(row.get("id", "")))).lower(),
                                   []).append(row)
            index.tables[name] = grouped
        for row in tenant.rows:
            rid, rtype = str(row.get("id", "")), str(row.get("type", "")).lower()
            index.by_type.setdefault((subscription_of(rid), rtype), []).append(row)
            if rtype == "microsoft.network/firewallpolicies":
                index.policy_ids.add(rid.lower())
            elif rtype in NETWORK_TABLE_TYPES:
                index.policies.setdefault(rid.lower().rsplit("/rulecollectiongroups/", 1)[0], []).append(row)
        index.subscriptions = tenant.subscriptions()
        index.containers = tenant.table("resourcecontainers")
        return index

    def table_rows(self, table: str, readable: Iterable[str]) -> list[dict[str, Any]]:
        if table == "resourcecontainers":
            wanted = set(readable)
            return [r for r in self.containers if str(r.get("subscriptionId", "")).lower() in wanted]
        grouped = self.tables.get(table, {})
        return [row for sub in readable for row in grouped.get(sub, ())]


def rows_of_type(tenant: Tenant, index: TenantIndex | None, subscription: str, rtype: str) -> list[dict[str, Any]]:
    """A subscription's rows of one type, in id order (ARM lists are not sorted; ours are, for stable paging)."""
    if index is not None:
        found = index.by_type.get((subscription.lower(), rtype.lower()), [])
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
    found = index.policies.get(prefix, [])
    if not found and prefix not in index.policy_ids:
        return None
    return [{"id": r["id"], "name": r.get("name") or r["id"].rsplit("/", 1)[-1],
             "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
             "etag": "W/\"00000000-0000-0000-0000-000000000000\"", "properties": r.get("properties") or {}}
            for r in found]


def subscription_entries(tenant: Tenant, subscriptions: Iterable[str]) -> list[dict[str, Any]]:
    """`GET /subscriptions` items for the subscriptions the caller can read."""
    return [{"id": f"/subscriptions/{sub}", "subscriptionId": sub, "displayName": tenant.name_of(sub),
             "state": "Enabled", "tenantId": tenant.tenant_id} for sub in subscriptions]


def descendant_entries(tenant: Tenant, group: str) -> list[dict[str, Any]]:
    """`GET .../managementGroups/{group}/descendants` items: the group's subscriptions."""
    parent = f"/providers/Microsoft.Management/managementGroups/{group}"
    return [{"id": f"/subscriptions/{sub.lower()}", "type": "Microsoft.Management/managementGroups/subscriptions",
             "name": sub.lower(), "properties": {"displayName": tenant.name_of(sub.lower()), "parent": {"id": parent}}}
            for sub in tenant.management_groups.get(group, [])]


def resource_group(row: Mapping[str, Any]) -> str:
    return resource_group_of(str(row.get("id", "")))
