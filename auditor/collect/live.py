"""A live scan: the estate read from Azure Resource Graph for the scopes asked, as a Snapshot.

The steps, each in its own module: resolve `--subscription` names and find the ones the identity
cannot read (scopes), plan one query per table for the types the checks need (queries), read
every page of each query for each scope batch concurrently within the quota (graph, throttle),
and complete rule collection groups that came without rules (rule_groups). The result is the
same `Snapshot` a file gives, with `meta` saying what was asked, what was sent, and exactly what
is missing, so `scan` treats a live estate and a saved one the same way.
"""
from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping

from azure.core.exceptions import AzureError

from .. import __version__
from aksaudit.model.row_fields import id_key
from .clients import AzureClients
from .graph import GraphReader, GraphScope, QueryOutcome, describe
from .identity import auth_failure, is_auth_failure
from .interrupt import interruptible
from .live_only import LIVE_ONLY_TYPES, Settle, read_live_only
from .lookups import ARM_WORKERS, LookupRunner
from .progress import NullProgress, Progress
from .queries import PAGE_SIZE, SUBSCRIPTION_BATCH, TableQuery, batched, plan_queries, subscriptions_query
from .rule_groups import complete_rule_groups
from .scopes import ScopeError, Subscription, is_subscription_id, resolve_names, split_visible, subscriptions_from_rows
from .snapshot import SNAPSHOT_FORMAT, SNAPSHOT_VERSION, Snapshot
from .throttle import Budget, Clock, RetryPolicy, SystemClock

LIVE_SOURCE = "Azure Resource Graph"


