"""Route table on an AKS subnet has no owner tag.

**What it checks**
Every route table associated with a subnet that an AKS agent pool uses (nodes or pods) must carry
a non-empty `owner` tag. Azure tag names are case-insensitive, so `Owner` counts too.

**Why it matters**
The route table decides whether a cluster's Internet-bound traffic reaches the firewall. When a
finding on it appears (a route to the Internet, a stale next hop), whoever is on call must know
which team may change it; an unowned route table is the one that gets "temporarily" edited and
never fixed.

**How to fix**
Tag the route table with the owning team:
`az network route-table update -g <resource group> -n <route table> --set tags.owner=<team>`,
or add the tag where the route table is defined (Bicep, Terraform) so the next deployment keeps it.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from aksaudit.api import T_CLUSTER, T_ROUTE_TABLE, T_VNET, CheckMeta, Estate, Outcome, Severity, fail, passed, skipped

META = CheckMeta(
    id="OWN001",
    slug="route-table-without-owner-tag",
    title="Route table on an AKS subnet has no owner tag",
    severity=Severity.LOW,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE),
    references=("https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources",),
    tags=("governance", "routing"),
    options={"tag": "owner"},
)


def owner(tags: Mapping[str, Any], tag: str) -> str:
    """The tag's value, matching the name case-insensitively as Azure does."""
    for name, value in tags.items():
        if name.lower() == tag.lower() and isinstance(value, str):
            return value.strip()
    return ""


def evaluate(estate: Estate, options: Mapping[str, Any]) -> Iterable[Outcome]:
    tag = options.get("tag", META.options["tag"])
    seen: set[str] = set()  # one verdict per route table, however many AKS subnets share it
    for path in estate.egress_paths:
        if path.subnet is None or not path.subnet.route_table_id:
            continue  # no subnet data, or no route table at all: the built-in routing checks say so
        table = path.route_table
        if table is None:
            yield skipped(path.subnet.route_table_id, path.gap or "the route table is not in the scanned data")
            continue
        if table.id.lower() in seen:
            continue
        seen.add(table.id.lower())
        if owner(table.header.tags, tag):
            yield passed(table.id)
        else:
            yield fail(table.id, f"Route table '{table.header.name}' (AKS subnet '{path.subnet.name}', cluster "
                       f"'{path.cluster.header.name}') has no '{tag}' tag: nobody is accountable for its routes.",
                       evidence={"tags": dict(table.header.tags), "required_tag": tag})
