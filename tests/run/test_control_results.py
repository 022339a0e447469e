"""The `controls` section of the JSON result, end to end through the command line: the bundled
examples judged per control, the section valid against the published schema and read back
as written, --framework choosing frameworks, and suppressions shown as accepted risk."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from aksaudit.reports.check_docs import builtin_registry
from aksaudit.results.frameworks import builtin_frameworks
from aksaudit.run.result_json import read_result, render
from aksaudit.run.result_schema import schema
from aksaudit.run.shard_merge import merge_results

from conftest import EXAMPLES, aksaudit_cmd

DRIFTED = EXAMPLES / "hub-spoke-drifted.json"
COMPLIANT = EXAMPLES / "hub-spoke.json"
INPUT_ONLY = {"DRIFT001"}  # judges nothing without --approved


def scan(tmp_path: Path, estate: Path, *flags: str, name: str = "result.json") -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / name
    proc = subprocess.run([*aksaudit_cmd(), "scan", str(estate), "--json", str(out), "--quiet", *flags],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def drifted(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("drifted")
    return folder / "result.json", scan(folder, DRIFTED)[1]


def _controls(document: dict) -> dict[tuple[str, str], dict]:
    return {(f["id"], c["id"]): c for f in document["controls"]["frameworks"] for c in f["controls"]}


def test_the_drifted_example_fails_exactly_the_controls_its_findings_map_to(drifted):
    _, document = drifted
    findings = document["findings"]
    mapped = {(f.id, c.id): c.check_ids for f in builtin_frameworks() for c in f.controls}
    for key, control in _controls(document).items():
        behind = {f["fingerprint"] for f in findings if f["check_id"] in mapped[key] and "suppression" not in f}
        assert set(control["findings"]) == behind
        assert (control["status"] == "not_satisfied") == bool(behind)
    assert any(c["status"] == "not_satisfied" for c in _controls(document).values())


def test_the_compliant_example_satisfies_every_control_it_can_judge(tmp_path):
    proc, document = scan(tmp_path, COMPLIANT)
    assert proc.returncode == 0
    for (framework, control_id), control in _controls(document).items():
        judged = {c["id"] for c in control["checks"]} - INPUT_ONLY
        expected = "satisfied" if judged == {c["id"] for c in control["checks"]} else \
            "not_evaluated" if not judged else "not_assessable"
        assert control["status"] == expected, (framework, control_id)
        if expected == "satisfied":
            assert control["clusters"]["satisfied"] == control["clusters"]["total"] == document["summary"]["clusters"]["total"]


def test_the_section_is_valid_against_the_published_schema_and_read_back_as_written(drifted):
    from jsonschema import Draft202012Validator

    path, document = drifted
    Draft202012Validator(schema()).validate(document)
    result = read_result(path, {c.id: c for c in builtin_registry().checks})
    assert json.loads(render(result))["controls"] == document["controls"]


def test_frameworks_are_sorted_by_id_with_controls_in_document_order(drifted):
    _, document = drifted
    frameworks = document["controls"]["frameworks"]
    assert [f["id"] for f in frameworks] == sorted(f.id for f in builtin_frameworks())
    for written, mapping in zip(frameworks, builtin_frameworks()):
        assert [c["id"] for c in written["controls"]] == [c.id for c in mapping.controls]


def test_merging_a_result_with_itself_judges_the_controls_the_same(drifted):
    path, document = drifted
    result = read_result(path)
    merged = merge_results([("a", result), ("b", result)])
    assert json.loads(render(merged))["controls"]["frameworks"][0]["summary"] == \
        document["controls"]["frameworks"][0]["summary"]
    assert {k: c["findings"] for k, c in _controls(json.loads(render(merged))).items()} == \
        {k: c["findings"] for k, c in _controls(document).items()}


def test_framework_flag_chooses_frameworks_by_prefix(tmp_path):
    _, document = scan(tmp_path, DRIFTED, "--framework", "NIST", "--framework", "pci")
    assert [f["id"] for f in document["controls"]["frameworks"]] == ["nist-800-53-r5", "pci-dss-4.0"]


def test_an_unknown_framework_is_a_usage_error_naming_the_valid_ones(tmp_path):
    proc = subprocess.run([*aksaudit_cmd(), "scan", str(DRIFTED), "--framework", "sox"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown framework 'sox'" in proc.stderr and all(f.id in proc.stderr for f in builtin_frameworks())
    assert "Traceback" not in proc.stderr


def test_a_suppressed_finding_makes_its_controls_an_accepted_risk_never_satisfied(tmp_path, drifted):
    _, plain = drifted
    target = next(f for f in plain["findings"] if f["check_id"] == "FW003")
    (tmp_path / "aksaudit.toml").write_text(
        f'[[suppress]]\ncheck = "FW003"\nresource = "{target["resource_id"]}"\nlocus = "{target["locus"]}"\n'
        'reason = "accepted for the audit test"\n', encoding="utf-8")
    _, document = scan(tmp_path, DRIFTED)
    for key, control in _controls(document).items():
        if "FW003" not in {c["id"] for c in control["checks"]}:
            assert control == _controls(plain)[key]
            continue
        assert target["fingerprint"] in control["accepted"] and target["fingerprint"] not in control["findings"]
        assert control["status"] != "satisfied"
        if not control["findings"]:
            assert control["status"] == "accepted_risk"


def test_frameworks_list_and_checks_explain_name_the_controls(tmp_path):
    listed = subprocess.run([*aksaudit_cmd(), "frameworks", "list"], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    assert listed.returncode == 0
    for framework in builtin_frameworks():
        assert framework.id in listed.stdout and str(len(framework.controls)) in listed.stdout
    explained = subprocess.run([*aksaudit_cmd(), "checks", "explain", "FW003"], capture_output=True, text=True,
                               timeout=60, cwd=tmp_path, env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"})
    assert explained.returncode == 0, explained.stderr
    for framework in builtin_frameworks():
        for control in framework.controls_of("FW003"):
            assert f" {control.id} {control.title} " in explained.stdout


def test_the_drift_controls_are_judged_only_with_an_approved_baseline(tmp_path, drifted):
    approved = tmp_path / "approved.json"
    subprocess.run([*aksaudit_cmd(), "baseline", "approve", "--snapshot", str(COMPLIANT), "-o", str(approved), "-q"],
                   check=True, capture_output=True, timeout=120, cwd=tmp_path)
    _, same = scan(tmp_path, COMPLIANT, "--approved", str(approved), name="same.json")
    _, moved = scan(tmp_path, DRIFTED, "--approved", str(approved), name="moved.json")
    only_drift = [key for key, c in _controls(same).items() if {k["id"] for k in c["checks"]} == INPUT_ONLY]
    assert only_drift
    for key in only_drift:
        assert _controls(drifted[1])[key]["status"] == "not_evaluated"  # no approved baseline: nothing compared
        assert _controls(same)[key]["status"] == "satisfied"
        assert _controls(moved)[key]["status"] == "not_satisfied"
        assert {c["id"]: c["ran"] for c in _controls(moved)[key]["checks"]} == {"DRIFT001": True}


def test_a_merge_judges_only_the_frameworks_every_shard_judged(drifted):
    from dataclasses import replace

    result = read_result(drifted[0])
    nist_only = replace(result, controls={"frameworks": [f for f in result.controls["frameworks"]
                                                         if f["id"] == "nist-800-53-r5"]})
    merged = merge_results([("a", result), ("b", nist_only)])
    assert [f["id"] for f in merged.controls["frameworks"]] == ["nist-800-53-r5"]
    assert merge_results([("a", result), ("old", replace(result, controls={}))]).controls == {}
