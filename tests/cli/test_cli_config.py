"""Configuration as users meet it: the file named on stderr, `config show`, quoted dates, every
wrong type a one-line error naming the key, and docs/configuration.md covering every key."""
from __future__ import annotations

import json
import re

import pytest

from aksaudit.config import KEYS, OUTPUT_KEYS, SUPPRESS_KEYS, TOP_KEYS
from aksaudit.reports.check_docs import builtin_registry, configuration_page
from conftest import EXAMPLES, ROOT
from test_cli_outputs import run

TUTORIAL = EXAMPLES / "tutorial.json"
FW001 = "FW001"


def test_the_documentation_covers_every_key_and_option_and_is_current():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == configuration_page(builtin_registry())
    documented = set(re.findall(r"^\| `([^`]+)` \|", page, re.MULTILINE))
    assert {k.name for k in KEYS} <= documented
    assert TOP_KEYS == {"select", "ignore", "frameworks", "fail-on", "severity", "checks", "output", "suppress"}
    assert {f"output.{k}" for k in OUTPUT_KEYS} | {f"suppress[].{k}" for k in SUPPRESS_KEYS} <= documented
    for check in builtin_registry().checks:
        for option in check.meta.options:
            assert f"| `{check.id}` | `{option}` |" in page, (check.id, option)


def test_quoted_and_bare_dates_both_expire_a_suppression(tmp_path):
    for expires in ('"2000-01-01"', "2000-01-01", '"2099-12-31"'):
        (tmp_path / "aksaudit.toml").write_text(
            f'[[suppress]]\ncheck = "{FW001}"\nresource-glob = "*"\nreason = "accepted"\nexpires = {expires}\n')
        proc = run("scan", str(TUTORIAL), "--json", "-", cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        fw001 = [f for f in json.loads(proc.stdout)["findings"] if f["check_id"] == FW001]
        assert fw001 and all(bool(f.get("suppression")) == ("2099" in expires) for f in fw001), expires


def test_the_loaded_file_is_named_on_stderr_unless_quiet(tmp_path):
    config = tmp_path / "aksaudit.toml"
    config.write_text('fail-on = "high"\n')
    proc = run("scan", str(TUTORIAL), cwd=tmp_path)
    assert f"aksaudit: configuration: {config}" in proc.stderr
    assert "configuration:" not in run("scan", str(TUTORIAL), "-q", cwd=tmp_path).stderr


def test_config_show_says_where_each_setting_came_from(tmp_path):
    config = tmp_path / "aksaudit.toml"
    config.write_text('fail-on = "high"\nignore = ["FW"]\n[severity]\nUDR001 = "LOW"\n[output]\nhtml = "r.html"\n')
    proc = run("config", "show", "--select", "UDR,FW001", "--json", "out.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()

    def origin(key: str) -> str:
        (line,) = [line for line in lines if line.startswith(f"{key} = ")]
        return line.rsplit("# ", 1)[1]
    assert origin("select") == "flag --select"
    assert origin("ignore") == origin("fail-on") == origin("severity.UDR001") == origin("output.html") == f"file {config}"
    assert origin("output.json") == "flag --json"
    assert origin("severity.UDR002") == "default"
    (ran,) = [line for line in lines if line.startswith("# checks that run:")]
    assert "UDR001" in ran and "FW001" not in ran  # ignore (file) still applies to the flag's selection


@pytest.mark.parametrize("toml,key", [
    ("select = 5", "select"),
    ('select = ["UDR001", 3]', "select[1]"),
    ("ignore = {}", "ignore"),
    ("fail-on = 3", "fail-on"),
    ("fail-on = [\"high\"]", "fail-on"),
    ("severity = 5", "severity"),
    ('severity = "high"', "severity"),
    ("[severity]\nFW001 = 3", "severity.FW001"),
    ('checks = "x"', "checks"),
    ("[checks]\nUDR004 = 1", "checks.UDR004"),
    ("[checks.UDR004]\napproved_appliances = [1]", "checks.UDR004.approved_appliances[0]"),
    ("output = 1", "output"),
    ("[output]\njson = 1", "output.json"),
    ("[output]\nxml = \"a\"", "output.xml"),
    ("suppress = 1", "suppress"),
    ("suppress = [1]", "suppress[0]"),
    ('[[suppress]]\ncheck = 1\nresource = "/x"\nreason = "r"', "suppress[0].check"),
    ('[[suppress]]\ncheck = "FW001"\nresource = 1\nreason = "r"', "suppress[0].resource"),
    ('[[suppress]]\ncheck = "FW001"\nresource = "/x"\nreason = []', "suppress[0].reason"),
    ('[[suppress]]\ncheck = "FW001"\nresource = "/x"\nreason = "r"\nlocus = 1', "suppress[0].locus"),
    ('[[suppress]]\ncheck = "FW001"\nresource = "/x"\nreason = "r"\nexpires = 2026', "suppress[0].expires"),
    ('[[suppress]]\ncheck = "FW001"\nresource = "/x"\nreason = "r"\nexpires = 2026-01-01T00:00:00',
     "suppress[0].expires"),
])
def test_every_wrong_type_is_one_line_naming_the_key(tmp_path, toml, key):
    config = tmp_path / "aksaudit.toml"
    config.write_text(toml + "\n")
    for argv in (["scan", str(TUTORIAL)], ["config", "show"]):
        proc = run(*argv, cwd=tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        (line,) = proc.stderr.splitlines()
        assert line.startswith(f"aksaudit: error: {config}: {key}:"), line
        assert "expected" in line or "unknown" in line, line


def test_pyproject_with_odd_tool_tables_is_an_error_naming_the_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool]\naksaudit = 5\n')
    proc = run("scan", str(TUTORIAL), "--config", str(tmp_path / "pyproject.toml"))
    assert proc.returncode == 2 and "tool.aksaudit: expected a table" in proc.stderr
