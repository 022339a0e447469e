"""Argument parsing shared by every command, in the conventions users know from ruff and Trivy.

* Global flags (`-v`, `--config`, `--quiet`) work before or after the subcommand.
* Choices are case-insensitive (`--fail-on HIGH`, `--cloud azurecloud`).
* `--select`/`--ignore` take ids, slugs or id prefixes (`UDR`), comma-separated or repeated;
  selecting no check at all is an error, not a scan that reports everything compliant.
* argparse's own errors are escaped like every other message (a typed argument is data too).
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any, Callable, Iterable, NoReturn, Sequence

from aksaudit.results.frameworks import Framework, select_frameworks
from aksaudit.run.engine import select_checks
from aksaudit.run.registry import LoadedCheck, Registry
from ..run.exit_policy import EXIT_USAGE, FAIL_ON
from . import channels


class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with the message."""


class Parser(argparse.ArgumentParser):
    """argparse with its error line escaped and prefixed like every other aksaudit message."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        channels.error(f"{self.prog}: {message}")
        sys.exit(EXIT_USAGE)


def choice(options: Iterable[str]) -> Callable[[str], str]:
    """An argparse `type` matching `options` whatever the case; the canonical spelling is kept."""
    canonical = {option.casefold(): option for option in options}

    def convert(text: str) -> str:
        return canonical.get(text.casefold(), text)
    convert.__name__ = "choice"
    return convert


def global_flags(*, in_subcommand: bool) -> argparse.ArgumentParser:
    """The flags every command takes. In a subcommand their default is 'not given', so a value
    given before the subcommand is not reset by the subcommand's parser."""
    parent = argparse.ArgumentParser(add_help=False)
    unset: dict[str, Any] = {"default": argparse.SUPPRESS} if in_subcommand else {}
    parent.add_argument("-v", "--verbose", action="count", **(unset or {"default": 0}),
                        help="log to stderr what the Azure SDK does: -v which credential signed in, "
                             "-vv every HTTP request (authorization headers redacted)")
    parent.add_argument("--config", metavar="PATH", **unset,
                        help="configuration file (default: aksaudit.toml or [tool.aksaudit] in pyproject.toml, "
                             "from here upward)")
    parent.add_argument("-q", "--quiet", action="store_true", **unset,
                        help="no terminal summary, progress or notices (warnings and errors are still shown)")
    return parent


def add_selection(parser: argparse.ArgumentParser) -> None:
    """--select, --ignore and --fail-on: which checks run and what fails the run."""
    parser.add_argument("--select", action="append", metavar="IDS",
                        help="only these checks: ids, slugs or id prefixes (UDR), comma-separated or repeated")
    parser.add_argument("--ignore", action="append", metavar="IDS",
                        help="skip these checks: ids, slugs or id prefixes, comma-separated or repeated")
    parser.add_argument("--fail-on", type=choice(FAIL_ON), choices=FAIL_ON, default=None,
                        help="lowest severity that makes the exit code 1 (default: the config file's, else low)")


def add_framework_selection(parser: argparse.ArgumentParser) -> None:
    """--framework: whose controls the result reports on."""
    parser.add_argument("--framework", action="append", metavar="NAME",
                        help="report per-control results for these compliance frameworks only: ids or id prefixes, "
                             "any case (nist, pci), comma-separated or repeated (default: the config file's, else every "
                             "bundled framework; see 'aksaudit frameworks list')")


def chosen_frameworks(names: Sequence[str]) -> tuple[Framework, ...]:
    """The frameworks named (every bundled one when none is); an unknown name is a usage error."""
    try:
        return select_frameworks(names)
    except ValueError as error:
        raise UsageError(str(error)) from error


def split(values: Sequence[str] | None) -> list[str]:
    """Repeated and comma-separated flag values as one list."""
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def chosen_checks(registry: Registry, select: Sequence[str], ignore: Sequence[str]) -> tuple[LoadedCheck, ...]:
    """The checks to run; an unknown name or an empty selection is a usage error."""
    try:
        checks = select_checks(registry, select, ignore)
    except ValueError as error:
        raise UsageError(str(error)) from error
    if not checks:
        raise UsageError(f"no check selected (select: {', '.join(select) or 'all'}; ignore: {', '.join(ignore)}): "
                         "a scan without checks would report everything compliant; adjust --select/--ignore")
    return checks


def iso_date(text: str) -> date:
    """An ISO date (2026-12-31) for --as-of."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date such as 2026-12-31") from None
