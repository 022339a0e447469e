"""Names, tags and descriptions full of shell metacharacters stay data.

An estate whose resource group, route, route table, subnet, VNet, peering, rule collection group,
collection, rule, firewall policy and cluster names, tags and descriptions hold `$(...)`, backticks, quotes, newlines and `;` must give a script that,
run with the fake az, creates no file and hands each of those strings to az as one argument,
and whose closed loop still works (the names reached Azure intact, or nothing would be found).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import require_tool
from remediation_harness import (
    CATALOG_RENAMES, RENAMES, catalog_injection_estate, generate, injection_estate, keys, run_script, scan, write_script,
)


@pytest.fixture()
def workdir(tmp_path):
    """Where the script runs; it must stay empty of anything the names could create."""
    return tmp_path


def _no_pwned(root: Path) -> list[Path]:
    return [p for p in root.rglob("*pwned*")]


def test_the_injection_estate_has_the_drifted_estates_findings(tmp_path):
    result = scan(injection_estate(tmp_path / "estate.json"))
    assert {k[0] for k in keys(result)} >= {"UDR001", "UDR004", "FW003", "FW004"}


def test_names_stay_data_through_the_closed_loop(workdir):
    estate = injection_estate(workdir / "estate.json")
    before = scan(estate)
    script = generate(before, include_disruptive=True)
    path = write_script(script, workdir / "fix.sh")
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0

    plan = run_script(path, estate, cwd=workdir)
    applied = run_script(path, estate, "--apply", cwd=workdir)
    assert plan.returncode == 0 and applied.returncode == 0, applied.stdout + applied.stderr
    assert _no_pwned(workdir) == [] and _no_pwned(Path(path).parent) == []

    after = scan(estate)
    assert not keys(after) & script.targeted
    assert keys(after) <= keys(before)
    assert run_script(path, estate, "--apply", cwd=workdir).mutating_calls == ()
    assert _no_pwned(workdir) == []

    arguments = {arg for call in applied.calls for arg in call["argv"]}
    for name in ("rg pay$(touch pwned-rg);`touch pwned-rg2`", "snet-pods`touch pwned-subnet`"):
        assert f"--resource-group={name}" in arguments or f"--name={name}" in arguments, name
    assert f"--name={RENAMES['default-to-afw']}" in arguments
    queries = [arg for arg in arguments if arg.startswith("--query=[etag")]
    for name in ("net-temp", "temp-debug", "app-aks-workloads", "allow-all-web"):
        literal = json.dumps(RENAMES[name]).replace("`", "\\`")
        assert any(literal in query for query in queries), name


@pytest.mark.parametrize("source", ["drifted", "UDR006", "UDR007", "FW006", "AKS001"])
def test_the_injection_script_is_shellcheck_clean(source, tmp_path):
    shellcheck = require_tool(shutil.which("shellcheck"), "shellcheck")
    estate = (injection_estate(tmp_path / "estate.json") if source == "drifted"
              else catalog_injection_estate(source, tmp_path / "estate.json"))
    path = write_script(generate(scan(estate), include_disruptive=True), tmp_path / "fix.sh")
    done = subprocess.run([shellcheck, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("check_id", ["UDR006", "UDR007", "FW006", "AKS001"])
def test_catalog_names_stay_data_through_the_closed_loop(check_id, workdir):
    estate = catalog_injection_estate(check_id, workdir / "estate.json")
    before = scan(estate, (check_id,))
    assert before.complete, before.errors
    script = generate(before, include_disruptive=True)
    assert script.targeted, f"{check_id}: no automated fix in its fixture"
    path = write_script(script, workdir / "fix.sh")

    plan = run_script(path, estate, cwd=workdir)
    applied = run_script(path, estate, "--apply", cwd=workdir)
    assert plan.returncode == 0 and applied.returncode == 0, applied.stdout + applied.stderr
    assert _no_pwned(workdir) == []
    after = scan(estate, (check_id,))
    assert not keys(after) & script.targeted
    assert keys(after) <= keys(before)
    assert run_script(path, estate, "--apply", cwd=workdir).mutating_calls == ()
    assert _no_pwned(workdir) == []

    arguments = {arg for call in applied.calls for arg in call["argv"]}
    names = {"UDR006": ("--resource-group", "rg-spoke-orders-weu"), "UDR007": ("--resource-group", "rg-hub-network-weu"),
             "FW006": ("--ids", "afwp-sandbox"), "AKS001": ("--name", "aks-etl")}
    option, renamed = names[check_id]
    assert any(arg.startswith(f"{option}=") and CATALOG_RENAMES[renamed] in arg for arg in arguments), arguments
