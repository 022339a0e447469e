"""`aksaudit baseline approve`: record every cluster's current egress path as approved.

A later `scan --approved FILE` reports each cluster whose path drifted from it as a finding of the drift check.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from aksaudit.results.egress_approval import approval_document
from aksaudit.run.engine import now_iso
from aksaudit.run.registry import Registry
from ..run.exit_policy import EXIT_INCOMPLETE, EXIT_OK
from . import channels
from .estates import estate_of
from .outputs import check_paths, named, write_output


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    baseline = commands.add_parser("baseline", parents=parents, help="approved egress baselines")
    sub = baseline.add_subparsers(dest="baseline_command", required=True)
    approve = sub.add_parser("approve", parents=parents, help="record every cluster's current egress path as approved")
    approve.add_argument("--snapshot", metavar="FILE", required=True)
    approve.add_argument("-o", "--output", metavar="PATH", required=True, help="the approval file to write")


def run(args: argparse.Namespace, registry: Registry, console: Any) -> int:
    check_paths(named("--output", args.output), named("--snapshot", args.snapshot))
    estate, gaps = estate_of(args.snapshot)
    if gaps:
        for gap in gaps:
            channels.say("gap", gap)
        channels.error("refusing to approve an egress baseline from incomplete data")
        return EXIT_INCOMPLETE
    document = approval_document(estate, source=args.snapshot, approved_at=now_iso())
    write_output(args.output, json.dumps(document, indent=2, sort_keys=True) + "\n")
    if not args.quiet:
        channels.say("", f"approved the egress paths of {len(document['clusters'])} cluster(s) -> {args.output}")
    return EXIT_OK
