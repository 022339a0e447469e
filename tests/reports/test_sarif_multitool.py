"""Microsoft's sarif-multitool with the GitHub ingestion rules (GH1001-GH1007) over our SARIF.

The tool exits 0 even when it finds errors, so its own SARIF output is parsed instead. The
bundled native binary is called directly: the npm wrapper runs through a shell, which would
split "Ghas;Sarif" at the semicolon. CI provides it as $SARIF_MULTITOOL; locally the CI cache is
looked up, and the test skips when neither exists (it fails in CI).
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
from pathlib import Path

from aksaudit.reports import sarif
from conftest import require_tool
from report_estates import (
    DRIFTED, FIREWALL_PUBLIC_IP, cloned_spokes, example_rows, hostile_rows, scan, scan_example, suppressed,
    with_unreadable_row, with_wildcard_rules,
)

CONFIG = Path(__file__).resolve().parents[1] / "data" / "sarif-multitool-github.config.xml"
# Notifications that say nothing about our files.
HARMLESS_NOTIFICATIONS = {"WRN999.RuleExplicitlyDisabled"}  # SARIF2016, disabled by the GitHub config itself
# `tool.driver.informationUri` (SARIF2005, warning level) stays tolerated: the project URL in
# reports/sarif_rules.py is a placeholder until aksaudit has a public home page.
TOLERATED_WARNINGS = {"SARIF2005"}
BROKEN = "control-with-uri-scheme.sarif"


def _outdated_result_limit(result: dict) -> bool:
    """GH1004 still assumes GitHub's old 1,000-results limit (hard-coded in the tool); code scanning
    now takes 25,000 per run and shows the top 5,000, which is our cap. Tolerate exactly that."""
    arguments = result["message"].get("arguments", [])
    return (result["ruleId"] == "GH1004" and len(arguments) == 3 and arguments[0].endswith(".results")
            and int(arguments[1]) <= sarif.MAX_RESULTS and arguments[2] == "1000")


def _multitool() -> str:
    cache = Path(os.environ.get("AKSAUDIT_CI_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or
                                                           Path.home() / ".cache") / "aksaudit-ci")
    found = sorted(glob.glob(str(cache / "npm/node_modules/@microsoft/sarif-multitool-linux*/Sarif.Multitool")))
    return require_tool(os.environ.get("SARIF_MULTITOOL") or (found[0] if found else None), "sarif-multitool")


def _documents() -> dict[str, str]:
    documents = {}
    for name in ("tutorial.json", "hub-spoke.json", DRIFTED):
        result = scan_example(name)
        documents[f"{Path(name).stem}.sarif"] = sarif.render(result)
        for filename, text in sarif.render_per_subscription(result).items():
            documents[f"{Path(name).stem}-{filename}"] = text
    documents["hostile.sarif"] = sarif.render(scan(hostile_rows()))
    documents["suppressed.sarif"] = sarif.render(suppressed(scan_example(DRIFTED), "FW003"))
    documents["incomplete.sarif"] = sarif.render(scan(with_unreadable_row(example_rows())))
    capped = scan(with_wildcard_rules(cloned_spokes(20, 100, payments_next_hop=FIREWALL_PUBLIC_IP), 5000),
                  ("UDR001", "UDR004", "UDR005", "FW004"))
    documents["capped.sarif"] = sarif.render(capped)
    # A control: the same drifted log with a URI scheme, which code scanning rejects (GH1005).
    broken = json.loads(documents[f"{Path(DRIFTED).stem}.sarif"])
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "azure://x/y"
    documents[BROKEN] = json.dumps(broken)
    return documents


def test_multitool_github_rules_report_no_errors(tmp_path):
    tool = _multitool()
    inputs = []
    for name, text in _documents().items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        inputs.append(str(path))
    output = tmp_path / "multitool-output.sarif"
    # Inputs come first: --log takes a list and would swallow the paths after it.
    completed = subprocess.run(
        [tool, "validate", *inputs, "--rule-kind", "Ghas;Sarif", "--config", str(CONFIG),
         "--level", "Error;Warning", "--output", str(output), "--log", "ForceOverwrite",
         # GitHub's limit is 10 MB *gzipped*; the multitool's own default skips files over 10 MB
         # uncompressed, which the 5,000-result document may exceed while still within GitHub's limit.
         "--max-file-size-in-kb", "102400"],
        capture_output=True, text=True, timeout=300, check=False)
    assert output.exists(), f"multitool wrote no output:\n{completed.stdout}\n{completed.stderr}"
    report = json.loads(output.read_text(encoding="utf-8-sig"))
    problems = []
    for run in report["runs"]:
        for result in run.get("results", []):
            level = result.get("level", "warning")
            if _outdated_result_limit(result):
                continue
            if level == "error" or (level == "warning" and result["ruleId"] not in TOLERATED_WARNINGS):
                where = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                problems.append(f"{level} {result['ruleId']} in {where}: {result['message']}")
        for invocation in run.get("invocations", []):
            for note in (invocation.get("toolExecutionNotifications", []) +
                         invocation.get("toolConfigurationNotifications", [])):
                if note.get("descriptor", {}).get("id") not in HARMLESS_NOTIFICATIONS:
                    problems.append(f"notification {note.get('descriptor')}: {note['message']}")
    assert [p for p in problems if BROKEN not in p] == []
    assert any("GH1005" in p for p in problems if BROKEN in p), "the control must be caught, or nothing is checked"
    assert f"Done. {len(inputs)} files scanned." in completed.stdout, completed.stdout
