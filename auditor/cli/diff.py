"""`aksaudit diff OLD NEW`: the egress-relevant changes between two snapshots.

Exit codes, as `diff` and `git diff --exit-code` use them: 0 no change, 1 changes found, 2 could
not start, 3 a snapshot has gaps (changes there may be missing).
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from aksaudit.results.egress_approval import diff_estates, diff_text
from aksaudit.run.registry import Registry
from ..run.exit_policy import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from . import channels
from .estates import estate_of
from .outputs import write_output


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    diff = commands.add_parser("diff", parents=parents, help="egress-relevant changes between two snapshots "
                                                             "(exit 1 when there are changes)")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--json", action="store_true", help="print the changes as JSON")


def run(args: argparse.Namespace, registry: Registry, console: Any) -> int:
    (old, old_gaps), (new, new_gaps) = estate_of(args.old), estate_of(args.new)
    changes = diff_estates(old, new)
    if args.json:
        write_output("-", json.dumps({"old": args.old, "new": args.new, "complete": not (old_gaps or new_gaps),
                                      "gaps": old_gaps + new_gaps, "clusters": changes}, indent=2) + "\n")
    else:
        text = diff_text(changes)
        shown = channels.escape_lines(text)
        console.print(shown, markup=False, highlight=False, soft_wrap=True, end="")
    for gap in old_gaps + new_gaps:
        channels.say("gap", gap)
    if old_gaps or new_gaps:
        return EXIT_INCOMPLETE
    return EXIT_FINDINGS if changes else EXIT_OK
