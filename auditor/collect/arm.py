"""A live scan read straight from Azure Resource Manager, one subscription and type at a time.

Resource Graph is an index: it can lag ARM by minutes, which matters when verifying a fix that
was applied a moment ago. `--source arm` reads the authoritative state instead, the way
per-subscription tools (Prowler, ScoutSuite, Cloud Custodian) collect: each required type is
listed per subscription with the SDKs' own list calls (`virtual_networks.list_all`,
`managed_clusters.list`, `ip_groups.list`, ...), rule collection groups per firewall policy, and
subscriptions come from `GET /subscriptions` or a management group's descendants. Each ARM body
becomes the row Resource Graph would return for the same resource (the collector's projected
columns), so everything after collection is unchanged, and the two sources find the same things.

It costs what those tools pay: requests grow with subscriptions times types, not with rows, and
each waits a full round trip (see benchmarks/README.md). The SDKs' own retry policy handles ARM
throttling (it honours `Retry-After` on GET); anything that still fails is a named gap, and its
subscription is reported unreadable, exactly as for Resource Graph.
"""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import quote

from azure.core.exceptions import AzureError, HttpResponseError

from aksaudit.model.resources import (
    T_CLUSTER, T_FIREWALL, T_IP_GROUP, T_LOAD_BALANCER, T_POLICY, T_PUBLIC_IP, T_RCG, T_ROUTE_TABLE,
    T_VIRTUAL_HUB, T_VNET,
)
from aksaudit.model.row_fields import id_key
from .clients import AzureClients
from .graph import describe
from .identity import is_auth_failure
from .arm_limits import TENANT
from .live import LiveOptions, ScopeRequest, lookup_runner, snapshot_meta, utc_now, worker_pool
from .live_only import LIVE_ONLY_TYPES, read_live_only
from .progress import NullProgress, Progress
from .rule_groups import _plain, policy_of
from .scopes import ScopeError, Subscription, is_subscription_id, resolve_names, split_visible
from .snapshot import Snapshot

ARM_SOURCE = "Azure Resource Manager"
SUBSCRIPTIONS_API = "2022-12-01"
MANAGEMENT_GROUPS_API = "2020-05-01"
PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"  # for calls outside any subscription

# Resource Graph type -> (SDK client, operations attribute, list method) listing it per subscription.
LISTS: Mapping[str, tuple[str, str, str]] = {
    T_CLUSTER: ("containers", "managed_clusters", "list"),
    T_VNET: ("network", "virtual_networks", "list_all"),
    T_ROUTE_TABLE: ("network", "route_tables", "list_all"),
    T_FIREWALL: ("network", "azure_firewalls", "list_all"),
    T_POLICY: ("network", "firewall_policies", "list_all"),
    T_IP_GROUP: ("network", "ip_groups", "list"),
    T_PUBLIC_IP: ("network", "public_ip_addresses", "list_all"),
    T_LOAD_BALANCER: ("network", "load_balancers", "list_all"),
    T_VIRTUAL_HUB: ("network", "virtual_hubs", "list"),
}


@dataclass(frozen=True)
class ListOutcome:
    """One ARM list: what it returned, how many requests it took, and what (if anything) failed."""

    subscription: str
    what: str  # the ARG type, or "rule collection groups of <policy id>"
    rows: tuple[Mapping[str, Any], ...]
    requests: int
    error: str = ""
    forbidden: bool = False


