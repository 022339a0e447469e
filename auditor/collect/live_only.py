"""The lookups Resource Graph cannot answer: Virtual WAN routing, and a cluster's own dependency list.

A secured hub's routing intent, its hub route tables and its hub virtual network connections
are not in Resource Graph, and neither is the list of outbound endpoints an AKS cluster says it
needs. After the Resource Graph (or ARM) read, the collector asks ARM for them, one list per
virtual hub and per cluster, and carries the answers as extra rows with ARM child ids and the
snapshot-only types of auditor/model/resources.py, so a saved snapshot holds them too.

They are asked for only when the checks need them (`live_only_types` adds the synthetic types
to the required ones). Failures are not alike:

* routing intent, hub route tables or hub connections of a hub that cannot be read are a named
  gap: whether the spokes connected to that hub send their Internet traffic to the hub firewall
  is unknown, so the scan is incomplete;
* a cluster's outbound endpoints are optional enrichment: when the AKS API does not answer, the
  checks use the documented list of required FQDNs, and the failure is only a warning.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from azure.core.exceptions import AzureError

from aksaudit.model.resources import (
    T_CLUSTER, T_EFFECTIVE_ROUTES, T_HUB_CONNECTION, T_HUB_ROUTE_TABLE, T_OUTBOUND_ENDPOINTS, T_RCG, T_ROUTING_INTENT, T_VIRTUAL_HUB,
)
from aksaudit.model.row_fields import id_key
from .effective_routes import KIND as ROUTES, PERMISSION, effective_route_call, route_targets
from .graph import describe
from .lookups import Lookup, LookupRunner
from .relevance import NEEDED, endpoint_lookups

VWAN_TYPES = frozenset({T_ROUTING_INTENT, T_HUB_ROUTE_TABLE, T_HUB_CONNECTION})
LIVE_ONLY_TYPES = VWAN_TYPES | {T_OUTBOUND_ENDPOINTS, T_EFFECTIVE_ROUTES}


def live_only_types(required_types: Iterable[str]) -> set[str]:
    """The synthetic types the checks' needs imply: the vWAN lookups whenever virtual hubs are
    needed, a cluster's outbound endpoints whenever firewall rules are judged against clusters."""
    required = {t.lower() for t in required_types}
    implied: set[str] = set()
    if T_VIRTUAL_HUB in required:
        implied |= VWAN_TYPES
    if T_CLUSTER in required and T_RCG in required:
        implied.add(T_OUTBOUND_ENDPOINTS)
    return implied


@dataclass(frozen=True)
class Lookups:
    rows: tuple[Mapping[str, Any], ...]  # the extra rows, to append to the collected ones
    errors: tuple[str, ...]  # gaps: the scan is incomplete
    warnings: tuple[str, ...]  # fell back to documented defaults; the scan stays complete
    done: tuple[str, ...]  # "<what> of <id>" for each lookup that answered, for the snapshot's record
    # Every virtual hub looked up: '' when its routing intent, route tables and connections were read, else why
    # not. Saved in the snapshot (`virtual_hub_lookups`) so the model can tell a hub that steers
    # nothing from one whose routing is unknown.
    hubs: tuple[tuple[str, str], ...] = ()
    # Per kind of lookup: why it is asked for, how many were made, and how many were not asked
    # for (by reason) because the answer could not change a verdict. Saved as `arm_lookups`.
    record: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    # With --effective-routes: every AKS node subnet, '' when Azure's effective routes for it were
    # read, else why not. Saved as `effective_route_lookups`; absent when the option was off.
    routes: tuple[tuple[str, str], ...] | None = None

    def meta(self) -> dict[str, Any]:
        """What the snapshot records of these lookups (keys only when there is something to say)."""
        return {**({"read_from_arm": list(self.done)} if self.done else {}),
                **({"warnings": list(self.warnings)} if self.warnings else {}),
                **({"virtual_hub_lookups": dict(self.hubs)} if self.hubs else {}),
                **({"arm_lookups": {kind: dict(counts) for kind, counts in self.record}} if self.record else {}),
                **({"effective_route_lookups": dict(self.routes)} if self.routes is not None else {})}


@dataclass(frozen=True)
class _Ref:
    subscription_id: str
    resource_group: str
    name: str


