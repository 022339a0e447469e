"""What a check says about its fix, in Python, holds for what its template writes.

`CheckMeta.fix` is the worst case over a check's findings; a template may narrow it for one
finding, never widen it, and a check declares `none` exactly when it ships no template.
`CheckMeta.evidence` is the type of the evidence its template reads: the template reads only
fields the type has (found in its Jinja syntax tree), and every finding the check reports on its
fixtures and the example estates has every field the type requires.
"""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from jinja2 import DictLoader

from aksaudit.api import FixKind, RouteEvidence, evidence_problems
from aksaudit.reports.json_report import finding_dict
from aksaudit.reports.remediation.context import template_globals
from aksaudit.reports.remediation.contract import evidence_reads, missing_fields
from aksaudit.reports.remediation.script import _Loader
from aksaudit.reports.remediation.shell import environment
from aksaudit.reports.remediation import ScanHeader, render
from aksaudit.reports.remediation.script import TEMPLATE_NAME, CheckFix, FixKindError
from aksaudit.testing import load_fixture, run_checks
from conftest import ROOT, aksaudit_cmd
from remediation_harness import EXAMPLE_ESTATES, EXAMPLES, REGISTRY, TEMPLATES, copy_estate, scan

BUILT_IN = [c for c in REGISTRY.checks if c.folder is not None]


def test_every_check_folder_loads():
    assert REGISTRY.problems == ()
    folders = {p.parent.name.split("_", 1)[0].upper() for p in (ROOT / "checks").glob("*/*/__init__.py")}
    assert {c.id for c in BUILT_IN} == folders


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


# --- the evidence contract ---------------------------------------------------------------------

WITH_FIX = [c for c in BUILT_IN if c.id in TEMPLATES]
ENV = environment(_Loader(TEMPLATES), template_globals())


@pytest.mark.parametrize("check", WITH_FIX, ids=lambda c: c.id)
def test_a_template_reads_only_fields_its_evidence_type_has(check):
    assert check.meta.evidence is not None, "a check with a fix declares the evidence type it reads"
    reads = evidence_reads(ENV, "check:" + check.id)
    assert reads, "every fix template names something from its finding's evidence"
    assert missing_fields(check.meta.evidence, reads) == []


def _findings_by_check() -> dict[str, list]:
    found: dict[str, list] = {c.id: [] for c in WITH_FIX}
    for check in WITH_FIX:
        for name in ("bad.json", "good.json"):
            fixture = load_fixture(check.folder / name)
            found[check.id] += run_checks([check], fixture.rows, fixture.options).findings
    for estate in EXAMPLE_ESTATES:
        for finding in scan(EXAMPLES / estate).findings:
            found.get(finding.check_id, []).append(finding)
    return found


@pytest.fixture(scope="module")
def findings_by_check():
    return _findings_by_check()


@pytest.mark.parametrize("check", WITH_FIX, ids=lambda c: c.id)
def test_every_finding_carries_the_evidence_its_type_requires(check, findings_by_check):
    findings = findings_by_check[check.id]
    assert findings, "the bad fixture reports findings"
    for finding in findings:
        # As JSON v1 carries it: what `remediate --from` reads back.
        assert evidence_problems(check.meta.evidence, finding_dict(finding)["evidence"]) == [], finding.key


TEMPLATE_READS = {
    "attribute": "{{ evidence.route_name | shq }}",
    "item": "{{ evidence['route_name'] | shq }}",
    "get": "{% if evidence.get('route_name') %}x{% endif %}",
    "set": "{% set r = evidence.route_table_routes %}{% for x in r %}{{ x.gateway | shq }}{% endfor %}",
    "loop": "{% for x in evidence.route_table_routes %}{{ x.gateway | shq }}{% endfor %}",
    "map": "{{ evidence.route_table_routes | map(attribute='gateway') | join(',') | shq }}",
    "include": "{% include 'inner' %}",
    "argument": "{{ arm(evidence.route_name).name | shq }}",
}


@pytest.mark.parametrize("how", TEMPLATE_READS)
def test_the_contract_sees_a_read_of_a_field_the_type_lacks_however_it_is_written(how):
    """The same read of an undeclared field, written each way templates write reads: the contract
    names it (so the test above can fail), and the declared fields it also reads pass."""
    source = TEMPLATE_READS[how]
    inner = "{{ evidence.route_name | shq }}{{ route.gateway | shq }}" if how == "include" else ""
    env = environment(DictLoader({"t": "{% set route = evidence %}" + source, "inner": inner}), template_globals())
    missing = missing_fields(RouteEvidence, evidence_reads(env, "t"))
    assert missing == [] if how in ("attribute", "item", "get", "argument") else missing, (how, missing)
    wider = environment(DictLoader({"t": source.replace("route_name", "gateway_name"), "inner": inner.replace(
        "route_name", "gateway_name")}), template_globals())
    if how not in ("set", "loop", "map"):
        assert missing_fields(RouteEvidence, evidence_reads(wider, "t")) == ["gateway_name"], how
    else:
        assert missing_fields(RouteEvidence, evidence_reads(env, "t")) == ["route_table_routes.*.gateway"], how


# --- shared operations -----------------------------------------------------------------------------

def test_each_operation_folder_is_in_every_script_and_each_function_a_template_calls_is_defined_once():
    from aksaudit.reports.remediation import operations
    folders = {p.name for p in operations.HERE.iterdir() if (p / "functions.sh").is_file()}
    assert folders == set(operations.OPERATIONS)
    defined = [name for text in operations.functions() for name in re.findall(r"^([a-z_]+)\(\) \{", text, re.M)]
    common = re.findall(r"^([a-z_]+)\(\) \{", (operations.HERE.parent / "script.sh.j2").read_text(), re.M)
    assert len(set(defined)) == len(defined) and not set(defined) & set(common)
    sources = [p.read_text() for p in operations.HERE.glob("*/*.sh.j2")]
    sources += [fix.template.read_text() for fix in TEMPLATES.values()]
    called = {m for text in sources for m in re.findall(r"^\s+(?:if )?([a-z_]+) \{\{", text, re.M)}
    assert {"set_next_hop", "remove_rule", "connect_peering", "set_outbound_udr"} <= called
    assert called - {"begin", "info", "manual"} <= set(defined), called - set(defined)