def arg_row(body: Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    """An ARM body as the Resource Graph row the collector's query projects for it."""
    resource_id = str(body.get("id") or "")
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    return {
        "id": resource_id,
        "name": body.get("name") or (parts[-1] if parts else ""),
        "type": resource_type,
        "location": body.get("location") or "",
        "resourceGroup": parts[3] if len(parts) > 3 and lowered[2] == "resourcegroups" else "",
        "subscriptionId": parts[1].lower() if len(parts) > 1 and lowered[0] == "subscriptions" else "",
        "tags": body.get("tags") or {},
        "properties": body.get("properties") or {},
    }


class _Pages:
    """Counts the HTTP requests an SDK pager makes (its first page and each nextLink)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._pages = items.by_page() if hasattr(items, "by_page") else iter([items])
        self.requests = 0

    def __iter__(self) -> Iterator[Any]:
        for page in self._pages:
            self.requests += 1
            yield from page


class ArmCollector:
    """One scan's ARM reads; `collect_arm` runs them on a shared pool of worker threads."""

    def __init__(self, clients: AzureClients, options: LiveOptions, progress: Progress) -> None:
        self.clients = clients
        self.options = options
        self.progress = progress
        self._hook = clients.limits.arm().spend  # ARM's read bucket per subscription, shared with the lookups

    # --- subscriptions ------------------------------------------------------------------------

    def _get_all(self, url: str) -> tuple[list[dict[str, Any]], int]:
        """Every item of an ARM collection outside a subscription, following nextLink."""
        from azure.core.rest import HttpRequest

        client = self.clients.network(PLACEHOLDER_SUBSCRIPTION)
        items, requests = [], 0
        while url:
            response = client.send_request(HttpRequest("GET", url), raw_response_hook=self._hook(TENANT))
            requests += 1
            response.raise_for_status()
            body = response.json()
            items.extend(body.get("value") or ())
            url = body.get("nextLink") or ""
        return items, requests

    def visible(self) -> tuple[list[Subscription], int]:
        """The subscriptions the identity can read (ARM lists only those), and the requests it took."""
        items, requests = self._get_all(f"/subscriptions?api-version={SUBSCRIPTIONS_API}")
        found = {}
        for item in items:
            sub = str(item.get("subscriptionId") or "").lower()
            if is_subscription_id(sub):
                found[sub] = Subscription(sub, str(item.get("displayName") or sub))
        return sorted(found.values(), key=lambda s: s.id), requests

    def in_group(self, group: str) -> tuple[list[str], int]:
        """The subscriptions below a management group, at any depth, and the requests it took."""
        items, requests = self._get_all(f"/providers/Microsoft.Management/managementGroups/{quote(group, safe='')}"
                                        f"/descendants?api-version={MANAGEMENT_GROUPS_API}")
        subs = [str(i.get("name") or "").lower() for i in items if str(i.get("id", "")).lower().startswith("/subscriptions/")]
        return [s for s in subs if is_subscription_id(s)], requests

    # --- lists ------------------------------------------------------------------------------------

    def _client(self, kind: str, subscription: str) -> Any:
        factory = self.clients.network if kind == "network" else self.clients.containers
        return factory(subscription)

    def list_type(self, subscription: str, resource_type: str) -> ListOutcome:
        """Every resource of one type in one subscription, through the SDK's own list call."""
        kind, operations, method = LISTS[resource_type]
        key = f"{resource_type}@{subscription}"
        self.progress.started(key, f"{resource_type} (subscription {subscription})")
        pages = None
        try:
            pager = getattr(getattr(self._client(kind, subscription), operations), method)(
                raw_response_hook=self._hook(subscription))
            pages = _Pages(pager)
            rows = tuple(arg_row(_plain(item), resource_type) for item in pages)
        except AzureError as error:
            if is_auth_failure(error):
                raise
            forbidden = isinstance(error, HttpResponseError) and error.status_code == 403
            message = (f"{resource_type} (subscription {subscription}): "
                       + ("not readable by this identity (" + describe(error) + ")" if forbidden else describe(error)))
            self.progress.finished(key, pages.requests if pages else 0, 0, message)
            return ListOutcome(subscription, resource_type, (), max(1, pages.requests if pages else 1), message,
                               forbidden)
        self.progress.finished(key, pages.requests, len(rows))
        return ListOutcome(subscription, resource_type, rows, pages.requests)

    def list_groups(self, policy_id: str) -> ListOutcome:
        """A firewall policy's rule collection groups (ARM keeps them under the policy, not the subscription)."""
        policy = policy_of(f"{policy_id}/ruleCollectionGroups/x")
        what = f"rule collection groups of {policy_id}"
        if policy is None:
            return ListOutcome("", what, (), 0, f"{what}: the id names no policy")
        pages = None
        try:
            client = self.clients.network(policy.subscription_id)
            pages = _Pages(client.firewall_policy_rule_collection_groups.list(
                policy.resource_group, policy.policy_name, raw_response_hook=self._hook(policy.subscription_id)))
            rows = tuple(arg_row(_plain(item), T_RCG) for item in pages)
        except AzureError as error:
            if is_auth_failure(error):
                raise
            return ListOutcome(policy.subscription_id.lower(), what, (), max(1, pages.requests if pages else 1),
                               f"{what}: {describe(error)}")
        return ListOutcome(policy.subscription_id.lower(), what, rows, pages.requests)


def _listable(required_types: Iterable[str]) -> tuple[list[str], list[str]]:
    wanted = sorted({t.lower() for t in required_types})
    return [t for t in wanted if t in LISTS], [t for t in wanted if t not in LISTS and t != T_RCG
                                               and t not in LIVE_ONLY_TYPES]


def collect_arm(required_types: Iterable[str], request: ScopeRequest, clients: AzureClients, *,
                options: LiveOptions | None = None, progress: Progress | None = None) -> Snapshot:
    """Read the estate from ARM; the same Snapshot (and gaps) a Resource Graph collection gives."""
    options = options or LiveOptions()
    progress = progress or NullProgress()
    started = utc_now()
    required = {t.lower() for t in required_types}
    listed, unsupported = _listable(required)
    collector = ArmCollector(clients, options, progress)
    errors: list[str] = []
    requests = 0
    with worker_pool(options.concurrency, "aksaudit-arm", clients, progress) as pool:
        subscriptions, names, invisible, scope_errors, labels, scope_requests = _targets(collector, request)
        requests += scope_requests
        futures: list[Future] = [pool.submit(collector.list_type, sub, t) for sub in subscriptions for t in listed]
        outcomes = [f.result() for f in futures]
        policies = sorted({str(r["id"]) for o in outcomes if o.what == T_POLICY for r in o.rows}, key=id_key) \
            if T_RCG in required else []
        outcomes += [f.result() for f in [pool.submit(collector.list_groups, p) for p in policies]]
    errors = [f"subscription {s}: not readable by this identity (ARM does not list it); its resources were not "
              f"audited" for s in invisible] + scope_errors
    errors += [f"{t}: cannot be listed from ARM by aksaudit; use --source arg for checks that need it"
               for t in unsupported]
    unreadable = list(invisible)
    rows: dict[str, Mapping[str, Any]] = {}
    for outcome in outcomes:
        requests += outcome.requests
        if outcome.error:
            errors.append(outcome.error)
            if outcome.subscription:
                unreadable.append(outcome.subscription)
        for row in outcome.rows:
            rows.setdefault(id_key(str(row.get("id", ""))), row)  # an MG and a subscription in it overlap
    unreadable = list(dict.fromkeys(unreadable))
    # Routing intent, hub connections and a cluster's outbound endpoints: ARM child lists.
    runner = lookup_runner(clients, options)
    lookups = read_live_only(rows.values(), required, clients.network, clients.containers, runner, options.settle,
                             options.effective_routes)
    errors += lookups.errors
    meta = snapshot_meta(ARM_SOURCE, clients, request, names, started, errors, unreadable, {
        "arm_requests": requests,
        "lists": [{"subscription": o.subscription, "list": o.what, "rows": len(o.rows), "requests": o.requests,
                   "complete": not o.error} for o in outcomes],
        **lookups.meta(),
        **runner.meta(),
    })
    return Snapshot([*rows.values(), *lookups.rows], meta, ARM_SOURCE, labels)


def _targets(collector: ArmCollector, request: ScopeRequest) -> tuple[
        list[str], dict[str, str], list[str], list[str], tuple[str, ...], int]:
    """(subscriptions to list, their names, requested ones not readable, scope gaps, labels, requests made).

    Mirrors the Resource Graph collector: display names resolve case-insensitively, a requested
    subscription the identity cannot list is a named gap, an unreadable management group too.
    """
    tokens = list(dict.fromkeys(t.strip() for t in request.subscriptions if t.strip()))
    ids = [t.lower() for t in tokens if is_subscription_id(t)]
    names_asked = [t for t in tokens if not is_subscription_id(t)]
    try:
        visible, requests = collector.visible()
    except AzureError as error:
        if is_auth_failure(error):
            raise
        if names_asked:
            raise ScopeError(f"subscription names cannot be resolved: the identity's subscriptions could not be "
                             f"listed ({describe(error)}); pass subscription ids") from error
        # Visibility unknown: list what was asked for anyway; each list reports its own failure.
        gap = f"subscriptions: the identity's subscriptions could not be listed ({describe(error)})"
        if not request.subscriptions and not request.management_groups:
            return [], {}, [], [gap], request.labels(), 1
        visible, requests = [Subscription(i, i) for i in ids], 1
    names = {s.id: s.name for s in visible}
    if not request.subscriptions and not request.management_groups:
        return [s.id for s in visible], names, [], [], request.labels(), requests
    ids += [s.id for s in resolve_names(names_asked, visible)]
    labels = tuple(f"subscription:{s}" for s in dict.fromkeys(ids)) + tuple(
        f"managementGroup:{m}" for m in request.management_groups)
    members: list[str] = []
    gaps: list[str] = []
    for group in request.management_groups:
        try:
            found, made = collector.in_group(group)
        except AzureError as error:
            if is_auth_failure(error):
                raise
            gaps.append(f"management group {group}: not readable by this identity ({describe(error)})")
            continue
        requests += made
        members += found
    resolution = split_visible(ids, visible)
    readable = [s.id for s in resolution.readable] + [m for m in members if m in names]
    # A group's subscriptions this identity cannot list are missing data, not absent resources.
    hidden = [m for m in dict.fromkeys(members) if m not in names and m not in resolution.unreadable]
    return list(dict.fromkeys(readable)), names, [*resolution.unreadable, *hidden], gaps, labels, requests