def _ref(resource_id: str, provider: str, kind: str) -> _Ref | None:
    """`/subscriptions/s/resourceGroups/rg/providers/<provider>/<kind>/name`, case-insensitively."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if len(parts) != 8 or lowered[0] != "subscriptions" or lowered[2] != "resourcegroups" \
            or lowered[4] != "providers" or lowered[5] != provider or lowered[6] != kind:
        return None
    return _Ref(parts[1], parts[3], parts[7])


def _plain(model: Any) -> dict[str, Any]:
    """The SDK's hybrid model back to ARM's own JSON shape (camelCase, nested `properties`)."""
    return json.loads(json.dumps(model.as_dict()))


def _child_row(parent_id: str, ref: _Ref, segment: str, row_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
    name = str(body.get("name") or "")
    child_id = str(body.get("id") or f"{parent_id}/{segment}/{name}")
    return {"id": child_id, "name": name or child_id.rsplit("/", 1)[-1], "type": row_type,
            "resourceGroup": ref.resource_group, "subscriptionId": ref.subscription_id.lower(),
            "properties": dict(body.get("properties") or {})}


def _rows_of(rows: Iterable[Mapping[str, Any]], row_type: str) -> list[str]:
    found = {id_key(str(r.get("id"))): str(r.get("id")) for r in rows
             if isinstance(r, Mapping) and str(r.get("type", "")).lower() == row_type and r.get("id")}
    return [found[k] for k in sorted(found)]


def _listed_rows(parent_id: str, ref: _Ref, segment: str, row_type: str, operations: str,
                 network_client: Callable[[str], Any]) -> Callable[[Callable[[Any], None]], list[dict[str, Any]]]:
    """A lookup's call: one ARM child list of a hub, as rows (the response hook goes to the SDK)."""
    def call(hook: Callable[[Any], None]) -> list[dict[str, Any]]:
        listing = getattr(network_client(ref.subscription_id), operations).list
        return [_child_row(parent_id, ref, segment, row_type, _plain(item))
                for item in listing(ref.resource_group, ref.name, raw_response_hook=hook)]
    return call


def _endpoint_rows(cluster_id: str, ref: _Ref, container_client: Callable[[str], Any]
                   ) -> Callable[[Callable[[Any], None]], list[dict[str, Any]]]:
    """A lookup's call: a cluster's outbound network dependencies, one row per category."""
    def call(hook: Callable[[Any], None]) -> list[dict[str, Any]]:
        listed = container_client(ref.subscription_id).managed_clusters \
            .list_outbound_network_dependencies_endpoints(ref.resource_group, ref.name, raw_response_hook=hook)
        found = []
        for item in listed:
            body = _plain(item)
            category = str(body.get("category") or "")
            found.append({"id": f"{cluster_id}/outboundNetworkDependenciesEndpoints/{category}",
                          "name": category, "type": T_OUTBOUND_ENDPOINTS,
                          "resourceGroup": ref.resource_group, "subscriptionId": ref.subscription_id.lower(),
                          "properties": {"category": category, "endpoints": body.get("endpoints") or []}})
        return found
    return call


@dataclass(frozen=True)
class _Planned:
    """A lookup, and what its answer or its failure adds to the scan's record."""

    lookup: Lookup
    answered: Callable[[list[dict[str, Any]]], None]
    failed: Callable[[AzureError], None]


ENDPOINTS = "outbound network dependencies endpoints"


Settle = Callable[[list[Mapping[str, Any]]], Mapping[str, str]]


