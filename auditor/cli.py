"""Command line: argument parsing and wiring only. Every command that scans turns its arguments
into a `ScanRequest` and hands it to the one pipeline (`aksaudit.run.pipeline`); every decision
lives in a testable function. Exit codes: see `aksaudit.run.exit_policy`.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Sequence

from rich.console import Console

from . import __version__
from .approval import approval_document, diff_estates, diff_text, load_approval
from .baseline import load_baseline
from .cli_live import add_live_arguments, add_snapshot_command, has_live_scope, live_source, report_collection, write_live_snapshot
from .cli_remediation import add_remediate_command, add_remediation_arguments, cmd_remediate, header_of, write_script
from .collect.errors import CannotStart
from .completion import add_completion_command, completion_script
from .merge import add_merge_command, cmd_merge
from .why_command import add_why_command, cmd_why
from .collect.snapshot import InputError
from .bulk import gc_paused
from .config import Config, ConfigError, load_config
from .engine import ScanResult, now_iso, select_checks
from .output import write_atomic
from .registry import Registry, RegistryError, load_registry
from .reports.formats import ReportFormat
from .reports.terminal import plain
from .run.exit_policy import (
    DEFAULT_FAIL_ON, EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, FAIL_ON, exit_code,
)
from .run.pipeline import run
from .run.request import ScanRequest, SnapshotSource
from .run.sources import read_source


class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with the message."""


def _split(values: Sequence[str] | None) -> list[str]:
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def write_reports(args: argparse.Namespace, result: ScanResult, shown: ScanResult | None = None) -> list[str]:
    """Write every requested report atomically ('-' streams to stdout); return warnings for the user.

    `shown` is what the reports people read are rendered from (the result with subscription ids
    pseudonymised, under --redact-subscriptions); JSON, the machine contract, always gets `result`.
    """
    shown = shown or result
    with gc_paused():  # rendering builds millions of short-lived acyclic objects: see aksaudit.bulk
        for report in ReportFormat:
            if getattr(args, report.value, None):
                write_atomic(getattr(args, report.value), report.render(result if report.machine_contract else shown))
        sarif_dir = getattr(args, "sarif_dir", None)
        if not (sarif_dir or getattr(args, "sarif", None)):
            return []
        from .reports import sarif
        if sarif_dir:
            for filename, text in sarif.render_per_subscription(shown).items():
                write_atomic(Path(sarif_dir) / filename, text)
        return sarif.warnings(shown, per_subscription=bool(sarif_dir))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aksaudit", description="Audit AKS egress: UDRs, firewall placement and rules.")
    parser.add_argument("--version", action="version", version=f"aksaudit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log to stderr what the Azure SDK does: -v which credential signed in, "
                             "-vv every HTTP request (authorization headers redacted)")
    commands = parser.add_subparsers(dest="command", required=True)

    scan = commands.add_parser("scan", help="evaluate an estate and write findings")
    scan.add_argument("--snapshot", metavar="FILE", help="Resource Graph rows: JSON array, az graph query output, or an aksaudit snapshot")
    scan.add_argument("--json", metavar="PATH", help="write JSON v1 results ('-' for stdout)")
    scan.add_argument("--sarif", metavar="PATH", help="write SARIF 2.1.0 for GitHub code scanning, one run (category aksaudit/all/)")
    scan.add_argument("--sarif-dir", metavar="DIR", help="write one SARIF file per subscription (category aksaudit/subscription-<id>/)")
    scan.add_argument("--html", metavar="PATH", help="write the self-contained interactive HTML report")
    scan.add_argument("--markdown", metavar="PATH", help="write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)")
    scan.add_argument("--fail-on", choices=FAIL_ON, default=None, help="lowest severity that makes the exit code 1 (default: the config file's, else low)")
    scan.add_argument("--config", metavar="PATH", help="configuration file (default: aksaudit.toml or [tool.aksaudit] in pyproject.toml, from here upward)")
    scan.add_argument("--as-of", metavar="DATE", type=date.fromisoformat, default=None, help="judge suppression expiry as of this date (default: today)")
    scan.add_argument("--select", action="append", metavar="IDS", help="only these checks (ids or slugs, comma-separated)")
    scan.add_argument("--ignore", action="append", metavar="IDS", help="skip these checks (ids or slugs, comma-separated)")
    scan.add_argument("--quiet", action="store_true", help="no terminal summary")
    scan.add_argument("--baseline", metavar="PREVIOUS.json", help="a previous JSON v1 result: mark findings new/unchanged/reappeared and list resolved ones")
    scan.add_argument("--fail-on-new", action="store_true", help="with --baseline: only new or reappeared findings fail the run")
    scan.add_argument("--approved", metavar="FILE", help="approved egress baseline (from 'baseline approve'): report every cluster whose egress path drifted from it")
    scan.add_argument("--redact-subscriptions", action="store_true",
                      help="show subscription ids as stable pseudonyms (sub-<8 hex>) in SARIF, HTML, Markdown and the "
                           "terminal summary; JSON and remediation scripts keep the real ids, fingerprints are unchanged")
    add_live_arguments(scan)
    add_remediation_arguments(scan)
    add_snapshot_command(commands)
    add_remediate_command(commands)

    baseline = commands.add_parser("baseline", help="approved egress baselines")
    baseline_sub = baseline.add_subparsers(dest="baseline_command", required=True)
    approve = baseline_sub.add_parser("approve", help="record every cluster's current egress path as approved")
    approve.add_argument("--snapshot", metavar="FILE", required=True)
    approve.add_argument("-o", "--output", metavar="PATH", required=True)

    diff = commands.add_parser("diff", help="egress-relevant changes between two snapshots")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--json", action="store_true", help="print the changes as JSON")

    checks = commands.add_parser("checks", help="list or explain checks")
    checks_sub = checks.add_subparsers(dest="checks_command", required=True)
    checks_sub.add_parser("list", help="every registered check")
    explain = checks_sub.add_parser("explain", help="what a check looks at, why, and how to fix it")
    explain.add_argument("check", help="check id or slug")
    add_merge_command(commands)
    add_why_command(commands)
    add_completion_command(commands)
    return parser


