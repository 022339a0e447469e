"""`aksaudit checks list` and `aksaudit checks explain ID`: the registered checks, offline."""
from __future__ import annotations

import argparse
from typing import Any

from aksaudit.run.registry import Registry
from ..run.exit_policy import EXIT_OK
from . import channels
from .arguments import UsageError

WIDE_LIST = 120


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
        # Below WIDE_LIST columns the slug (an alias of the id) is left out and the table drawn
        # without a box, so that each check stays about one line at 80 columns.
        wide = console.width >= WIDE_LIST
        table = Table() if wide else Table(box=None, pad_edge=False, header_style="bold")
        columns = ("Id", "Severity", "Fix", "Slug", "Title") if wide else ("Id", "Severity", "Fix", "Title")
        for column in columns:
            table.add_column(column, no_wrap=column != "Title")
        for check in registry.checks:  # plugins' metadata is data too: escaped like the estate's
            cells = (check.id, check.meta.severity.value, check.meta.fix.value, check.meta.slug, check.meta.title)
            table.add_row(*(Text(channels.escape(cell)) for cell in (cells if wide else cells[:3] + cells[4:])))
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
