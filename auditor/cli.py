"""Command line: argument parsing and wiring only; every decision lives in a testable function.

Exit codes: 0 complete and nothing at or above --fail-on; 1 findings at or above it; 2 could not
start (usage, unreadable input, configuration); 3 the scan is incomplete (results still written).
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from rich.console import Console

from . import __version__
from .collect.snapshot import InputError, load_snapshot
from .engine import ScanResult, now_iso, run_scan, select_checks
from .findings import Severity
from .model import build_estate
from .output import write_atomic
from .registry import Registry, RegistryError, load_registry

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
FAIL_ON = ("critical", "high", "medium", "low", "info", "never")


class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with the message."""


def exit_code(result: ScanResult, fail_on: str) -> int:
    """Incomplete wins over findings: a partial scan must never look like a clean or ordinary one."""
    if not result.complete:
        return EXIT_INCOMPLETE
    if fail_on == "never":
        return EXIT_OK
    threshold = Severity(fail_on).rank
    return EXIT_FINDINGS if any(f.severity.rank >= threshold for f in result.findings) else EXIT_OK


def _split(values: Sequence[str] | None) -> list[str]:
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def _outputs() -> dict[str, Callable[[ScanResult], str | bytes]]:
    from .reports import json_report
    return {"json": json_report.render}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aksaudit", description="Audit AKS egress: UDRs, firewall placement and rules.")
    parser.add_argument("--version", action="version", version=f"aksaudit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    scan = commands.add_parser("scan", help="evaluate an estate and write findings")
    scan.add_argument("--snapshot", metavar="FILE", help="Resource Graph rows: JSON array, az graph query output, or an aksaudit snapshot")
    scan.add_argument("--json", metavar="PATH", help="write JSON v1 results ('-' for stdout)")
    scan.add_argument("--fail-on", choices=FAIL_ON, default="low", help="lowest severity that makes the exit code 1 (default: low)")
    scan.add_argument("--select", action="append", metavar="IDS", help="only these checks (ids or slugs, comma-separated)")
    scan.add_argument("--ignore", action="append", metavar="IDS", help="skip these checks (ids or slugs, comma-separated)")
    scan.add_argument("--quiet", action="store_true", help="no terminal summary")

    checks = commands.add_parser("checks", help="list or explain checks")
    checks_sub = checks.add_subparsers(dest="checks_command", required=True)
    checks_sub.add_parser("list", help="every registered check")
    explain = checks_sub.add_parser("explain", help="what a check looks at, why, and how to fix it")
    explain.add_argument("check", help="check id or slug")
    return parser


def cmd_scan(args: argparse.Namespace, registry: Registry, console: Console) -> int:
    if not args.snapshot:
        raise UsageError("scan needs --snapshot FILE (live scans need the live collector)")
    try:
        checks = select_checks(registry, _split(args.select), _split(args.ignore))
    except ValueError as error:
        raise UsageError(str(error)) from error
    started = now_iso()
    snapshot = load_snapshot(args.snapshot)
    estate = build_estate(snapshot.rows, source=snapshot.source)
    result = run_scan(estate, checks, scopes=(f"snapshot:{snapshot.source}",), started_at=started,
                      warnings=registry.problems, errors=snapshot.gaps if not snapshot.complete else (),
                      meta=snapshot.meta)
    renderers = _outputs()
    if args.json:
        write_atomic(args.json, renderers["json"](result))
    if not args.quiet:
        from .reports import terminal
        terminal.render(result, console)
    return exit_code(result, args.fail_on)


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Keep stdout clean for '--json -': the summary then goes to stderr.
    to_stderr = getattr(args, "json", None) == "-"
    console = Console(stderr=to_stderr, highlight=False, soft_wrap=False)
    try:
        registry = load_registry()
        handler = {"scan": cmd_scan, "checks": cmd_checks}[args.command]
        return handler(args, registry, console)
    except (UsageError, InputError, RegistryError) as error:
        print(f"aksaudit: error: {error}", file=sys.stderr)  # plain: no wrapping inside paths
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aksaudit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
