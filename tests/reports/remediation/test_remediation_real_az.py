"""Every az command line a generated script runs is valid for the real Azure CLI.

The command lines are recorded by running each script with the fake az (plan, --apply, and a
second --apply), then each is run with the real `az` (the azure-cli package, core commands only,
no extensions) with no login and a fresh configuration directory. A valid command line fails only
because nobody is logged in; an unknown command or argument fails earlier, in the parser, with
exit code 2. Every one names its subscription, and none is `az account set`.
"""
from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from itertools import takewhile
from pathlib import Path

import pytest

from aksaudit.testing import load_fixture
from conftest import require_tool
from remediation_harness import (
    EXAMPLE_ESTATES, REGISTRY, WITH_TEMPLATES, copy_estate, generate, injection_estate, run_script, scan, write_rows,
    write_script,
)

PARSER_ERRORS = ("unrecognized arguments", "misspelled or not recognized", "the following arguments are required",
                 "invalid choice", "expected one argument", "not a valid value", "invalid jmespath")
NOT_LOGGED_IN = "Please run 'az login'"
WORKERS = 6


def az_cli() -> str:
    """CI exports AKSAUDIT_AZ_CLI; locally, the venv .ci/run caches is used when it is there."""
    cache = os.environ.get("AKSAUDIT_CI_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "aksaudit-ci")
    return require_tool(os.environ.get("AKSAUDIT_AZ_CLI") or os.path.join(cache, "azcli-venv", "bin", "az"),
                        "azure-cli (AKSAUDIT_AZ_CLI)")


def _estates(root: Path) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    estates = [copy_estate(name, root) for name in EXAMPLE_ESTATES]
    for check_id in WITH_TEMPLATES:
        fixture = load_fixture(REGISTRY.by_id()[check_id].folder / "bad.json")
        estates.append(write_rows(fixture.rows, root / f"{check_id}-bad.json"))
    estates.append(injection_estate(root / "injection.json"))
    return estates


def recorded_command_lines(root: Path) -> list[tuple[str, ...]]:
    """Every distinct az argv the scripts of all estates ran, in first-seen order."""
    seen: dict[tuple[str, ...], None] = {}
    for estate in _estates(root):
        script = write_script(generate(scan(estate), include_disruptive=True), estate.with_suffix(".sh"))
        for args in ((), ("--apply",), ("--apply",)):
            run = run_script(script, estate, *args)
            assert run.returncode == 0, run.stdout + run.stderr
            for call in run.calls:
                seen.setdefault(tuple(call["argv"]), None)
    return list(seen)


def _run_real(az: str, config_dir: Path, argv: tuple[str, ...]) -> tuple[tuple[str, ...], int, str]:
    env = {**os.environ, "AZURE_CONFIG_DIR": str(config_dir), "AZURE_CORE_COLLECT_TELEMETRY": "false",
           "AZURE_CORE_NO_COLOR": "true"}
    done = subprocess.run([az, *argv], capture_output=True, text=True, env=env, timeout=180)
    return argv, done.returncode, done.stderr


def test_every_generated_command_line_parses_with_the_real_az(tmp_path):
    az = az_cli()
    command_lines = recorded_command_lines(tmp_path / "estates")
    kinds = {" ".join(takewhile(lambda arg: not arg.startswith("-"), argv)) for argv in command_lines}
    # The recording covers every kind of command the templates emit, reads and writes.
    assert {"network route-table route show", "network route-table route update",
            "network route-table route create", "network route-table show", "network route-table create",
            "network vnet subnet show", "network vnet subnet update", "network vnet subnet create",
            "network vnet show", "rest", "network route-table route delete", "network vnet peering list",
            "network vnet peering create", "network vnet peering delete", "resource show", "resource update",
            "aks show", "aks update"} <= kinds
    assert any("--method" in argv and argv[argv.index("--method") + 1] == "put" for argv in command_lines)
    assert not [argv for argv in command_lines if argv[0] == "account"]
    assert not [argv for argv in command_lines if sum(a.startswith("--subscription=") for a in argv) != 1]

    config_dirs = [tmp_path / f"azure-config-{n}" for n in range(WORKERS)]
    for directory in config_dirs:
        directory.mkdir()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda item: _run_real(az, config_dirs[item[0] % WORKERS], item[1]),
                                enumerate(command_lines)))
    problems = []
    for argv, code, stderr in results:
        if code == 2 or code == 0 or any(e in stderr.lower() for e in PARSER_ERRORS) or NOT_LOGGED_IN not in stderr:
            problems.append(f"az {' '.join(argv)}\n  exit {code}: {stderr.strip()[:400]}")
    assert not problems, f"{len(problems)} of {len(results)} command lines:\n" + "\n".join(problems)