@dataclass(frozen=True)
class ScopeRequest:
    """What to audit: subscriptions (ids or display names), management groups, or neither (tenant)."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()

    def labels(self) -> tuple[str, ...]:
        if not self.subscriptions and not self.management_groups:
            return ("tenant",)
        return (tuple(f"subscription:{s}" for s in self.subscriptions)
                + tuple(f"managementGroup:{m}" for m in self.management_groups))


@dataclass(frozen=True)
class LiveOptions:
    concurrency: int = 8  # requests in flight at once; the limiter still keeps them inside the quota
    page_size: int = PAGE_SIZE
    batch_size: int = SUBSCRIPTION_BATCH
    # With a tenant or management-group scope: list its subscriptions first and query them
    # `batch_size` at a time (--subscription-batch), instead of letting Resource Graph expand it.
    split_scopes: bool = False
    timeout: float = 60.0  # seconds to connect, and to wait for a response, per request
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    arm_concurrency: int = ARM_WORKERS  # ARM lookups in flight at once, within each subscription's read bucket
    # Which clusters' dependency lists cannot change a verdict by the rules on their path (see
    # live_only.read_live_only); None asks for every list the rows alone cannot rule out.
    settle: Settle | None = field(default=None, compare=False)
    # --effective-routes: read Azure's effective routes of one node NIC per AKS subnet (UDR009).
    effective_routes: bool = False


@dataclass(frozen=True)
class _Targets:
    scopes: tuple[GraphScope, ...]
    names: Mapping[str, str]  # subscription id -> display name
    unreadable: tuple[str, ...]
    labels: tuple[str, ...]  # what was asked, with display names resolved to ids


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class _Collector:
    """One scan's shared state: the reader, the worker pool, and every query outcome so far."""

    def __init__(self, reader: GraphReader, pool: ThreadPoolExecutor, options: LiveOptions) -> None:
        self.reader = reader
        self.pool = pool
        self.options = options
        self.outcomes: list[QueryOutcome] = []
        self._cut_short: set[int] = set()  # ids of outcomes that stopped at the subscription cap
        self._lock = threading.Lock()

    def read_all(self, units: Iterable[tuple[TableQuery, GraphScope]], stop_at_limit: bool = True) -> list[QueryOutcome]:
        """Every query at every scope. With one worker, pages follow $skipToken, one at a time (the
        recorded cassettes replay that); with more, page 1 of each query goes first and then all
        its other pages at once by offset, so the quota, not the latency of a page chain, sets
        the pace (see GraphReader.start)."""
        units = list(units)
        if self.options.concurrency <= 1:
            futures = [self.pool.submit(self.reader.read, query, scope) for query, scope in units]
            results = [future.result() for future in futures]
        else:
            firsts = {self.pool.submit(self.reader.start, query, scope, "", stop_at_limit): index
                      for index, (query, scope) in enumerate(units)}
            started: dict[int, tuple[Any, list]] = {}
            for done in as_completed(firsts):
                first = done.result()
                tally = self.reader.tally(first)
                started[firsts[done]] = (first, [self.pool.submit(self.reader.page_at, first, index, tally)
                                                 for index in self.reader.rest(first)])
            results = [self.reader.finish(*started[index]) for index in range(len(units))]
            cut = {id(result) for index, result in enumerate(results) if started[index][0].cut_short}
            with self._lock:
                self._cut_short |= cut
        with self._lock:
            self.outcomes.extend(results)
        return results

    def read_whole(self, outcome: QueryOutcome) -> QueryOutcome:
        """An outcome that stopped at the subscription cap, read to its end after all."""
        if id(outcome) not in self._cut_short:
            return outcome
        return self.read_all([(outcome.query, outcome.scope)], stop_at_limit=False)[0]

    def list_subscriptions(self, scope: GraphScope) -> QueryOutcome:
        return self.read_all([(subscriptions_query(), scope)])[0]

    def targets(self, request: ScopeRequest) -> _Targets:
        if not request.subscriptions and self.options.split_scopes:
            listing = self.list_subscriptions(GraphScope(management_groups=request.management_groups))
            if listing.complete:
                found = subscriptions_from_rows(listing.rows)
                scopes = tuple(GraphScope(subscriptions=b)
                               for b in batched([s.id for s in found], self.options.batch_size))
                return _Targets(scopes, {s.id: s.name for s in found}, (), request.labels())
            # Not listable: query the scope as a whole; its own failure, if any, is reported.
        if not request.subscriptions:
            scopes = (GraphScope(management_groups=request.management_groups),)
            return _Targets(scopes, {}, (), request.labels())
        tokens = list(dict.fromkeys(t.strip() for t in request.subscriptions if t.strip()))
        ids = [t.lower() for t in tokens if is_subscription_id(t)]
        names = [t for t in tokens if not is_subscription_id(t)]
        if names:
            listing = self.list_subscriptions(GraphScope())
            try:
                ids += [s.id for s in resolve_names(names, subscriptions_from_rows(listing.rows))]
            except ScopeError as error:
                if listing.complete:
                    raise
                raise ScopeError(f"{error} (the subscription listing itself was incomplete: "
                                 f"{listing.error or 'more than 10,000 subscriptions'})") from error
        visible: list[Subscription] = []
        checks = [(subscriptions_query(), GraphScope(subscriptions=batch))
                  for batch in batched(list(dict.fromkeys(ids)), self.options.batch_size)]
        for listing in self.read_all(checks):
            if listing.error and not listing.forbidden:
                # Visibility unknown: query anyway, the data query will report its own failure.
                visible.extend(Subscription(s, s) for s in listing.scope.subscriptions)
            visible.extend(subscriptions_from_rows(listing.rows))
        resolution = split_visible(ids, visible)
        readable = [s.id for s in resolution.readable]
        scopes = tuple(GraphScope(subscriptions=b) for b in batched(readable, self.options.batch_size))
        if request.management_groups:
            scopes += (GraphScope(management_groups=request.management_groups),)
        labels = tuple(f"subscription:{s}" for s in dict.fromkeys(ids)) + tuple(
            f"managementGroup:{m}" for m in request.management_groups)
        return _Targets(scopes, {s.id: s.name for s in resolution.readable}, resolution.unreadable, labels)

    def expand_limit_hits(self, outcomes: list[QueryOutcome]) -> list[QueryOutcome]:
        """Tenant or MG queries that hit the 10,000-subscription cap are redone in subscription batches."""
        final: list[QueryOutcome] = []
        listings: dict[GraphScope, QueryOutcome] = {}
        for outcome in outcomes:
            if not outcome.limit_hit or outcome.scope.subscriptions or outcome.error:
                final.append(outcome)
                continue
            if outcome.scope not in listings:
                listings[outcome.scope] = self.list_subscriptions(outcome.scope)
            listing = listings[outcome.scope]
            if not listing.complete:
                final.append(self.read_whole(outcome))  # the first 10,000 subscriptions, at least
                continue
            subs = [s.id for s in subscriptions_from_rows(listing.rows)]
            final.extend(self.read_all((outcome.query, GraphScope(subscriptions=b))
                                       for b in batched(subs, self.options.batch_size)))
        return final


