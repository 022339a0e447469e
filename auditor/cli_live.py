"""The live side of the command line: scope flags, and collecting or saving a live snapshot.

`scan` and `snapshot` take the same scope flags; declaring them once here keeps the two
commands from drifting apart. Everything below the flags is a call into `aksaudit.collect`.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Iterable, Mapping

from .collect.changes import change_reader, read_change_history
from .collect.clients import AzureClients, connect
from .collect.clouds import CLOUDS, resolve_cloud
from .collect.arm import collect_arm
from .collect.live import LiveOptions, ScopeRequest, collect_live
from .collect.live_only import live_only_types
from .collect.queries import SUBSCRIPTION_BATCH
from .collect.progress import make_progress
from .collect.snapshot import Snapshot, snapshot_document
from .collect.throttle import RetryPolicy
from .engine import ScanResult
from .model import Estate
from .output import write_atomic


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


def scope_request(args: argparse.Namespace) -> ScopeRequest:
    return ScopeRequest(tuple(s.strip() for s in args.subscription or () if s.strip()),
                        tuple(m.strip() for m in args.management_group or () if m.strip()))


def required_types(checks: Iterable[Any]) -> tuple[str, ...]:
    """The union of the types the checks need: the collector queries nothing else. Routing
    intent, hub connections and outbound endpoints (not in Resource Graph) come with the types
    that imply them: see collect/live_only.py."""
    needed = {t.lower() for check in checks for t in check.meta.requires}
    return tuple(sorted(needed | live_only_types(needed)))


def live_clients(args: argparse.Namespace) -> AzureClients:
    """The SDK clients for the cloud on the command line (one credential for the whole scan)."""
    return connect(resolve_cloud(args.cloud), retry_budget=max(0.0, args.retry_budget))


def live_snapshot(args: argparse.Namespace, checks: Iterable[Any], quiet: bool = False,
                  clients: AzureClients | None = None) -> Snapshot:
    """Collect from Resource Graph (or, with --source arm, ARM) for the scopes on the command line."""
    # The SDKs log failures we report ourselves, better worded; keep their lines off the terminal.
    logging.getLogger("azure").addHandler(logging.NullHandler())
    batch = getattr(args, "subscription_batch", None)
    options = LiveOptions(retry=RetryPolicy(budget=max(0.0, args.retry_budget)),
                          batch_size=batch or SUBSCRIPTION_BATCH, split_scopes=batch is not None)
    collect = collect_arm if getattr(args, "source", "arg") == "arm" else collect_live
    snapshot = collect(required_types(checks), scope_request(args), clients or live_clients(args), options=options,
                       progress=make_progress(quiet=quiet))
    for warning in snapshot.meta.get("warnings") or ():
        print(f"aksaudit: warning: {warning}", file=sys.stderr)
    return snapshot


ARM_SOURCE_REASON = ("--source arm: change history comes from Resource Graph's change tables, which this scan "
                     "does not query")


def with_change_history(args: argparse.Namespace, result: ScanResult, estate: Estate, clients: AzureClients | None,
                        approved: Mapping[str, Any] | None) -> ScanResult:
    """Who changed what the new findings and DRIFT001 point at: from Resource Graph's change
    tables in a live scan (`clients`), or 'unavailable' when the estate came from a file."""
    from . import history
    if clients is None:
        return history.unavailable(result)
    if getattr(args, "source", "arg") == "arm":  # --source arm promises not a single Resource Graph request
        return history.unavailable(result, ARM_SOURCE_REASON)
    wanted = history.wanted(result, estate, approved)
    if not wanted:
        return result
    options = LiveOptions(retry=RetryPolicy(budget=max(0.0, args.retry_budget)))
    progress = make_progress(quiet=args.quiet)
    try:
        found = read_change_history(change_reader(clients, options, progress), history.all_ids(wanted))
    finally:
        progress.close()
    return history.attach(result, found, wanted)


def add_snapshot_command(commands: Any) -> None:
    parser = commands.add_parser("snapshot", help="save the estate from Resource Graph for offline scans and drift baselines")
    add_live_arguments(parser)
    parser.add_argument("-o", "--output", metavar="PATH", required=True, help="snapshot file to write ('-' for stdout)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def write_live_snapshot(args: argparse.Namespace, checks: Iterable[Any]) -> Snapshot:
    """Collect what every given check needs and write it; gaps are listed on stderr."""
    snapshot = live_snapshot(args, checks, quiet=args.quiet)
    write_atomic(args.output, json.dumps(snapshot_document(snapshot), indent=1, ensure_ascii=False) + "\n")
    for gap in snapshot.gaps:
        print(f"aksaudit: gap: {gap}", file=sys.stderr)
    state = "complete" if snapshot.complete else "INCOMPLETE"
    print(f"aksaudit: {len(snapshot.rows)} row(s) from {', '.join(snapshot.scope_labels)} -> {args.output} ({state})",
          file=sys.stderr)
    return snapshot