def configure_logging(verbosity: int) -> None:
    """Off by default (reports and the summary say everything a run found); -v and -vv are for
    diagnosing sign-in and collection problems, where the SDK's own account is what helps."""
    if verbosity <= 0:
        return
    logging.basicConfig(stream=sys.stderr, format="aksaudit: %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aksaudit").setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
    logging.getLogger("azure.identity").setLevel(logging.INFO)
    if verbosity > 1:
        logging.getLogger("azure").setLevel(logging.INFO)  # includes the HTTP logging policy's lines


def cmd_scan(args: argparse.Namespace, registry: Registry, console: Console) -> int:
    if args.snapshot and has_live_scope(args):
        raise UsageError("--snapshot reads a saved estate; it cannot be combined with --subscription or --management-group")
    config = load_config(registry, args.config)
    _apply_output_defaults(args, config)
    try:
        checks = select_checks(registry, _split(args.select) or config.select, _split(args.ignore) or config.ignore)
    except ValueError as error:
        raise UsageError(str(error)) from error
    fail_on = args.fail_on or config.fail_on or DEFAULT_FAIL_ON
    if args.fail_on_new and not args.baseline:
        raise UsageError("--fail-on-new needs --baseline PREVIOUS.json")
    request = ScanRequest(
        source=SnapshotSource(args.snapshot) if args.snapshot else live_source(args), checks=checks, config=config,
        previous=load_baseline(args.baseline) if args.baseline else None,
        approved_egress=load_approval(args.approved) if args.approved else None,
        as_of=args.as_of, warnings=registry.problems)
    result = run(request)
    report_collection(request.source, result)
    if args.remediation:
        write_script(args.remediation, result.findings, header_of(result), registry, args.include_disruptive)
    shown = result
    if args.redact_subscriptions:
        from .redact import redact_result
        shown = redact_result(result)
    for warning in write_reports(args, result, shown):
        print(f"aksaudit: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        from .reports import terminal
        terminal.render(shown, console)
    return exit_code(result, fail_on, only_new=args.fail_on_new)


def _apply_output_defaults(args: argparse.Namespace, config: Config) -> None:
    """Output paths from the config file, where the command line did not name one."""
    for key, path in config.outputs.items():
        attr = key.replace("-", "_")
        if getattr(args, attr, None) is None:
            setattr(args, attr, path)


def cmd_checks(args: argparse.Namespace, registry: Registry, console: Console) -> int:
    if args.checks_command == "list":
        from rich.table import Table
        table = Table()
        for column in ("Id", "Severity", "Slug", "Title"):
            table.add_column(column)
        for check in registry.checks:
            table.add_row(check.id, check.meta.severity.value, check.meta.slug, check.meta.title)
        console.print(table)
        for problem in registry.problems:
            console.print(f"warning: {problem}", style="yellow", markup=False)
        return EXIT_OK
    check = registry.find(args.check)
    if check is None:
        raise UsageError(f"unknown check '{args.check}' (see 'aksaudit checks list')")
    from .explain import explain_text
    console.print(explain_text(check), markup=False, highlight=False)
    return EXIT_OK


def _estate_of(path: str):
    collected = read_source(SnapshotSource(path), checks=())
    return collected.estate, list(collected.gaps)


def cmd_baseline(args: argparse.Namespace, registry: Registry, console: Console) -> int:
    estate, gaps = _estate_of(args.snapshot)
    if gaps:
        for gap in gaps:
            print(f"aksaudit: gap: {plain(gap)}", file=sys.stderr)
        print("aksaudit: refusing to approve an egress baseline from incomplete data", file=sys.stderr)
        return EXIT_INCOMPLETE
    document = approval_document(estate, source=args.snapshot, approved_at=now_iso())
    write_atomic(args.output, json.dumps(document, indent=2, sort_keys=True) + "\n")
    console.print(f"approved the egress paths of {len(document['clusters'])} cluster(s) -> {args.output}",
                  markup=False, highlight=False)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace, registry: Registry, console: Console) -> int:
    (old, old_gaps), (new, new_gaps) = _estate_of(args.old), _estate_of(args.new)
    changes = diff_estates(old, new)
    if args.json:
        print(json.dumps({"old": args.old, "new": args.new, "complete": not (old_gaps or new_gaps),
                          "gaps": old_gaps + new_gaps, "clusters": changes}, indent=2))
    else:
        sys.stdout.write(plain(diff_text(changes), keep_newlines=True))
        for gap in old_gaps + new_gaps:
            print(f"gap: {plain(gap)}", file=sys.stderr)
    return EXIT_INCOMPLETE if old_gaps or new_gaps else EXIT_OK