def _gaps(outcomes: Iterable[QueryOutcome]) -> tuple[list[str], list[str]]:
    """Named errors for everything missing, and the subscriptions whose data is not whole."""
    errors: list[str] = []
    unreadable: list[str] = []
    for outcome in outcomes:
        if outcome.error:
            errors.append(outcome.error)
        elif outcome.limit_hit:
            errors.append(f"{outcome.query.table} ({outcome.scope.label()}): Resource Graph searched only the first "
                          f"10,000 subscriptions (x-ms-tenant-subscription-limit-hit) and they could not be listed "
                          f"to query in batches")
        if outcome.error and outcome.scope.subscriptions:
            unreadable.extend(outcome.scope.subscriptions)
    return errors, unreadable


def _hidden_members(groups: Iterable[str], collector: _Collector, clients: AzureClients) -> tuple[list[str], list[str]]:
    """Subscriptions below the management groups that this identity cannot read, and gaps.

    Resource Graph trims every answer to what the caller may read: a management-group query
    leaves an unreadable subscription out without a word, and the scan would look complete. The
    groups' members come from ARM (management group descendants), the readable ones from Resource
    Graph; the difference is missing data. When the members cannot be listed, that is a gap too.
    """
    groups = tuple(groups)
    if not groups:
        return [], []
    from .arm import ArmCollector  # arm.py builds on this module

    arm = ArmCollector(clients, collector.options, NullProgress())
    members: list[str] = []
    gaps: list[str] = []
    for group in groups:
        try:
            found, _ = arm.in_group(group)
        except AzureError as error:
            if is_auth_failure(error):
                raise
            gaps.append(f"management group {group}: its subscriptions could not be listed ({describe(error)}); "
                        f"any this identity cannot read would be missing without notice")
            continue
        members += found
    if not members:
        return [], gaps
    listing = collector.list_subscriptions(GraphScope(management_groups=groups))
    if listing.error:
        return [], gaps + [f"{listing.error} (the readable subscriptions of the management groups could not be "
                           f"listed; any this identity cannot read would be missing without notice)"]
    readable = {s.id for s in subscriptions_from_rows(listing.rows)}
    return [m for m in dict.fromkeys(members) if m not in readable], gaps


