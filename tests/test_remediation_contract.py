"""What a check says about its fix, in Python, holds for what its template writes.

`CheckMeta.fix` is the worst case over a check's findings; a template may narrow it for one
finding, never widen it, and a check declares `none` exactly when it ships no template.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from aksaudit.api import FixKind
from aksaudit.reports.remediation import ScanHeader, render
from aksaudit.reports.remediation.script import TEMPLATE_NAME, CheckFix, FixKindError
from aksaudit.testing import load_fixture, run_checks
from conftest import aksaudit_cmd
from remediation_harness import REGISTRY, TEMPLATES, copy_estate, scan

BUILT_IN = [c for c in REGISTRY.checks if c.folder is not None]


@pytest.mark.parametrize("check", BUILT_IN, ids=lambda c: c.id)
def test_a_check_declares_no_fix_exactly_when_it_ships_no_template(check):
    has_template = (check.folder / TEMPLATE_NAME).is_file()
    assert has_template == (check.meta.fix is not FixKind.NONE), check.meta.fix
    assert (check.id in TEMPLATES) == has_template


@pytest.mark.parametrize("check", [c for c in BUILT_IN if c.meta.fix is not FixKind.NONE], ids=lambda c: c.id)
def test_the_bad_fixture_reaches_the_declared_kind_and_no_block_exceeds_it(check):
    """The declaration is neither too weak (the renderer would refuse) nor inflated: some finding
    of the check's bad fixture gets exactly the declared kind."""
    fixture = load_fixture(check.folder / "bad.json")
    result = run_checks([check], fixture.rows, fixture.options)
    script = render(result.findings, TEMPLATES, ScanHeader("v", "t"), include_disruptive=True)
    kinds = {b.kind for b in script.blocks}
    assert kinds and max(k.rank for k in kinds) == check.meta.fix.rank, (check.meta.fix, kinds)
    assert all(b.resolves == b.kind.changes_azure for b in script.blocks)


@pytest.mark.parametrize("declared,claimed", [(FixKind.SAFE, "disruptive"), (FixKind.MANUAL, "safe"),
                                              (FixKind.SAFE, "drastic")])
def test_a_template_cannot_claim_a_wider_fix_than_its_check_declares(declared, claimed, tmp_path):
    result = scan(copy_estate("hub-spoke-drifted.json", tmp_path), only=("UDR004",))
    template = tmp_path / TEMPLATE_NAME
    template.write_text(f'{{% set fix = "{claimed}" %}}\n{{% set summary = "s" %}}\n    info x\n')
    with pytest.raises(FixKindError, match="UDR004"):
        render(result.findings, {"UDR004": CheckFix(declared, template)}, ScanHeader("v", "t"))


def test_a_narrower_fix_for_one_finding_is_honoured(tmp_path):
    result = scan(copy_estate("hub-spoke-drifted.json", tmp_path), only=("UDR004",))
    template = tmp_path / TEMPLATE_NAME
    template.write_text('{% set fix = "manual" %}\n{% set summary = "s" %}\n    info x\n')
    script = render(result.findings, {"UDR004": CheckFix(FixKind.DISRUPTIVE, template)}, ScanHeader("v", "t"))
    assert script.blocks and {b.kind for b in script.blocks} == {FixKind.MANUAL}
    assert all(b.active and b.mode_text == "manual" for b in script.blocks)


def test_checks_list_shows_each_checks_fix_kind():
    done = subprocess.run([*aksaudit_cmd(), "checks", "list"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") > 3}
    for check in BUILT_IN:
        cells = [cell.strip() for cell in rows[check.id].split("│")]
        assert check.meta.fix.value in cells, rows[check.id]
