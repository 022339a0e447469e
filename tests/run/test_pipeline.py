"""The scan pipeline (`aksaudit.run`): one request in, one result out, in one order; the JSON v1
contract read back the way it is written; and a command line that names no check."""
from __future__ import annotations

import ast
import json
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from aksaudit.api import T_CLUSTER, CheckMeta, Severity
from aksaudit.config import Config, Suppression
from aksaudit.run.registry import CheckDoc, LoadedCheck
from aksaudit.run.pipeline import check_options, run
from aksaudit.run.request import ScanRequest, SnapshotSource
from aksaudit.run.result_json import document, read_result, render

from conftest import EXAMPLES, ROOT, aksaudit_cmd

DRIFTED = EXAMPLES / "hub-spoke-drifted.json"
EXAMPLE_ESTATES = ("tutorial.json", "hub-spoke.json", "hub-spoke-drifted.json")


def _suppression(finding, expires: date | None) -> Suppression:
    return Suppression(0, finding.check_id, finding.resource_id, "", finding.locus, "accepted", expires, "test.toml")


def test_suppressions_are_judged_on_the_request_date(registry):
    plain = run(ScanRequest(SnapshotSource(str(DRIFTED)), registry.checks))
    target = plain.findings[0]
    config = Config(suppressions=(_suppression(target, date(2026, 6, 30)),))
    before = run(ScanRequest(SnapshotSource(str(DRIFTED)), registry.checks, config=config, as_of=date(2026, 6, 30)))
    after = run(ScanRequest(SnapshotSource(str(DRIFTED)), registry.checks, config=config, as_of=date(2026, 7, 1)))
    assert {f.key for f in before.findings if f.suppressed} == {target.key}
    assert not [f for f in after.findings if f.suppressed]
    assert {n.kind for n in after.suppression_notices} == {"expired"}
    assert {f.key for f in before.findings} == {f.key for f in after.findings} == {f.key for f in plain.findings}


def test_configured_severity_reaches_the_findings(registry):
    plain = run(ScanRequest(SnapshotSource(str(DRIFTED)), registry.checks))
    check_id = plain.findings[-1].check_id
    raised = run(ScanRequest(SnapshotSource(str(DRIFTED)), registry.checks,
                             config=Config(severity={check_id: plain.findings[0].severity})))
    assert {f.severity for f in raised.findings if f.check_id == check_id} == {plain.findings[0].severity}


def _recording_check(check_id: str, options: dict) -> tuple[LoadedCheck, list]:
    """A plugin-style check that records the options it was called with."""
    seen: list = []

    def evaluate(estate, given):
        seen.append(dict(given))
        return ()

    meta = CheckMeta(id=check_id, slug=check_id.lower(), title="records", severity=Severity.LOW, requires=(T_CLUSTER,),
                     options=options)
    return LoadedCheck(meta=meta, evaluate=evaluate, source="test"), seen


def test_a_check_receives_a_request_input_by_declaring_the_option():
    asking, asked = _recording_check("ASK001", {"approved": None})
    other, untouched = _recording_check("OTH001", {"limit": 3})
    approval = {"format": "aksaudit-egress-baseline", "version": 1, "clusters": {}}
    request = ScanRequest(SnapshotSource(str(DRIFTED)), (asking, other), approved_egress=approval,
                          config=Config(options={"OTH001": {"limit": 5}}))
    assert check_options(request) == {"ASK001": {"approved": approval}, "OTH001": {"limit": 5}}
    run(request)
    assert asked == [{"approved": approval}] and untouched == [{"limit": 5}]


@pytest.mark.parametrize("estate", EXAMPLE_ESTATES)
def test_a_result_reads_back_as_it_was_written(registry, tmp_path, estate):
    result = run(ScanRequest(SnapshotSource(str(EXAMPLES / estate)), registry.checks))
    path = tmp_path / "result.json"
    path.write_text(render(result))
    again = read_result(path, {c.id: c.documentation for c in registry.checks})
    assert document(again) == document(result)
    assert again.checks_run == tuple(c.documentation for c in registry.checks)


def test_a_check_the_reader_does_not_know_is_kept_by_id(registry, tmp_path):
    result = run(ScanRequest(SnapshotSource(str(DRIFTED)), registry.checks))
    path = tmp_path / "result.json"
    path.write_text(render(result))
    again = read_result(path)  # no documentation: every check is known by its id only
    assert [c.id for c in again.checks_run] == [c.id for c in result.checks_run]
    assert all(isinstance(c, CheckDoc) and c.doc == "" for c in again.checks_run)


def test_a_baseline_of_the_wrong_shape_is_a_one_line_error(tmp_path):
    good = tmp_path / "good.json"
    subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(DRIFTED), "--json", str(good), "--quiet"], timeout=120)
    previous = json.loads(good.read_text())
    previous["summary"]["resources_evaluated"] = "many"
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(previous))
    proc = subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(DRIFTED), "--baseline", str(odd), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr
    assert str(odd) in lines[0] and "summary/resources_evaluated" in lines[0]


# The command line (a module per command, or the cli*.py modules before that split) and `merge`.
CLI_MODULES = (sorted((ROOT / "auditor").glob("cli*.py")) + sorted((ROOT / "auditor" / "cli").rglob("*.py"))
               + [ROOT / "auditor" / "run" / "shard_merge.py"])


@pytest.mark.parametrize("module", CLI_MODULES, ids=lambda p: p.name)
def test_the_command_line_names_no_check(registry, module: Path):
    """Checks supply their own options (see run.pipeline.REQUEST_INPUTS): no check id in the CLI."""
    strings = {node.value for node in ast.walk(ast.parse(module.read_text())) if isinstance(node, ast.Constant)
               and isinstance(node.value, str)}
    named = {check.id for check in registry.checks if any(check.id in text for text in strings)}
    assert not named, f"{module.name} names {sorted(named)}"


def test_a_result_recorded_incomplete_without_a_gap_reads_back_incomplete(tmp_path):
    good = tmp_path / "result.json"
    subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(DRIFTED), "--json", str(good), "--quiet"], timeout=120)
    saved = json.loads(good.read_text())
    saved["scan"]["complete"] = False
    good.write_text(json.dumps(saved))
    again = read_result(good)
    assert again.complete is False and any(str(good) in error for error in again.errors)
    assert replace(again, errors=()).complete  # the added error is what makes it incomplete