def cmd_snapshot(args: argparse.Namespace, registry: Registry, console: Console) -> int:
    """Everything every registered check needs, so any later `scan --snapshot` selection works."""
    snapshot = write_live_snapshot(args, registry.checks)
    return EXIT_OK if snapshot.complete else EXIT_INCOMPLETE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "completion":  # needs the parser itself, and no registry
        sys.stdout.write(completion_script(parser, args.shell))
        return EXIT_OK
    configure_logging(args.verbose)
    # Keep stdout clean for a report streamed to '-': the summary then goes to stderr.
    to_stderr = any(getattr(args, name, None) == "-" for name in (*(r.value for r in ReportFormat), "remediation"))
    console = Console(stderr=to_stderr, highlight=False, soft_wrap=False)
    try:
        registry = load_registry()
        handler = {"scan": cmd_scan, "checks": cmd_checks, "baseline": cmd_baseline, "diff": cmd_diff,
                   "snapshot": cmd_snapshot, "remediate": cmd_remediate, "merge": cmd_merge,
                   "why": cmd_why}[args.command]
        return handler(args, registry, console)
    except (UsageError, InputError, RegistryError, ConfigError, CannotStart) as error:
        print(f"aksaudit: error: {error}", file=sys.stderr)  # plain: no wrapping inside paths
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aksaudit: interrupted", file=sys.stderr)
        _leave_if_requests_in_flight(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED


def _leave_if_requests_in_flight(code: int) -> None:
    """After Ctrl-C, a live scan's worker threads may still wait on Azure (up to the request
    timeout) and the interpreter would wait for them on the way out. Nothing is half-written
    (reports are written atomically, after collection), so exit at once instead."""
    if any(thread.name.startswith("aksaudit-") and thread.is_alive() for thread in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
