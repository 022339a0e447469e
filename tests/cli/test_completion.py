"""Shell completion is generated from the real parser and works in a real bash; -v/-vv logging."""
from __future__ import annotations

import argparse
import logging
import shutil
import subprocess

import pytest

from aksaudit.cli import build_parser, configure_logging
from aksaudit.cli.completion import SHELLS
from conftest import aksaudit_cmd, require_tool


def completion(shell: str) -> str:
    proc = subprocess.run([*aksaudit_cmd(), "completion", shell], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def parser_words(parser: argparse.ArgumentParser) -> set[str]:
    """Every subcommand and long option, at every level of the parser."""
    words = set()
    for action in parser._actions:
        words.update(s for s in action.option_strings if s.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                words.add(name)
                words |= parser_words(child)
    return words


@pytest.mark.parametrize("shell", SHELLS)
def test_the_script_knows_every_command_and_option_of_the_parser(shell):
    script = completion(shell)
    words = parser_words(build_parser())
    if shell == "tcsh":  # tcsh lists long options without their dashes: c/--/(json sarif ...)/
        words = {w.removeprefix("--") for w in words}
    assert {word for word in words if word not in script} == set()


def bash_complete(script: str, words: list[str]) -> set[str]:
    """What bash offers for the last word, through the generated completion function."""
    bash = require_tool(shutil.which("bash"), "bash")
    quoted = " ".join(f"'{w}'" for w in words)
    program = (f"{script}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
               f"_shtab_aksaudit aksaudit '{words[-1]}' '{words[-2]}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    proc = subprocess.run([bash, "--norc", "--noprofile", "-c", program], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_bash_accepts_the_script_and_completes_commands_and_options():
    script = completion("bash")
    bash = require_tool(shutil.which("bash"), "bash")
    assert subprocess.run([bash, "-n"], input=script, text=True).returncode == 0
    assert bash_complete(script, ["aksaudit", "sc"]) == {"scan"}
    assert bash_complete(script, ["aksaudit", "scan", "--sarif-d"]) == {"--sarif-dir"}
    assert {"list", "explain"} == bash_complete(script, ["aksaudit", "checks", ""])


def test_an_unknown_shell_is_a_usage_error():
    proc = subprocess.run([*aksaudit_cmd(), "completion", "fish"], capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


@pytest.fixture
def clean_logging():
    names = ("aksaudit", "azure", "azure.identity")
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in names]
    root_handlers = list(logging.root.handlers)
    yield
    for logger, level in saved:
        logger.setLevel(level)
    logging.root.handlers[:] = root_handlers


@pytest.mark.parametrize("verbosity, azure_level, identity_level", [
    (1, logging.NOTSET, logging.INFO),  # which credential signed in
    (2, logging.INFO, logging.INFO),  # plus the SDK's request log
])
def test_verbosity_opens_the_sdk_logs_step_by_step(clean_logging, verbosity, azure_level, identity_level):
    configure_logging(verbosity)
    assert logging.getLogger("azure.identity").level == identity_level
    assert logging.getLogger("azure").level == azure_level
    assert logging.root.handlers


def test_without_verbose_nothing_is_configured(clean_logging):
    before = list(logging.root.handlers)
    configure_logging(0)
    assert logging.root.handlers == before


def test_verbose_is_accepted_before_any_command():
    proc = subprocess.run([*aksaudit_cmd(), "-vv", "checks", "list"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "UDR001" in proc.stdout