def _unique(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One row per id: overlapping scopes (an MG and a subscription in it) return rows twice."""
    seen: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        raw_id = row.get("id") if isinstance(row, Mapping) else None
        seen.setdefault(id_key(raw_id) if isinstance(raw_id, str) else f"#{len(seen)}", row)
    return list(seen.values())


def collect_live(required_types: Iterable[str], request: ScopeRequest, clients: AzureClients, *,
                 options: LiveOptions | None = None, clock: Clock | None = None, progress: Progress | None = None,
                 rand: Callable[[], float] = random.random) -> Snapshot:
    """Read the estate; raises AuthenticationFailed (exit 2) and ScopeError, never for missing data."""
    options = options or LiveOptions()
    clock = clock or SystemClock()
    progress = progress or NullProgress()
    started = utc_now()
    limiter = clients.limits.graph(clock)  # shared with the change-history queries after the scan
    reader = GraphReader(clients.graph, clock=clock, limiter=limiter, policy=options.retry,
                         budget=Budget(clock, options.retry.budget), progress=progress, page_size=options.page_size,
                         timeout=options.timeout, rand=rand)
    required_types = tuple(required_types)
    queries = plan_queries(t for t in required_types if t.lower() not in LIVE_ONLY_TYPES)
    with worker_pool(options.concurrency, "aksaudit-arg", clients, progress) as pool:
        collector = _Collector(reader, pool, options)
        targets = collector.targets(request)
        hidden, member_gaps = _hidden_members(request.management_groups, collector, clients)
        data = collector.expand_limit_hits(collector.read_all((q, s) for q in queries for s in targets.scopes))
        errors, unreadable = _gaps(data)
        unreadable = list(dict.fromkeys([*targets.unreadable, *hidden, *unreadable]))
        errors = [f"subscription {s}: not readable by this identity (Resource Graph does not list it); "
                  f"its resources were not audited" for s in targets.unreadable] + [
                  f"subscription {s}: in management group {', '.join(request.management_groups)} but not readable by "
                  f"this identity (a management-group query leaves it out without saying so); its resources were "
                  f"not audited" for s in hidden if s not in targets.unreadable] + member_gaps + errors
        runner = lookup_runner(clients, options, clock)
        completion = complete_rule_groups(_unique(r for o in data for r in o.rows), clients.network, runner)
        # Routing intent, hub connections and a cluster's outbound endpoints: not in Resource Graph.
        lookups = read_live_only(completion.rows, required_types, clients.network, clients.containers, runner,
                                 options.settle, options.effective_routes)
    errors.extend(completion.errors)
    errors.extend(lookups.errors)
    meta = snapshot_meta(LIVE_SOURCE, clients, request, targets.names, started, errors, unreadable, {
        "queries": [{"table": o.query.table, "query": o.query.kql, "scope": o.scope.label(), "pages": o.pages,
                     "rows": len(o.rows), "complete": o.complete} for o in collector.outcomes],
        "rule_collection_groups_from_arm": list(completion.completed),
        **with_rule_groups(lookups.meta(), completion.record()),
        **runner.meta(),
    })
    return Snapshot([*completion.rows, *lookups.rows], meta, LIVE_SOURCE, targets.labels)


def with_rule_groups(meta: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The lookups' snapshot record with the rule collection group reads added to `arm_lookups`."""
    if not record:
        return dict(meta)
    return {**meta, "arm_lookups": {**record, **(meta.get("arm_lookups") or {})}}


def lookup_runner(clients: AzureClients, options: LiveOptions, clock: Clock | None = None) -> LookupRunner:
    """The scan's ARM lookups: `options.arm_concurrency` at a time, within the scan's ARM read buckets."""
    return LookupRunner(clients.limits.arm(clock), max(1, options.arm_concurrency))


@contextmanager
def worker_pool(workers: int, prefix: str, clients: AzureClients, progress: Progress) -> Iterator[ThreadPoolExecutor]:
    """A scan's worker threads: on the way out, a failed scan cancels what is queued, an
    authentication failure becomes the actionable AuthenticationFailed, and progress closes."""
    with interruptible():  # a Ctrl-C that a finalizer swallowed still stops the scan
        with _pool(workers, prefix, clients, progress) as pool:
            yield pool


@contextmanager
def _pool(workers: int, prefix: str, clients: AzureClients, progress: Progress) -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=prefix)
    interrupted = False
    try:
        yield pool
    except KeyboardInterrupt:
        # Ctrl-C: drop what is queued and do not wait for the requests in flight to answer.
        interrupted = True
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except Exception as error:
        pool.shutdown(wait=False, cancel_futures=True)
        if is_auth_failure(error):
            raise auth_failure(error, clients.cloud) from error
        raise
    finally:
        if not interrupted:
            pool.shutdown(wait=True)
        progress.close()


def snapshot_meta(source: str, clients: AzureClients, request: ScopeRequest, names: Mapping[str, str], started: str,
                  errors: list[str], unreadable: list[str], details: Mapping[str, Any]) -> dict[str, Any]:
    """The `meta` of a live snapshot, whichever source read it: what was asked, what was done
    (`details`), and exactly what is missing."""
    return {
        "format": SNAPSHOT_FORMAT,
        "format_version": SNAPSHOT_VERSION,
        "tool": {"name": "aksaudit", "version": __version__},
        "source": source,
        "cloud": clients.cloud.name,
        "scopes": {"subscriptions": list(request.subscriptions), "management_groups": list(request.management_groups),
                   "tenant": not request.subscriptions and not request.management_groups},
        "subscription_names": dict(names),
        "started_at": started,
        "finished_at": utc_now(),
        **details,
        "complete": not errors,
        "errors": errors,
        "unreadable_subscriptions": unreadable,
    }
