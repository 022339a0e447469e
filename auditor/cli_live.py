"""The live side of the command line: scope flags, and saving a live snapshot.

`scan` and `snapshot` take the same scope flags; declaring them once here keeps the two
commands from drifting apart. The flags become a `LiveSource`; collecting from it is the
pipeline's part (`aksaudit.run.sources`).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Iterable

from .collect.clouds import CLOUDS
from .collect.live import ScopeRequest
from .collect.queries import SUBSCRIPTION_BATCH
from .collect.snapshot import Snapshot, snapshot_document
from .collect.throttle import RetryPolicy
from .engine import ScanResult
from .output import write_atomic
from .run.request import LiveSource, Source
from .run.sources import collect


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("live collection from Azure Resource Graph "
                                      "(neither --subscription nor --management-group: every readable subscription)")
    group.add_argument("--subscription", action="append", metavar="ID|NAME",
                       help="a subscription id or display name to audit (repeatable)")
    group.add_argument("--management-group", action="append", metavar="ID",
                       help="a management group to audit, with every subscription below it (repeatable)")
    group.add_argument("--cloud", choices=tuple(CLOUDS), default="AzureCloud",
                       help="Azure cloud to sign in to and query (default: AzureCloud)")
    group.add_argument("--retry-budget", type=float, default=RetryPolicy().budget, metavar="SECONDS",
                       help="seconds without a successful request (from the start, then from the latest success) "
                            "past which throttled or failed requests are no longer retried and their data is "
                            "reported missing (default: %(default)s)")
    group.add_argument("--source", choices=("arg", "arm"), default="arg",
                       help="arg: Azure Resource Graph, a few paged queries for the whole scope (default); arm: "
                            "list every type per subscription from Azure Resource Manager, authoritative with no "
                            "indexing lag (e.g. right after a fix), but one request per subscription and type")
    group.add_argument("--subscription-batch", type=_batch_size, default=None, metavar="N",
                       help=f"subscriptions per Resource Graph request, 1-{SUBSCRIPTION_BATCH} (default "
                            f"{SUBSCRIPTION_BATCH}); with a tenant or management-group scope, its subscriptions are "
                            "listed first and queried N at a time")
    group.add_argument("--no-dependency-lists", dest="dependency_lists", action="store_false",
                       help="do not ask the AKS API for each cluster's own outbound dependency list; AKS003 judges "
                            "the documented required FQDNs instead (one ARM read per cluster fewer: see "
                            "docs/live-scans.md)")


def _batch_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= SUBSCRIPTION_BATCH:
        raise argparse.ArgumentTypeError(f"must be between 1 and {SUBSCRIPTION_BATCH}, got {value}")
    return value


def has_live_scope(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "subscription", None) or getattr(args, "management_group", None))


def live_source(args: argparse.Namespace) -> LiveSource:
    """The live source the scope flags describe."""
    return LiveSource(
        scope=ScopeRequest(tuple(s.strip() for s in args.subscription or () if s.strip()),
                           tuple(m.strip() for m in args.management_group or () if m.strip())),
        cloud=args.cloud, retry_budget=args.retry_budget, api=args.source, subscription_batch=args.subscription_batch,
        quiet=args.quiet, dependency_lists=getattr(args, "dependency_lists", True))


def _warn_collection(meta: Any) -> None:
    for warning in (meta or {}).get("warnings") or ():
        print(f"aksaudit: warning: {warning}", file=sys.stderr)


def report_collection(source: Source, result: ScanResult) -> None:
    """What a live collection warned about (a saved snapshot's warnings were shown when it was saved)."""
    if isinstance(source, LiveSource):
        _warn_collection(result.meta)


def add_snapshot_command(commands: Any) -> None:
    parser = commands.add_parser("snapshot", help="save the estate from Resource Graph for offline scans and drift baselines")
    add_live_arguments(parser)
    parser.add_argument("-o", "--output", metavar="PATH", required=True, help="snapshot file to write ('-' for stdout)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def write_live_snapshot(args: argparse.Namespace, checks: Iterable[Any]) -> Snapshot:
    """Collect what every given check needs and write it; gaps are listed on stderr."""
    snapshot = collect(live_source(args), checks)
    _warn_collection(snapshot.meta)
    write_atomic(args.output, json.dumps(snapshot_document(snapshot), indent=1, ensure_ascii=False) + "\n")
    for gap in snapshot.gaps:
        print(f"aksaudit: gap: {gap}", file=sys.stderr)
    state = "complete" if snapshot.complete else "INCOMPLETE"
    print(f"aksaudit: {len(snapshot.rows)} row(s) from {', '.join(snapshot.scope_labels)} -> {args.output} ({state})",
          file=sys.stderr)
    return snapshot
