"""`aksaudit checks list` and `aksaudit checks explain ID`: the registered checks, offline."""
from __future__ import annotations

import argparse
from typing import Any

from aksaudit.run.registry import Registry
from ..run.exit_policy import EXIT_OK
from . import channels
from .arguments import UsageError


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    checks = commands.add_parser("checks", parents=parents, help="list or explain checks")
    sub = checks.add_subparsers(dest="checks_command", required=True)
    sub.add_parser("list", parents=parents, help="every registered check")
    explain = sub.add_parser("explain", parents=parents, help="what a check looks at, why, and how to fix it")
    explain.add_argument("check", help="check id or slug")


def run(args: argparse.Namespace, registry: Registry, console: Any) -> int:
    if args.checks_command == "list":
        from rich.table import Table
        from rich.text import Text
        table = Table()
        for column in ("Id", "Severity", "Fix", "Slug", "Title"):
            table.add_column(column)
        for check in registry.checks:  # plugins' metadata is data too: escaped like the estate's
            table.add_row(*(Text(channels.escape(cell)) for cell in
                            (check.id, check.meta.severity.value, check.meta.fix.value, check.meta.slug, check.meta.title)))
        console.print(table)
        for problem in registry.problems:
            channels.warning(problem)
        return EXIT_OK
    check = registry.find(args.check)
    if check is None:
        raise UsageError(f"unknown check {args.check!r} (see 'aksaudit checks list')")
    from aksaudit.reports.check_explain import explain_text
    console.print(channels.escape_lines(explain_text(check)), markup=False, highlight=False)
    return EXIT_OK
