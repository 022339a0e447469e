"""The report flags as users run them: the README's main command, per-subscription SARIF, stdout.

The command runs as a subprocess; outputs are checked for what they contain (finding sets),
and the output folder for leftovers of the atomic writes.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

from aksaudit.testing import key
from conftest import EXAMPLES, ROOT, aksaudit_cmd
from report_estates import HUB_SUBSCRIPTION, SPOKE_SUBSCRIPTION


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def _sarif_keys(document: dict) -> set:
    return {key(r["ruleId"], r["properties"]["azure"]["resourceId"], r["properties"]["azure"]["locus"])
            for run_ in document["runs"] for r in run_["results"]}


def _readme_main_command() -> list[str]:
    """The arguments of the quick start's `aksaudit scan ...`, exactly as the README gives them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = re.search(r"^python3 -m venv .* && \.venv/bin/aksaudit (scan .*)$", readme, re.MULTILINE)
    assert line, "the README's quick start no longer runs 'aksaudit scan'"
    return shlex.split(line.group(1))


def test_readme_main_command_writes_every_report(tmp_path):
    arguments = _readme_main_command()
    assert {"--json", "--sarif", "--html", "--markdown"} <= set(arguments)
    snapshot = tmp_path / "examples" / "tutorial.json"
    snapshot.parent.mkdir()
    snapshot.write_text((EXAMPLES / "tutorial.json").read_text())
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.html").write_text("stale report from an earlier run")
    proc = run(*arguments, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # the tutorial has findings
    out = tmp_path / "out"
    written = {p.name for p in out.iterdir()}
    assert {"report.json", "report.sarif", "report.html", "summary.md"} <= written
    assert not [name for name in written if name.endswith(".tmp")], written  # atomic writes leave no temp files
    findings = {key(f["check_id"], f["resource_id"], f["locus"])
                for f in json.loads((out / "report.json").read_text())["findings"]}
    assert findings
    assert _sarif_keys(json.loads((out / "report.sarif").read_text())) == findings
    page = (out / "report.html").read_text()
    assert page.startswith("<!doctype html>") and "stale report" not in page
    summary = (out / "summary.md").read_text()
    assert all(check_id in summary for check_id, _, _ in findings)


def test_sarif_dir_writes_one_file_per_subscription_clean_ones_included(tmp_path):
    proc = run("scan", "--snapshot", str(EXAMPLES / "hub-spoke.json"), "--sarif-dir", "sarif", "--quiet",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    files = {p.name: json.loads(p.read_text()) for p in (tmp_path / "sarif").iterdir()}
    assert set(files) == {f"subscription-{HUB_SUBSCRIPTION}.sarif", f"subscription-{SPOKE_SUBSCRIPTION}.sarif"}
    assert {name: document["runs"][0]["results"] for name, document in files.items()} == \
        {name: [] for name in files}


def test_report_to_stdout_keeps_the_summary_on_stderr(tmp_path):
    proc = run("scan", "--snapshot", str(EXAMPLES / "hub-spoke-drifted.json"), "--sarif", "-", cwd=tmp_path)
    document = json.loads(proc.stdout)
    assert document["runs"][0]["automationDetails"]["id"] == "aksaudit/all/"
    assert "Clusters compliant" in proc.stderr
    proc = run("scan", "--snapshot", str(EXAMPLES / "hub-spoke-drifted.json"), "--json", "-", "--markdown",
               "summary.md", cwd=tmp_path)
    assert json.loads(proc.stdout)["findings"]
    assert (tmp_path / "summary.md").read_text().startswith("## aksaudit")
