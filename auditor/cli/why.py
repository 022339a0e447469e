"""`aksaudit why CLUSTER --to DEST`: the command-line side of `analysis.why`.

Exit codes (distinct from 2, a usage error): 0 every subnet part is allowed, 1 some part is
denied (and none is unknown or unfiltered), 4 some part leaves unfiltered (none unknown),
3 some part is unknown (a datum is missing; the answer names it).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from aksaudit.analysis.why import ALLOWED, DENIED, UNFILTERED, UNKNOWN, WhyError, find_cluster, parse_destination, \
    render_text, why
from aksaudit.run.bulk import gc_paused
from .live import add_live_arguments, has_live_scope, live_source
from aksaudit.collect.snapshot import InputError
from aksaudit.reports.terminal import plain
from aksaudit.run.request import SnapshotSource
from aksaudit.run.sources import read_source

EXIT_BY_VERDICT = {ALLOWED: 0, DENIED: 1, UNKNOWN: 3, UNFILTERED: 4}


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("why", parents=parents, help="can a cluster reach a destination, and through which route, firewall "
                                             "and rule (exit 0 allowed, 1 denied, 4 unfiltered, 3 unknown)")
    parser.add_argument("cluster", metavar="CLUSTER", help="cluster name or ARM id")
    parser.add_argument("--to", required=True, metavar="DEST",
                        help="IP, CIDR or host name, optionally with :PORT (default 443) and /tcp or /udp (default tcp); "
                             "IPv6 with a port as [ADDR]:PORT")
    parser.add_argument("--ip", metavar="ADDR", help="the address the host name resolves to: network rules are then "
                                                     "judged too (they are evaluated before application rules)")
    parser.add_argument("--app-protocol", choices=("http", "https", "mssql"),
                        help="how application rules see the TCP traffic (default: http on 80, mssql on 1433, else https)")
    parser.add_argument("--snapshot", metavar="FILE", help="a saved estate (else read live with the scope flags)")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON (reports/aksaudit-why.schema.json)")
    add_live_arguments(parser)


def run(args: argparse.Namespace, registry: Any, console: Any) -> int:
    if args.snapshot and has_live_scope(args):
        raise InputError("--snapshot reads a saved estate; it cannot be combined with --subscription or --management-group")
    try:
        destination = parse_destination(args.to, args.ip, args.app_protocol)
    except WhyError as error:
        raise InputError(str(error)) from None
    source = SnapshotSource(args.snapshot) if args.snapshot else live_source(args)
    collected = read_source(source, registry.checks)
    try:
        cluster = find_cluster(collected.estate, args.cluster)
    except WhyError as error:
        raise InputError(str(error)) from None
    with gc_paused():  # the answer allocates over a heap the size of the estate: see aksaudit.run.bulk
        answer = why(collected.estate, cluster, destination)
    document = answer.as_dict()
    document["gaps"] = list(collected.gaps)
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(plain(render_text(answer), keep_newlines=True))
        for gap in collected.gaps:
            print(f"aksaudit: gap: {plain(gap)}", file=sys.stderr)
    return EXIT_BY_VERDICT[answer.verdict]
