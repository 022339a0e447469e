"""`aksaudit merge -o OUT SHARD.json...`: one result from the JSON results of sharded scans.

Every positional argument is an input; the merged result goes only where `-o` says, and never
over one of the inputs (the output used to be the first positional argument, so
`aksaudit merge shards/*.json` overwrote the first shard).
"""
from __future__ import annotations

import argparse
from typing import Any

from aksaudit.run.shard_merge import merge_results
from aksaudit.run.registry import Registry
from ..run.exit_policy import DEFAULT_FAIL_ON, FAIL_ON, exit_code
from ..run.result_json import chunks, read_result
from . import channels
from .arguments import choice
from .outputs import STDOUT, check_paths, named, write_output


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("merge", parents=parents, help="combine the JSON results of sharded scans into one",
                                 description="Combine JSON v1 results of scans run in parallel (e.g. one per "
                                             "management group) into one: findings deduplicated by fingerprint, "
                                             "complete only if every input is.")
    parser.add_argument("inputs", metavar="SHARD.json", nargs="+", help="JSON v1 results of the shards")
    parser.add_argument("-o", "--output", metavar="PATH", required=True,
                        help="merged JSON v1 result to write ('-' for stdout); never one of the inputs")
    parser.add_argument("--fail-on", type=choice(FAIL_ON), choices=FAIL_ON, default=DEFAULT_FAIL_ON,
                        help="lowest severity that makes the exit code 1 (default: %(default)s)")


def run(args: argparse.Namespace, registry: Registry, console: Any = None) -> int:
    check_paths(named("--output", args.output), named("SHARD.json", args.inputs))
    documentation = {check.id: check.documentation for check in registry.checks}
    merged = merge_results([(str(path), read_result(path, documentation)) for path in args.inputs])
    write_output(args.output, chunks(merged))
    if args.output != STDOUT and not args.quiet:
        state = "complete" if merged.complete else "INCOMPLETE"
        channels.say("", f"merged {len(args.inputs)} result(s), {len(merged.findings)} finding(s) -> "
                         f"{args.output} ({state})")
    return exit_code(merged, args.fail_on)
