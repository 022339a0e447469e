"""Per-control judgement, as properties over random scans of a small estate: more findings never
make a control better, a suppression is never satisfaction, a check that did not run leaves its
controls unassessed, and every count adds up."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings, strategies as st

from aksaudit.results.cluster_concern import ClusterIndex
from aksaudit.results.control_evaluation import (ACCEPTED_RISK, NOT_ASSESSABLE, NOT_EVALUATED, NOT_SATISFIED, SATISFIED,
                                                 STATUSES, evaluate_controls, path_tally)
from aksaudit.results.findings import Finding, Severity, Status, fingerprint
from aksaudit.results.frameworks import Control, ControlCheck, Framework
from aksaudit.results.scan_result import SkippedOutcome

CHECKS = ("A001", "A002", "B001", "B002")
FRAMEWORK = Framework("test-fw", "Test framework", "1", "https://example.org", (
    Control("C-1", "Routing", (ControlCheck("A001", "sufficient", "r"), ControlCheck("A002", "partial", "r"))),
    Control("C-2", "Rules", (ControlCheck("B001", "partial", "r"),)),
    Control("C-3", "Everything", tuple(ControlCheck(c, "partial", "r") for c in CHECKS)),
))
# Two clusters with their own route tables behind one shared firewall; one resource on no path.
CLUSTERS = {"/c/one": "/c/One", "/c/two": "/c/Two"}
INDEX = ClusterIndex(CLUSTERS, {"/c/one": frozenset({"/c/one"}), "/c/two": frozenset({"/c/two"}),
                                "/rt/one": frozenset({"/c/one"}), "/rt/two": frozenset({"/c/two"}),
                                "/fw/hub": frozenset({"/c/one", "/c/two"})})
RESOURCES = ("/rt/one", "/rt/two", "/fw/hub", "/elsewhere")
RANK = {SATISFIED: 0, ACCEPTED_RISK: 1, NOT_ASSESSABLE: 2, NOT_SATISFIED: 3}


def finding(check_id: str, resource_id: str, suppressed: bool = False, cluster: str = "") -> Finding:
    return Finding(check_id=check_id, title=check_id, severity=Severity.HIGH, status=Status.FAIL,
                   resource_id=resource_id, locus="", subscription_id="", message="m",
                   evidence={"cluster": cluster} if cluster else {}, fingerprint=fingerprint(check_id, resource_id, ""),
                   suppression={"reason": "accepted"} if suppressed else None)


@st.composite
def scans(draw) -> dict[str, Any]:
    ran = draw(st.sets(st.sampled_from(CHECKS), min_size=1))
    pairs = draw(st.sets(st.tuples(st.sampled_from(sorted(ran)), st.sampled_from(RESOURCES))))
    findings = [finding(c, r, draw(st.booleans())) for c, r in sorted(pairs)]
    skipped = [SkippedOutcome(c, r, "", "unreadable")
               for c, r in sorted(draw(st.sets(st.tuples(st.sampled_from(sorted(ran)), st.sampled_from(RESOURCES)))))]
    return {"findings": findings, "skipped": skipped, "ran": ran}


def judge(scan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    section = evaluate_controls([FRAMEWORK], scan["findings"], scan["skipped"], scan["ran"], path_tally(INDEX))
    (framework,) = section["frameworks"]
    return {control["id"]: control for control in framework["controls"]}


@settings(max_examples=200, deadline=None)
@given(scans(), st.sampled_from(CHECKS), st.sampled_from(RESOURCES))
def test_an_unsuppressed_finding_never_leaves_its_controls_satisfied_and_never_improves_any(scan, check, resource):
    scan = {**scan, "ran": scan["ran"] | {check}}
    before = judge(scan)
    after = judge({**scan, "findings": scan["findings"] + [finding(check, resource)]})
    for control in FRAMEWORK.controls:
        old, new = before[control.id]["status"], after[control.id]["status"]
        if check in control.check_ids:
            assert new == NOT_SATISFIED
        if old != NOT_EVALUATED:
            assert RANK[new] >= RANK[old]


@settings(max_examples=200, deadline=None)
@given(scans())
def test_a_suppressed_finding_is_an_accepted_risk_never_satisfied(scan):
    suppressed = {**scan, "findings": [replace(f, suppression={"reason": "accepted"}) for f in scan["findings"]]}
    judged = judge(suppressed)
    for control in FRAMEWORK.controls:
        result = judged[control.id]
        mine = [f for f in scan["findings"] if f.check_id in control.check_ids]
        assert result["findings"] == []
        assert set(result["accepted"]) == {f.fingerprint for f in mine}
        if mine:
            assert result["status"] in (ACCEPTED_RISK, NOT_ASSESSABLE)
            assert result["clusters"]["satisfied"] < result["clusters"]["total"] or not INDEX.concerned(findings=mine)


@settings(max_examples=200, deadline=None)
@given(scans(), st.sampled_from(CHECKS))
def test_a_check_that_did_not_run_leaves_its_controls_unassessed(scan, dropped):
    kept = {**scan, "ran": scan["ran"] - {dropped},
            "findings": [f for f in scan["findings"] if f.check_id != dropped],
            "skipped": [s for s in scan["skipped"] if s.check_id != dropped]}
    judged = judge(kept)
    for control in FRAMEWORK.controls:
        if dropped not in control.check_ids:
            continue
        result = judged[control.id]
        if not control.check_ids & kept["ran"]:
            assert result["status"] == NOT_EVALUATED
        else:
            assert result["status"] in (NOT_ASSESSABLE, NOT_SATISFIED)
        assert result["clusters"]["satisfied"] == 0
        assert {c["id"] for c in result["checks"] if not c["ran"]} >= {dropped}


@settings(max_examples=200, deadline=None)
@given(scans())
def test_the_counts_add_up_and_name_the_findings_behind_them(scan):
    section = evaluate_controls([FRAMEWORK], scan["findings"], scan["skipped"], scan["ran"], path_tally(INDEX))
    (framework,) = section["frameworks"]
    assert sum(framework["summary"].values()) == len(FRAMEWORK.controls)
    assert {s: sum(1 for c in framework["controls"] if c["status"] == s) for s in STATUSES} == framework["summary"]
    for control, result in zip(FRAMEWORK.controls, framework["controls"]):
        clusters = result["clusters"]
        assert clusters["total"] == len(CLUSTERS)
        assert sum(clusters[s] for s in RANK) == clusters["total"]
        mine = [f for f in scan["findings"] if f.check_id in control.check_ids]
        assert set(result["findings"]) == {f.fingerprint for f in mine if not f.suppressed}
        assert (result["status"] == NOT_SATISFIED) == bool(result["findings"])
        failing = INDEX.concerned(findings=[f for f in mine if not f.suppressed])
        assert set(result["not_satisfied_clusters"]) == {CLUSTERS[c] for c in failing}
        assert {(s["check_id"], s["resource_id"]) for s in result["skipped"]} == \
            {(s.check_id, s.resource_id) for s in scan["skipped"] if s.check_id in control.check_ids}


def test_a_finding_off_the_path_concerns_the_cluster_its_evidence_names():
    scan = {"findings": [finding("B001", "/elsewhere", cluster="/c/TWO")], "skipped": [], "ran": set(CHECKS)}
    assert judge(scan)["C-2"]["not_satisfied_clusters"] == ["/c/Two"]


def test_evidence_is_sufficient_only_when_some_mapped_check_is():
    judged = judge({"findings": [], "skipped": [], "ran": set(CHECKS)})
    assert {c: judged[c]["evidence"] for c in judged} == {"C-1": "sufficient", "C-2": "partial", "C-3": "partial"}
    assert {c: judged[c]["status"] for c in judged} == {"C-1": SATISFIED, "C-2": SATISFIED, "C-3": SATISFIED}
