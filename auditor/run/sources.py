"""Where a scan's estate comes from: a snapshot file, or Azure now (Resource Graph or Resource
Manager), and what only a live scan can add (who changed what, from Resource Graph's change
tables). Everything below is a call into `aksaudit.collect`.
"""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from aksaudit.results import change_history as history
from aksaudit.run.bulk import gc_paused
from ..collect.arm import collect_arm
from ..collect.changes import change_reader, read_change_history
from ..collect.clients import AzureClients, connect
from ..collect.clouds import resolve_cloud
from ..collect.live import LiveOptions, collect_live
from ..collect.live_only import Settle, live_only_types
from ..collect.progress import counted_rows, make_progress
from ..collect.snapshot import Snapshot, estate_of, open_snapshot
from ..collect.throttle import RetryPolicy
from aksaudit.run.engine import ScanResult
from aksaudit.model.estate import Estate, build_estate
from aksaudit.model.resources import T_OUTBOUND_ENDPOINTS
from .request import LiveSource, Source

ARM_SOURCE_REASON = ("--source arm: change history comes from Resource Graph's change tables, which this scan "
                     "does not query")


def required_types(checks: Iterable[Any], dependency_lists: bool = True) -> tuple[str, ...]:
    """The union of the types the checks need: the collector queries nothing else. Routing
    intent, hub connections and outbound endpoints (not in Resource Graph) come with the types
    that imply them: see collect/live_only.py. Without `dependency_lists`, no cluster's own
    outbound dependency list is asked for."""
    needed = {t.lower() for check in checks for t in check.meta.requires}
    implied = live_only_types(needed) - (set() if dependency_lists else {T_OUTBOUND_ENDPOINTS})
    return tuple(sorted(needed | implied))


def _retry(source: LiveSource) -> RetryPolicy:
    return RetryPolicy(budget=max(0.0, source.retry_budget))


def live_clients(source: LiveSource) -> AzureClients:
    """The SDK clients for the source's cloud (one credential for the whole scan)."""
    return connect(resolve_cloud(source.cloud), retry_budget=max(0.0, source.retry_budget))


def settler(checks: Iterable[Any], options: Mapping[str, Mapping[str, Any]] | None = None) -> Settle | None:
    """Which clusters' dependency lists cannot change a verdict, decided by the checks that read
    them on a model of the rows before the lookups (None when no check can say).

    A check module that reads the lists and can tell when they cannot change its verdict offers
    `settled_lookups(estate, options) -> {cluster id: why}` (AKS003, the only reader of the lists,
    does). The model is built once more for it, and only when some lookup is still wanted."""
    deciders = [(check, getattr(sys.modules.get(check.evaluate.__module__), "settled_lookups", None))
                for check in checks]
    deciders = [(check, decide) for check, decide in deciders if callable(decide)]
    if not deciders:
        return None

    def settle(rows: list[Mapping[str, Any]]) -> Mapping[str, str]:
        with gc_paused():
            estate = build_estate(rows)
            settled: dict[str, str] = {}
            for check, decide in deciders:
                settled.update(decide(estate, {**check.meta.options, **(options or {}).get(check.id, {})}))
        return settled
    return settle


def collect(source: LiveSource, checks: Iterable[Any], clients: AzureClients | None = None,
            check_options: Mapping[str, Mapping[str, Any]] | None = None) -> Snapshot:
    """Rows of every type the checks need, from Resource Graph (or, with api 'arm', ARM).

    Lookups are settled by rule content only for a scan, which knows the options its checks run
    with (`check_options`); a saved snapshot may be scanned later with other options, so it
    keeps every list the rows alone cannot rule out."""
    # The SDKs log failures we report ourselves, better worded; keep their lines off the terminal.
    logging.getLogger("azure").addHandler(logging.NullHandler())
    checks = tuple(checks)
    options = LiveOptions(retry=_retry(source), batch_size=source.batch_size,
                          split_scopes=source.subscription_batch is not None, effective_routes=source.effective_routes,
                          settle=settler(checks, check_options) if check_options is not None else None)
    reader = collect_arm if source.api == "arm" else collect_live
    return reader(required_types(checks, source.dependency_lists), source.scope, clients or live_clients(source), options=options,
                  progress=make_progress(quiet=source.quiet))


@dataclass(frozen=True)
class Collected:
    """A source read and modelled; `clients` is set when it was read live (for change history)."""

    snapshot: Snapshot
    estate: Estate
    clients: AzureClients | None = None

    @property
    def gaps(self) -> tuple[str, ...]:
        """What could not be read: the collection's gaps, each row the model rejected, and each datum
        a resource always has that its row lacked."""
        missing = () if self.snapshot.complete else tuple(self.snapshot.gaps)
        return missing + tuple(row.describe() for row in self.estate.rejected) + tuple(self.estate.data_gaps)


def read_source(source: Source, checks: Iterable[Any],
                check_options: Mapping[str, Mapping[str, Any]] | None = None) -> Collected:
    """The estate of a source, holding at least what `checks` need (run with `check_options`)."""
    if isinstance(source, LiveSource):
        clients = live_clients(source)
        snapshot = collect(source, checks, clients, check_options)
    else:
        clients, snapshot = None, open_snapshot(source.path)
        snapshot = replace(snapshot, rows=counted_rows(snapshot.rows, f"reading {source.path!r}",
                                                       _size(source.path)))
    with gc_paused():  # rows are streamed from the file into the model; see aksaudit.run.bulk
        return Collected(snapshot, estate_of(snapshot), clients)


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0  # the snapshot reader has already said what is wrong with it


def with_change_history(result: ScanResult, collected: Collected, source: Source,
                        approved: Mapping[str, Any] | None) -> ScanResult:
    """Who changed what the new findings and drift findings point at: from Resource Graph's
    change tables in a live scan, or 'unavailable' (and why) when that cannot be asked."""
    if collected.clients is None or not isinstance(source, LiveSource):
        return history.unavailable(result)
    if source.api == "arm":  # --source arm promises not a single Resource Graph request
        return history.unavailable(result, ARM_SOURCE_REASON)
    wanted = history.wanted(result, collected.estate, approved)
    if not wanted:
        return result
    progress = make_progress(quiet=source.quiet)
    try:
        found = read_change_history(change_reader(collected.clients, LiveOptions(retry=_retry(source)), progress),
                                    history.all_ids(wanted))
    finally:
        progress.close()
    return history.attach(result, found, wanted)
