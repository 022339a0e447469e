"""The CLI as users run it (a subprocess): exit codes, bad input, JSON v1 against its schema."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from aksaudit.testing import key

from conftest import EXAMPLES, ROOT, aksaudit_cmd

SCHEMA = json.loads((ROOT / "reports" / "aksaudit-v1.schema.json").read_text())


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def scan_json(path: Path, *extra: str) -> tuple[int, dict]:
    proc = run("scan", "--snapshot", str(path), "--json", "-", *extra)
    return proc.returncode, json.loads(proc.stdout)


def finding_keys(document: dict) -> set:
    return {key(f["check_id"], f["resource_id"], f["locus"]) for f in document["findings"]}


@pytest.mark.parametrize("example", ["tutorial.json", "hub-spoke.json", "hub-spoke-drifted.json"])
def test_examples_produce_their_expected_findings(example, expected_examples):
    code, document = scan_json(EXAMPLES / example)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(document)
    assert finding_keys(document) == {key(*k) for k in expected_examples[example]}
    assert document["scan"]["complete"] is True
    assert code == (1 if expected_examples[example] else 0)


def test_compliant_estate_exits_zero_and_counts_every_cluster_compliant():
    code, document = scan_json(EXAMPLES / "hub-spoke.json")
    assert code == 0 and document["findings"] == []
    assert document["summary"]["clusters"]["compliant"] == document["summary"]["clusters"]["total"] > 0


def test_fail_on_threshold_controls_exit_code(tmp_path):
    assert scan_json(EXAMPLES / "tutorial.json", "--fail-on", "high")[0] == 1
    assert scan_json(EXAMPLES / "tutorial.json", "--fail-on", "critical")[0] == 0
    assert scan_json(EXAMPLES / "tutorial.json", "--fail-on", "never")[0] == 0


def test_ignore_and_select_by_slug(expected_examples):
    _, document = scan_json(EXAMPLES / "tutorial.json", "--ignore", "firewall-not-in-azurefirewallsubnet")
    assert {f["check_id"] for f in document["findings"]} == {item[0] for item in expected_examples["tutorial.json"]} - {
        "FW001"}
    assert "FW001" not in document["summary"]["checks_run"]


def test_unreadable_row_makes_the_scan_incomplete_exit_3(tmp_path):
    rows = json.loads((EXAMPLES / "hub-spoke.json").read_text())
    table = next(r for r in rows if r["type"] == "microsoft.network/routetables")
    table["properties"] = "garbage"
    snapshot = tmp_path / "broken.json"
    snapshot.write_text(json.dumps(rows))
    code, document = scan_json(snapshot)
    assert code == 3
    assert document["scan"]["complete"] is False
    assert any(table["id"] in w and "'properties'" in w for w in document["scan"]["warnings"])
    assert document["scan"]["skipped"] and document["scan"]["errors"]
    assert document["summary"]["clusters"]["compliant"] < document["summary"]["clusters"]["total"]


def test_az_graph_query_output_and_own_snapshot_formats(tmp_path):
    rows = json.loads((EXAMPLES / "tutorial.json").read_text())
    az = tmp_path / "az.json"
    az.write_text(json.dumps({"count": len(rows), "data": rows, "skip_token": None, "total_records": len(rows)}))
    own = tmp_path / "own.json"
    own.write_text(json.dumps({"rows": rows, "meta": {"complete": True}}))
    assert finding_keys(scan_json(az)[1]) == finding_keys(scan_json(own)[1]) == finding_keys(
        scan_json(EXAMPLES / "tutorial.json")[1])


def test_incomplete_own_snapshot_is_reported_incomplete(tmp_path):
    rows = json.loads((EXAMPLES / "hub-spoke.json").read_text())
    own = tmp_path / "partial.json"
    own.write_text(json.dumps({"rows": rows, "meta": {"complete": False, "errors": ["subscription X: forbidden"]}}))
    code, document = scan_json(own)
    assert code == 3 and document["scan"]["complete"] is False
    assert "subscription X: forbidden" in document["scan"]["errors"]


@pytest.mark.parametrize("content,needle", [
    ("{not json", "is not valid JSON"),
    ('{"value": []}', "neither 'rows'"),
    ('"just a string"', "expected a JSON array"),
    ('{"rows": {}}', "'rows' is dict"),
    ('{"data": 5}', "'data' is int"),
])
def test_bad_input_exits_2_naming_the_file(tmp_path, content, needle):
    path = tmp_path / "input.json"
    path.write_text(content)
    proc = run("scan", "--snapshot", str(path))
    assert proc.returncode == 2
    assert str(path) in proc.stderr and needle in proc.stderr


def test_missing_file_and_directory_exit_2(tmp_path):
    for target, needle in ((tmp_path / "nope.json", "no such file"), (tmp_path, "is a directory")):
        proc = run("scan", "--snapshot", str(target))
        assert proc.returncode == 2 and needle in proc.stderr


def test_usage_errors_exit_2():
    assert run("scan", "--snapshot", str(EXAMPLES / "tutorial.json"), "--select", "NOPE999").returncode == 2
    assert run("scan", "--bogus").returncode == 2
    assert run("checks", "explain", "NOPE999").returncode == 2


def test_checks_list_and_explain():
    listing = run("checks", "list")
    assert listing.returncode == 0 and "UDR001" in listing.stdout and "FW004" in listing.stdout
    explain = run("checks", "explain", "udr005")
    assert explain.returncode == 0
    for section in ("What it checks", "Why it matters", "How to fix"):
        assert section in explain.stdout


def test_json_file_output_and_deterministic_order(tmp_path):
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    for out in (out1, out2):
        assert run("scan", "--snapshot", str(EXAMPLES / "hub-spoke-drifted.json"), "--json", str(out), "--quiet").returncode == 1
    strip = lambda d: (d.pop("scan"), d)[1]  # timestamps differ between runs
    assert strip(json.loads(out1.read_text())) == strip(json.loads(out2.read_text()))
    assert not list(tmp_path.glob(".*.tmp"))
