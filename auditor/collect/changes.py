"""Who changed it: Resource Graph's change history for the resources findings point at.

Resource Graph keeps a record of every create, update and delete of a tracked resource for 14
days: `resourcechanges` for the `resources` table's types, `networkresourcechanges` for those of
`networkresources` (rule collection groups). Each record says when, what (property paths with
their previous and new values) and, where Azure knows it, who (`changedBy`), through what
(`clientType`) and which operation. The table holds exactly the retention window, so the
queries ask for all of it for the ids wanted.

Queries go through the same `GraphReader` as the estate (quota limiter, retries, paging, named
errors), `BATCH` ids at a time, scoped to the subscriptions of those ids. A failed query never
raises: its ids are reported unavailable with the reason.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from aksaudit.model.row_fields import subscription_of
from .graph import GraphReader, GraphScope, describe
from .identity import is_auth_failure
from .interrupt import interruptible
from .progress import NullProgress, Progress
from .throttle import Budget, Clock, QuotaLimiter, SystemClock
from .queries import SUBSCRIPTION_BATCH, TableQuery, _quote, batched

RESOURCE_CHANGES = "resourcechanges"
NETWORK_RESOURCE_CHANGES = "networkresourcechanges"
RETENTION_DAYS = 14  # how long Resource Graph keeps change records
BATCH = 200  # ids per query: keeps the query text small, whatever the number of findings
CHANGE_COLUMNS = ("id", "properties")


def change_table(resource_id: str) -> str:
    """Rule collection groups live in `networkresources`, so their changes in its change table."""
    return NETWORK_RESOURCE_CHANGES if "/rulecollectiongroups/" in resource_id.lower() else RESOURCE_CHANGES


def change_query(table: str, resource_ids: Iterable[str]) -> TableQuery:
    """The changes of these resources (compared case-insensitively), sorted by id for stable pages."""
    wanted = tuple(sorted({r.lower() for r in resource_ids}))
    kql = (f"{table} | where tostring(properties.targetResourceId) in~ ({', '.join(_quote(r) for r in wanted)}) "
           f"| project {', '.join(CHANGE_COLUMNS)} | order by id asc")
    return TableQuery(table, (), kql)


@dataclass(frozen=True)
class ChangeQuery:
    query: TableQuery
    scope: GraphScope
    resource_ids: tuple[str, ...]  # lower-cased


def plan_change_queries(resource_ids: Iterable[str], batch: int = BATCH) -> list[ChangeQuery]:
    """One query per table and batch of ids, scoped to the subscriptions those ids live in."""
    by_table: dict[str, list[str]] = {}
    for resource_id in sorted({r.lower() for r in resource_ids if subscription_of(r)}):
        by_table.setdefault(change_table(resource_id), []).append(resource_id)
    plan = []
    for table, ids in sorted(by_table.items()):
        for chunk in batched(ids, batch):
            subscriptions = sorted({subscription_of(r) for r in chunk})
            for scope_batch in batched(subscriptions, SUBSCRIPTION_BATCH):
                ids = tuple(r for r in chunk if subscription_of(r) in scope_batch)
                plan.append(ChangeQuery(change_query(table, ids), GraphScope(subscriptions=tuple(scope_batch)), ids))
    return plan


@dataclass(frozen=True)
class Change:
    """One change record, reduced to what a reader of a finding needs."""

    record_id: str
    target_resource_id: str
    timestamp: str
    change_type: str
    properties: tuple[tuple[str, Any, Any], ...]  # (property path, previous value, new value)
    changed_by: str = ""
    client_type: str = ""
    operation: str = ""
    correlation_id: str = ""

    def sort_key(self) -> tuple:
        return (_when(self.timestamp), self.record_id.lower())

    def as_evidence(self) -> dict[str, Any]:
        item: dict[str, Any] = {"timestamp": self.timestamp, "change_type": self.change_type,
                                "resource_id": self.target_resource_id}
        for key in ("changed_by", "client_type", "operation", "correlation_id"):
            if getattr(self, key):
                item[key] = getattr(self, key)
        item["properties"] = [{"path": path, "previous_value": old, "new_value": new}
                              for path, old, new in self.properties]
        return item


_NEVER = datetime(1, 1, 1, tzinfo=timezone.utc)


def _when(timestamp: str) -> datetime:
    """Timestamps compare as instants (Azure writes 7 fractional digits; Python reads 6)."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", timestamp.strip().replace("Z", "+00:00"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return _NEVER
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_change(row: Mapping[str, Any]) -> Change | None:
    """A `resourcechanges` row as a Change; None for a row without a target or a time."""
    properties = row.get("properties") if isinstance(row, Mapping) else None
    if not isinstance(properties, Mapping):
        return None
    attributes = properties.get("changeAttributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    target, timestamp = _text(properties.get("targetResourceId")), _text(attributes.get("timestamp"))
    if not target or not timestamp:
        return None
    changes = properties.get("changes")
    paths = []
    if isinstance(changes, Mapping):
        for path, detail in sorted(changes.items(), key=lambda item: str(item[0])):
            detail = detail if isinstance(detail, Mapping) else {}
            paths.append((str(path), detail.get("previousValue"), detail.get("newValue")))
    return Change(_text(row.get("id")), target, timestamp, _text(properties.get("changeType")), tuple(paths),
                  _text(attributes.get("changedBy")), _text(attributes.get("clientType")),
                  _text(attributes.get("operation")), _text(attributes.get("correlationId")))


@dataclass(frozen=True)
class ChangeHistory:
    """Change records by lower-cased target id, and why the history of some ids is unknown."""

    changes: Mapping[str, tuple[Change, ...]]  # newest first
    unavailable: Mapping[str, str]  # lower-cased id -> reason
    errors: tuple[str, ...] = ()

    def of(self, resource_ids: Iterable[str]) -> tuple[list[Change], list[str]]:
        """Every change to these resources, newest first, and the reasons any of them is unknown."""
        found: dict[str, Change] = {}
        reasons: list[str] = []
        for resource_id in resource_ids:
            key = resource_id.lower()
            if key in self.unavailable and self.unavailable[key] not in reasons:
                reasons.append(self.unavailable[key])
            for change in self.changes.get(key, ()):
                found.setdefault(change.record_id.lower() or f"{key}@{change.timestamp}", change)
        return sorted(found.values(), key=Change.sort_key, reverse=True), reasons


def change_reader(clients: Any, options: Any, progress: Progress | None = None, clock: Clock | None = None) -> GraphReader:
    """A reader like the estate's (`collect_live`), with the same retries and budget rules and
    the very same quota limiter (`clients.limits`): the history's pages are scheduled within the
    quota window the estate's queries left, not as if the scan had sent nothing."""
    clock = clock or SystemClock()
    limits = getattr(clients, "limits", None)
    limiter = limits.graph(clock) if limits is not None else \
        QuotaLimiter(clock, poll=QuotaLimiter.POLL if isinstance(clock, SystemClock) else None)
    return GraphReader(clients.graph, clock=clock, limiter=limiter, policy=options.retry,
                       budget=Budget(clock, options.retry.budget), progress=progress or NullProgress(),
                       page_size=options.page_size, timeout=options.timeout)


def read_change_history(reader: GraphReader, resource_ids: Iterable[str], *, workers: int = 4,
                        batch: int = BATCH) -> ChangeHistory:
    """Query the change tables for these ids; failures are reasons, never exceptions (but an
    authentication failure, as everywhere, still raises, and so does Ctrl-C, even one a
    finalizer swallowed: see interrupt.py)."""
    with interruptible():
        return _read_change_history(reader, resource_ids, workers, batch)


def _read_change_history(reader: GraphReader, resource_ids: Iterable[str], workers: int, batch: int) -> ChangeHistory:
    plan = plan_change_queries(resource_ids, batch)
    if not plan:
        return ChangeHistory({}, {})
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(plan))), thread_name_prefix="aksaudit-changes")
    try:
        outcomes = list(pool.map(lambda unit: reader.read(unit.query, unit.scope), plan))
    except Exception as error:
        pool.shutdown(wait=False, cancel_futures=True)
        if not is_auth_failure(error):
            raise
        # The estate was read; a token refused now costs the history, not the scan.
        reason = f"change history query failed: {describe(error)}"
        return ChangeHistory({}, {r: reason for unit in plan for r in unit.resource_ids}, (describe(error),))
    except BaseException:  # Ctrl-C: do not wait for the requests in flight
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    changes: dict[str, list[Change]] = {}
    unavailable: dict[str, str] = {}
    errors = []
    for unit, outcome in zip(plan, outcomes):
        if outcome.error:
            errors.append(outcome.error)
            for resource_id in unit.resource_ids:
                unavailable[resource_id] = f"change history query failed: {outcome.error}"
            # Rows that did arrive are still true; they are kept, the gap is named beside them.
        for row in outcome.rows:
            change = parse_change(row)
            if change is not None:
                changes.setdefault(change.target_resource_id.lower(), []).append(change)
    ordered = {key: tuple(sorted(items, key=Change.sort_key, reverse=True)) for key, items in changes.items()}
    return ChangeHistory(ordered, unavailable, tuple(errors))

