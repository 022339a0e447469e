"""What the emulated tenant holds: ARG rows, subscription names, management groups, access.

Built from an estate file of ARG rows (the same files `scan --snapshot` reads), so the
emulator and a snapshot scan audit exactly the same resources and their findings can be
compared one to one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

FAKE_TENANT = "8a1f3c52-7d4e-4b69-9e21-3f6d0c8b7a15"
RCG_TYPE = "microsoft.network/firewallpolicies/rulecollectiongroups"
NETWORK_TABLE_TYPES = frozenset({RCG_TYPE, "microsoft.network/rulecollectiongroups"})
CHANGE_TYPE = "microsoft.resources/changes"  # change records, in an estate file beside the resources
# Rows an estate file may carry that Resource Graph does not hold: the emulator serves them only
# through their ARM lists (routingIntent, hubRouteTables, hubVirtualNetworkConnections,
# outboundNetworkDependenciesEndpoints).
ARM_ONLY_TYPES = frozenset({"microsoft.network/virtualhubs/routingintent",
                            "microsoft.network/virtualhubs/hubroutetables",
                            "microsoft.network/virtualhubs/hubvirtualnetworkconnections",
                            "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints",
                            "microsoft.network/networkinterfaces/effectiveroutetable"})


def change_table(row: Mapping[str, Any]) -> str:
    """Which change table holds a change record: that of the table its target lives in."""
    target = str((row.get("properties") or {}).get("targetResourceId") or "").lower()
    return "networkresourcechanges" if "/rulecollectiongroups/" in target else "resourcechanges"


def subscription_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    return parts[1].lower() if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""


def resource_group_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    return parts[3] if len(parts) > 3 and parts[2].lower() == "resourcegroups" else ""


@dataclass
class Tenant:
    """An emulated tenant. Mutable on purpose: a test flips access or data between two scans."""

    rows: list[dict[str, Any]]
    tenant_id: str = FAKE_TENANT
    subscription_names: dict[str, str] = field(default_factory=dict)
    management_groups: dict[str, list[str]] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)  # subscriptions the caller may not read
    rule_groups_without_rules: bool = False  # networkresources rows lack properties.ruleCollections
    # Actions the caller's role lacks (e.g. Microsoft.Network/networkInterfaces/effectiveRouteTable/action):
    # a request for one is answered 403 AuthorizationFailed, as ARM does.
    denied_actions: set[str] = field(default_factory=set)
    client_id: str | None = None  # when set, only this client id and secret get tokens
    client_secret: str | None = None

    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> "Tenant":
        # Freshly parsed rows are this tenant's own already: no copy (benchmark tenants are GBs).
        with Path(path).open("rb") as handle:
            document = json.load(handle)
        rows = document["rows"] if isinstance(document, dict) else document
        return cls(rows=rows, **options)

    def subscriptions(self) -> list[str]:
        """Every subscription the tenant has, readable or not, lower-cased and sorted."""
        found = {subscription_of(str(r.get("id", ""))) for r in self.rows}
        found |= {s.lower() for s in self.subscription_names}
        found |= {s.lower() for subs in self.management_groups.values() for s in subs}
        return sorted(s for s in found if s)

    def readable(self, subscriptions: Iterable[str]) -> list[str]:
        blocked = {s.lower() for s in self.forbidden}
        known = set(self.subscriptions())
        return sorted({s.lower() for s in subscriptions} & known - blocked)

    def name_of(self, subscription: str) -> str:
        names = {k.lower(): v for k, v in self.subscription_names.items()}
        return names.get(subscription, f"sub-{subscription[:8]}")

    def table(self, name: str) -> list[dict[str, Any]]:
        """The rows of one Resource Graph table, as the service would store them."""
        if name == "resourcecontainers":
            return self._containers()
        if name.endswith("changes"):
            return [r for r in self.rows if str(r.get("type", "")).lower() == CHANGE_TYPE and change_table(r) == name]
        rows = []
        for row in self.rows:
            if str(row.get("type", "")).lower() in (CHANGE_TYPE, *ARM_ONLY_TYPES):
                continue
            in_network = str(row.get("type", "")).lower() in NETWORK_TABLE_TYPES
            if in_network != (name == "networkresources"):
                continue
            if in_network and self.rule_groups_without_rules:
                row = {**row, "properties": {k: v for k, v in (row.get("properties") or {}).items()
                                             if k != "ruleCollections"}}
            rows.append(row)
        return rows

    def _containers(self) -> list[dict[str, Any]]:
        groups = {(subscription_of(str(r.get("id", ""))), resource_group_of(str(r.get("id", ""))))
                  for r in self.rows}
        return self.containers(self.subscriptions(), groups)

    def containers(self, subscriptions: Iterable[str], groups: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """`resourcecontainers` rows: the subscriptions, then the (subscription, group) resource groups."""
        names = {k.lower(): v for k, v in self.subscription_names.items()}  # name_of, built once
        chains: dict[str, list[dict[str, str]]] = {}
        for group, subs in self.management_groups.items():
            for sub in subs:
                chains.setdefault(sub.lower(), []).append({"name": group, "displayName": group})
        containers = []
        for sub in subscriptions:
            containers.append({
                "id": f"/subscriptions/{sub}", "name": names.get(sub, f"sub-{sub[:8]}"),
                "type": "microsoft.resources/subscriptions",
                "tenantId": self.tenant_id, "subscriptionId": sub, "resourceGroup": "", "location": "", "tags": {},
                "properties": {"state": "Enabled", "managementGroupAncestorsChain": chains.get(sub, [])},
            })
        for sub, group in sorted(g for g in groups if all(g)):
            containers.append({
                "id": f"/subscriptions/{sub}/resourceGroups/{group}", "name": group,
                "type": "microsoft.resources/subscriptions/resourcegroups", "tenantId": self.tenant_id,
                "subscriptionId": sub, "resourceGroup": group, "location": "westeurope", "tags": {},
                "properties": {"provisioningState": "Succeeded"},
            })
        return containers

    def rule_collection_groups(self, subscription: str, group: str, policy: str) -> list[Mapping[str, Any]] | None:
        """Full ARM bodies of a policy's rule collection groups; None when the policy does not exist."""
        prefix = (f"/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.network/"
                  f"firewallpolicies/{policy}").lower()
        policy_exists = any(str(r.get("id", "")).lower() == prefix for r in self.rows)
        found = [r for r in self.rows if str(r.get("type", "")).lower() == RCG_TYPE
                 and str(r.get("id", "")).lower().startswith(prefix + "/")]
        if not found and not policy_exists:
            return None
        return [{"id": r["id"], "name": r.get("name") or r["id"].rsplit("/", 1)[-1],
                 "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
                 "etag": "W/\"00000000-0000-0000-0000-000000000000\"", "properties": r.get("properties") or {}}
                for r in found]
