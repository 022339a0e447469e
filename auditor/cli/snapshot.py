"""`aksaudit snapshot`: save the estate from Azure for offline scans and drift baselines.

It collects what every registered check needs, so any later `scan --snapshot` selection works.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..collect.snapshot import snapshot_document
from aksaudit.run.registry import Registry
from ..run.exit_policy import EXIT_INCOMPLETE, EXIT_OK
from ..run.sources import collect
from . import channels
from .live import add_live_arguments, live_source, warn_collection
from .outputs import check_paths, named, write_output


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("snapshot", parents=parents,
                                 help="save the estate from Resource Graph for offline scans and drift baselines")
    add_live_arguments(parser)
    parser.add_argument("-o", "--output", metavar="PATH", required=True, help="snapshot file to write ('-' for stdout)")


def run(args: argparse.Namespace, registry: Registry, console: Any) -> int:
    check_paths(named("--output", args.output), named("--config", args.config))
    snapshot = collect(live_source(args), registry.checks)
    warn_collection(snapshot.meta)
    write_output(args.output, json.dumps(snapshot_document(snapshot), indent=1, ensure_ascii=False) + "\n")
    for gap in snapshot.gaps:
        channels.say("gap", gap)
    state = "complete" if snapshot.complete else "INCOMPLETE"
    channels.say("", f"{len(snapshot.rows)} row(s) from {', '.join(snapshot.scope_labels)} -> {args.output} ({state})")
    return EXIT_OK if snapshot.complete else EXIT_INCOMPLETE