def read_live_only(rows: Iterable[Mapping[str, Any]], required_types: Iterable[str],
                   network_client: Callable[[str], Any], container_client: Callable[[str], Any] | None,
                   runner: LookupRunner | None = None, settle: Settle | None = None,
                   effective_routes: bool = False) -> Lookups:
    """The extra rows for the virtual hubs and clusters among `rows`: one ARM list each, all of
    them sent at once through `runner` (ARM's read limits), recorded in id order.

    `settle`, when given, names the clusters (id -> why) whose dependency list cannot change a
    verdict by the content of the rules on their path (the checks decide that, on a model of
    `rows`: see run/sources.py); it is asked only when some cluster's lookup is still wanted.

    `effective_routes` (the opt-in `--effective-routes`) adds one effective-route-table read per
    AKS node subnet when the checks need them; off, nothing is asked and nothing is missing."""
    rows = list(rows)
    runner = runner or LookupRunner()
    required = {t.lower() for t in required_types}
    extra: list[Mapping[str, Any]] = []
    errors: list[str] = []
    warnings: list[str] = []
    done: list[str] = []
    hubs: list[tuple[str, str]] = []
    plan: list[_Planned] = []
    record: dict[str, dict[str, Any]] = {}
    hub_errors: dict[str, list[str]] = {}
    vwan = [(T_ROUTING_INTENT, "routingIntent", "routing_intent", "routing intent"),
            (T_HUB_ROUTE_TABLE, "hubRouteTables", "hub_route_tables", "hub route tables"),
            (T_HUB_CONNECTION, "hubVirtualNetworkConnections", "hub_virtual_network_connections",
             "hub virtual network connections")]
    for hub_id in _rows_of(rows, T_VIRTUAL_HUB):
        ref = _ref(hub_id, "microsoft.network", "virtualhubs")
        failures = hub_errors.setdefault(hub_id, [])
        for row_type, segment, operations, what in vwan:
            if row_type not in required:
                continue
            record.setdefault(what, {"why": f"not in Resource Graph; the checks need every hub's {what}"})
            if ref is None:
                failures.append(f"virtual hub {hub_id}: its {what} could not be read (the id names no resource "
                                f"group); the spokes connected to it could not be judged")
                continue

            def answered(found: list[dict[str, Any]], what: str = what, hub_id: str = hub_id) -> None:
                extra.extend(found)
                done.append(f"{what} of {hub_id}")

            def failed(error: AzureError, what: str = what, hub_id: str = hub_id, failures: list[str] = failures) -> None:
                failures.append(f"virtual hub {hub_id}: its {what} could not be read from ARM ({describe(error)}); "
                                f"whether the spokes connected to it send Internet traffic to the hub firewall is "
                                f"unknown")

            plan.append(_Planned(Lookup(what, ref.subscription_id, _listed_rows(
                hub_id, ref, segment, row_type, operations, network_client)), answered, failed))
    if T_OUTBOUND_ENDPOINTS in required and container_client is not None:
        skipped: dict[str, int] = {}
        decided = endpoint_lookups(rows, required)
        if settle is not None and any(reason == NEEDED for reason in decided.values()):
            by_rules = {id_key(cluster_id): why for cluster_id, why in settle(rows).items()}
            decided = {cluster_id: reason or by_rules.get(id_key(cluster_id), NEEDED)
                       for cluster_id, reason in decided.items()}
        for cluster_id, reason in sorted(decided.items(), key=lambda item: id_key(item[0])):
            ref = _ref(cluster_id, "microsoft.containerservice", "managedclusters")
            if ref is None:
                continue
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
                continue

            def answered_endpoints(found: list[dict[str, Any]], cluster_id: str = cluster_id) -> None:
                extra.extend(found)
                done.append(f"{ENDPOINTS} of {cluster_id}")

            def failed_endpoints(error: AzureError, cluster_id: str = cluster_id) -> None:
                warnings.append(f"cluster {cluster_id}: its outbound network dependencies could not be read from "
                                f"the AKS API ({describe(error)}); AKS003 uses the documented list of required "
                                f"FQDNs instead")

            plan.append(_Planned(Lookup(ENDPOINTS, ref.subscription_id, _endpoint_rows(cluster_id, ref, container_client)),
                                 answered_endpoints, failed_endpoints))
        record[ENDPOINTS] = {"why": "AKS003 judges a firewall on a cluster's node egress path against the cluster's "
                                    "own dependency list", **({"skipped": skipped} if skipped else {})}
    routes: dict[str, str] | None = None
    if effective_routes and T_EFFECTIVE_ROUTES in required:
        routes = {}
        no_nic: dict[str, int] = {}
        for target in route_targets(rows):
            if not target.nic_id:
                routes[target.subnet_id] = target.reason
                no_nic[target.reason] = no_nic.get(target.reason, 0) + 1
                errors.append(f"AKS subnet {target.subnet_id}: Azure's effective routes could not be read: "
                              f"{target.reason}")
                continue

            def answered_routes(found: list[dict[str, Any]], subnet_id: str = target.subnet_id,
                                nic_id: str = target.nic_id) -> None:
                extra.extend(found)
                routes[subnet_id] = ""
                done.append(f"{ROUTES} of {nic_id}")

            def failed_routes(error: AzureError, subnet_id: str = target.subnet_id, nic_id: str = target.nic_id) -> None:
                forbidden = getattr(error, "status_code", None) == 403
                why = (f"the identity lacks {PERMISSION} on network interface {nic_id} ({describe(error)})" if forbidden
                       else f"network interface {nic_id} did not answer ({describe(error)})")
                routes[subnet_id] = why
                errors.append(f"AKS subnet {subnet_id}: Azure's effective routes could not be read: {why}; "
                              f"UDR009 cannot compare them with the route table")

            plan.append(_Planned(Lookup(ROUTES, target.nic_id.strip("/").split("/")[1],
                                        effective_route_call(target, network_client)), answered_routes, failed_routes))
        record[ROUTES] = {"why": "--effective-routes: what Azure applies to one node NIC per AKS subnet, compared "
                                 "with the route table by UDR009",
                          **({"skipped": no_nic} if no_nic else {})}
    failed_by_kind: dict[str, int] = {}
    for planned, answer in zip(plan, runner.run([p.lookup for p in plan])):
        if answer.error is not None:
            planned.failed(answer.error)
            failed_by_kind[planned.lookup.kind] = failed_by_kind.get(planned.lookup.kind, 0) + 1
        else:
            planned.answered(answer.value or [])
    for kind, counts in record.items():
        counts["made"] = sum(1 for p in plan if p.lookup.kind == kind)
        counts["failed"] = failed_by_kind.get(kind, 0)
    if VWAN_TYPES & required:
        for hub_id, failures in hub_errors.items():
            errors.extend(failures)
            hubs.append((hub_id, "; ".join(failures)))
    return Lookups(tuple(extra), tuple(errors), tuple(warnings), tuple(done), tuple(hubs),
                   tuple((kind, dict(counts)) for kind, counts in record.items()),
                   None if routes is None else tuple(sorted(routes.items(), key=lambda item: id_key(item[0]))))
