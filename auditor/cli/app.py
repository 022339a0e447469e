"""The command line: the parser built from one module per command, and the one guard around them.

Every command module has `add_parser(commands, parents)` and `run(args, registry, console) ->
exit code`; this module wires them and maps every way a command can end onto the documented
exit codes (`aksaudit.run.exit_policy`): no command ends with a traceback, on any input.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from typing import Any, Callable, Sequence

from rich.console import Console

from .. import __version__
from ..collect.errors import CannotStart
from ..collect.snapshot import InputError
from ..config import ConfigError
from aksaudit.run.registry import RegistryError, load_registry
from ..reports.formats import ReportFormat
from ..run.exit_policy import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from . import baseline, channels, checks, completion, config, diff, frameworks, merge, remediate, scan, snapshot, why
from .arguments import Parser, UsageError, global_flags
from .outputs import OutputError

COMMANDS = {"scan": scan, "snapshot": snapshot, "remediate": remediate, "baseline": baseline, "diff": diff,
            "checks": checks, "merge": merge, "config": config, "completion": completion,
            "why": why, "frameworks": frameworks}
# Failures the user can act on: one line naming the file, key or row, exit 2.
EXPECTED = (UsageError, InputError, RegistryError, ConfigError, CannotStart, OutputError)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="aksaudit", description="Audit AKS egress: UDRs, firewall placement and rules.",
                    parents=[global_flags(in_subcommand=False)])
    parser.add_argument("--version", action="version", version=f"aksaudit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    parents = [global_flags(in_subcommand=True)]
    for module in COMMANDS.values():
        module.add_parser(commands, parents)
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


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """rich would exit 1 ("findings"); the guard ends the run as for any closed pipe."""
        raise BrokenPipeError


def _console(args: argparse.Namespace) -> Console:
    """The summary goes to stdout, unless a report is streamed there ('-'): then to stderr."""
    streamed = any(getattr(args, name, None) == "-" for name in (*(r.value for r in ReportFormat), "remediation"))
    streamed = streamed or (args.command == "diff" and getattr(args, "json", False))
    return _Console(file=sys.stderr if streamed else sys.stdout, highlight=False, soft_wrap=False)


def _dispatch(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "completion":  # needs the parser itself, and no registry
        sys.stdout.write(completion.completion_script(parser, args.shell))
        return EXIT_OK
    if getattr(args, "redact_subscriptions", False):
        channels.redact_stderr()  # from the first line on: errors, progress and warnings alike
    configure_logging(args.verbose)
    registry = load_registry()
    return COMMANDS[args.command].run(args, registry, _console(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every way it can end is one of the documented exit codes."""
    channels.install()
    try:
        return guarded(lambda: _dispatch(argv))
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass


def guarded(command: Callable[[], int]) -> int:
    """The one top-level guard: expected failures are one line and exit 2; an unexpected one is a
    bug, still one line (the traceback with -vv), still exit 2, so CI never reads a crash as a
    result (exit 1 means findings)."""
    try:
        code = command()
        sys.stdout.flush()
        return code
    except CannotStart as problem:  # our own advice, several lines: each escaped, continuations indented
        channels.say("error", str(problem), lines=True)
        return EXIT_USAGE
    except EXPECTED as problem:
        channels.error(str(problem))
        return EXIT_USAGE
    except BrokenPipeError:
        return _broken_pipe()
    except KeyboardInterrupt:
        channels.say("", "interrupted")
        _leave_if_requests_in_flight(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except RecursionError:
        channels.error("an input is nested too deeply to process; check the files given")
        return EXIT_USAGE
    except MemoryError:
        channels.error("out of memory; scan the estate in shards (see docs/scale-out.md)")
        return EXIT_USAGE
    except SystemExit:
        raise
    except Exception as bug:  # noqa: BLE001 - the guard's purpose
        if logging.getLogger("aksaudit").isEnabledFor(logging.DEBUG):  # -vv
            import traceback
            traceback.print_exc(file=sys.stderr)
        channels.error(f"internal error: {type(bug).__name__}: {bug} (a bug in aksaudit; please report it "
                       "with the command line; -vv shows the traceback)")
        return EXIT_USAGE


def _broken_pipe() -> int:
    """The reader went away (`aksaudit diff ... | head`): stop quietly, as other tools do.
    stdout is pointed at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
    except (OSError, AttributeError, ValueError):
        pass
    if isinstance(sys.stdout, channels.GuardedStream):
        sys.stdout = channels.GuardedStream(sys.__stdout__)
    return EXIT_BROKEN_PIPE


def _leave_if_requests_in_flight(code: int) -> None:
    """After Ctrl-C, a live scan's worker threads may still wait on Azure (up to the request
    timeout) and the interpreter would wait for them on the way out. Nothing is half-written
    (reports are written atomically, after collection), so exit at once instead."""
    if any(thread.name.startswith("aksaudit-") and thread.is_alive() for thread in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_module() -> Any:
    """`python -m aksaudit` and `python -m aksaudit.cli`."""
    sys.exit(main())
