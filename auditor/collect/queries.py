"""The KQL the collector sends: one query per Resource Graph table, built from the checks' needs.

Queries ask only for the types the enabled checks `require` and only for the columns the model
reads, so a tenant-wide scan moves as little data as possible. Every query projects `id` and
ends in `order by id asc`: Resource Graph pages are only stable when sorted on a unique column.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, TypeVar

PAGE_SIZE = 1000  # Resource Graph's maximum $top
SUBSCRIPTION_BATCH = 1000  # the largest subscription list the CLI and PowerShell send per request

RESOURCES = "resources"
NETWORK_RESOURCES = "networkresources"
RESOURCE_CONTAINERS = "resourcecontainers"
SUBSCRIPTION_TYPE = "microsoft.resources/subscriptions"

# Types Resource Graph keeps outside the `resources` table; everything else lives there.
TABLE_OF_TYPE = {
    "microsoft.network/firewallpolicies/rulecollectiongroups": NETWORK_RESOURCES,
    "microsoft.network/rulecollectiongroups": NETWORK_RESOURCES,
    "microsoft.network/virtualnetworks/subnets/effectiveroutingrules": NETWORK_RESOURCES,
}

# The top-level columns the model reads (auditor/model/resources.py): the header plus `properties`.
COLUMNS = ("id", "name", "type", "location", "resourceGroup", "subscriptionId", "tags", "properties")
SUBSCRIPTION_COLUMNS = ("id", "name", "subscriptionId")

T = TypeVar("T")


@dataclass(frozen=True)
class TableQuery:
    """One table's query: the types it covers and the KQL text sent for them."""

    table: str
    types: tuple[str, ...]
    kql: str


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_query(table: str, types: Iterable[str], columns: Sequence[str] = COLUMNS) -> TableQuery:
    wanted = tuple(sorted({t.lower() for t in types}))
    if "id" not in columns:
        columns = ("id", *columns)
    kql = (f"{table} | where type in~ ({', '.join(_quote(t) for t in wanted)}) "
           f"| project {', '.join(columns)} | order by id asc")
    return TableQuery(table, wanted, kql)


def plan_queries(required_types: Iterable[str]) -> tuple[TableQuery, ...]:
    """The union of required types, grouped by table, one query per table (sorted: stable plans)."""
    by_table: dict[str, set[str]] = {}
    for resource_type in required_types:
        lowered = resource_type.lower()
        by_table.setdefault(TABLE_OF_TYPE.get(lowered, RESOURCES), set()).add(lowered)
    return tuple(table_query(table, types) for table, types in sorted(by_table.items()))


def subscriptions_query() -> TableQuery:
    """Every subscription visible in scope, with display names (for resolution and batching)."""
    return TableQuery(RESOURCE_CONTAINERS, (SUBSCRIPTION_TYPE,),
                      f"{RESOURCE_CONTAINERS} | where type =~ {_quote(SUBSCRIPTION_TYPE)} "
                      f"| project {', '.join(SUBSCRIPTION_COLUMNS)} | order by id asc")


def batched(items: Sequence[T], size: int = SUBSCRIPTION_BATCH) -> tuple[tuple[T, ...], ...]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return tuple(tuple(items[i:i + size]) for i in range(0, len(items), size))
