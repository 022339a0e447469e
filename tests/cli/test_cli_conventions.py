"""Conventions users know from ruff, Trivy and Checkov, as subprocess runs of the CLI."""
from __future__ import annotations

import json
import sys

import pytest

from conftest import EXAMPLES
from test_cli_outputs import run

TUTORIAL = EXAMPLES / "tutorial.json"
DRIFTED = EXAMPLES / "hub-spoke-drifted.json"


def checks_run(*args: str) -> set[str]:
    proc = run("scan", str(DRIFTED), "--json", "-", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return set(json.loads(proc.stdout)["summary"]["checks_run"])


def test_python_dash_m_aksaudit_is_the_command():
    import subprocess
    proc = subprocess.run([sys.executable, "-m", "aksaudit", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("aksaudit ")


def test_global_flags_work_after_the_subcommand(tmp_path):
    config = tmp_path / "aksaudit.toml"
    config.write_text('fail-on = "critical"\n')
    for argv in (["--config", str(config), "scan", str(TUTORIAL)], ["scan", str(TUTORIAL), "--config", str(config)],
                 ["-q", "scan", str(TUTORIAL), "--config", str(config)]):
        assert run(*argv).returncode == 0  # the tutorial's findings are high: below critical
    quiet = run("scan", str(TUTORIAL), "-q")
    assert quiet.returncode == 1 and quiet.stdout == ""
    verbose = run("scan", str(TUTORIAL), "-q", "-vv")
    assert verbose.returncode == 1


def test_select_and_ignore_take_id_prefixes():
    all_checks = checks_run()
    udr = {c for c in all_checks if c.startswith("UDR")}
    assert udr and checks_run("--select", "UDR") == udr
    assert checks_run("--select", "udr,FW00") == udr | {c for c in all_checks if c.startswith("FW00")}
    assert checks_run("--ignore", "UDR") == all_checks - udr


def test_selecting_no_check_is_an_error():
    proc = run("scan", str(TUTORIAL), "--select", "UDR001", "--ignore", "UDR")
    assert proc.returncode == 2 and "no check selected" in proc.stderr


@pytest.mark.parametrize("flag,value", [("--fail-on", "HIGH"), ("--fail-on", "Never"), ("--cloud", "azurecloud"),
                                        ("--source", "ARG")])
def test_choices_are_case_insensitive(flag, value):
    proc = run("scan", str(TUTORIAL), "-q", flag, value)
    assert proc.returncode in (0, 1), proc.stderr


def test_an_empty_estate_is_a_loud_warning(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    proc = run("scan", str(empty), "-q")
    assert proc.returncode == 0
    assert "NO AKS CLUSTERS FOUND" in proc.stderr and str(empty) in proc.stderr


def test_a_positional_snapshot_works_and_two_snapshots_are_refused():
    assert run("scan", str(TUTORIAL), "-q").returncode == 1
    proc = run("scan", str(TUTORIAL), "--snapshot", str(DRIFTED))
    assert proc.returncode == 2 and "give one" in proc.stderr


def test_az_table_output_gets_a_hint_to_use_json(tmp_path):
    table = tmp_path / "rows.txt"
    table.write_text("Name    Type\n------  ----\naks1    microsoft.containerservice/managedclusters\n")
    proc = run("scan", str(table))
    assert proc.returncode == 2 and "-o json" in proc.stderr and str(table) in proc.stderr


def test_diff_exits_1_when_it_finds_changes_and_0_when_none():
    assert run("diff", str(EXAMPLES / "hub-spoke.json"), str(DRIFTED)).returncode == 1
    same = run("diff", str(DRIFTED), str(DRIFTED))
    assert same.returncode == 0 and "No egress-relevant changes" in same.stdout


def test_a_missing_baseline_on_the_first_run_makes_everything_new(tmp_path):
    previous = tmp_path / "previous.json"
    proc = run("scan", str(TUTORIAL), "--baseline", str(previous), "--fail-on-new", "--json", str(previous))
    assert "would destroy it" in proc.stderr  # the usual scheduled form writes elsewhere:
    current = tmp_path / "current.json"
    proc = run("scan", str(TUTORIAL), "-q", "--baseline", str(previous), "--fail-on-new", "--json", str(current))
    assert proc.returncode == 1, proc.stderr
    assert "does not exist yet" in proc.stderr and "every finding is new" in proc.stderr
    findings = json.loads(current.read_text())["findings"]
    assert findings and {f["baseline_state"] for f in findings} == {"new"}
    again = run("scan", str(TUTORIAL), "-q", "--baseline", str(current), "--fail-on-new")
    assert again.returncode == 0  # nothing new the second time
