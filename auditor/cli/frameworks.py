"""`aksaudit frameworks list`: the compliance frameworks whose controls a scan reports on, offline."""
from __future__ import annotations

import argparse
from typing import Any

from aksaudit.results.frameworks import builtin_frameworks
from aksaudit.run.registry import Registry
from ..run.exit_policy import EXIT_OK


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    frameworks = commands.add_parser("frameworks", parents=parents, help="list the compliance frameworks")
    sub = frameworks.add_subparsers(dest="frameworks_command", required=True)
    sub.add_parser("list", parents=parents, help="every bundled framework: id (for --framework), name, version, controls")


def run(args: argparse.Namespace, registry: Registry, console: Any) -> int:
    from rich.table import Table
    table = Table()
    for column in ("Id", "Name", "Version", "Controls"):
        table.add_column(column)
    for framework in builtin_frameworks():
        table.add_row(framework.id, framework.name, framework.version, str(len(framework.controls)))
    console.print(table)
    return EXIT_OK
