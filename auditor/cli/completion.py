"""Shell completion scripts, generated from the CLI's own argparse parser.

Generating from the parser (with shtab) instead of keeping hand-written scripts means completion
can never offer a flag the CLI lacks or miss one it gained. Options that name files or folders
are marked by their metavar, so the shell completes paths there and only there.
"""
from __future__ import annotations

import argparse
from typing import Any

import shtab

from .arguments import choice

SHELLS = ("bash", "zsh", "tcsh")
FILE_METAVARS = frozenset({"FILE", "PATH", "PREVIOUS.json", "FINDINGS.json", "OLD", "NEW", "SHARD.json", "SNAPSHOT"})
DIR_METAVARS = frozenset({"DIR"})

INSTALL_HELP = """\
install (bash):  aksaudit completion bash > ~/.local/share/bash-completion/completions/aksaudit
install (zsh):   aksaudit completion zsh > "${fpath[1]}/_aksaudit"   # then restart zsh
install (tcsh):  aksaudit completion tcsh > ~/.aksaudit.completion.csh && echo 'source ~/.aksaudit.completion.csh' >> ~/.tcshrc
"""


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("completion", parents=parents, help="print a shell completion script",
                                 description="Print a completion script for SHELL on stdout.", epilog=INSTALL_HELP,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shell", type=choice(SHELLS), choices=SHELLS)


def _subparsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _subparsers(child)


def _mark_paths(parser: argparse.ArgumentParser) -> None:
    """Tell shtab which arguments take paths, judging by the metavar every such argument uses."""
    for sub in _subparsers(parser):
        for action in sub._actions:
            if action.metavar in FILE_METAVARS:
                action.complete = shtab.FILE  # type: ignore[attr-defined]
            elif action.metavar in DIR_METAVARS:
                action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for `shell`, for the parser as it is now."""
    if shell not in SHELLS:
        raise ValueError(f"no completion for shell '{shell}' (choose from {', '.join(SHELLS)})")
    _mark_paths(parser)
    script = shtab.complete(parser, shell=shell)
    return script if script.endswith("\n") else script + "\n"
