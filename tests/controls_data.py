"""Test data for the Controls views: a `controls` section built from a real scan result.

This is NOT the product's control evaluation and NOT a real framework mapping: it maps a few
made-up controls to checks and computes each status the plainest way, so the renderers can be
tested on data that agrees with the findings, clusters and skipped outcomes of a real scan.
Per cluster and control: an unsuppressed finding of a mapped check that concerns the cluster
(on its egress path, or naming it) makes it not satisfied; else a skipped outcome of a mapped
check there (or one no path places: then everywhere) makes it not assessable; else a suppressed
finding makes it an accepted risk; else it satisfies the control. A control none of whose
checks ran is not evaluated, on no cluster.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Sequence

from aksaudit.model.row_fields import id_key
from aksaudit.reports.overview import _named_clusters
from aksaudit.run.engine import ScanResult

# (framework id, name, version, [(control id, title, [(check id, coverage)])])
TEST_FRAMEWORKS: tuple[tuple[str, str, str, tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]], ...] = (
    ("test-boundary", "Test boundary framework", "v0 (test data)", (
        ("TB-1", "Egress is filtered by default", (("FW003", "sufficient"), ("FW004", "partial"))),
        ("TB-2", "Traffic leaves through the firewall", (("UDR004", "sufficient"),)),
        ("TB-3", "Outbound rules are narrow", (("FW005", "partial"),)),
        ("TB-4", "Clusters are private", (("AKS004", "sufficient"),)),
        ("TB-5", "A control no check of this scan evidences", (("XX999", "sufficient"),)),
    )),
    ("test-network", "Test network framework", "v0 (test data)", (
        ("N 1.1", "Pod subnets are routed", (("UDR001", "sufficient"),)),
        ("N 1.2", "Allowed traffic is inspected", (("FW003", "partial"), ("AKS003", "partial"))),
    )),
)

_ORDER = ("not_satisfied", "not_assessable", "accepted_risk", "satisfied")


def _clusters_of(result: ScanResult) -> dict[str, str]:
    """Lower-cased cluster id -> the id as the scan spells it, in path order."""
    found: dict[str, str] = {}
    for path in result.paths:
        found.setdefault(id_key(path.cluster_id), path.cluster_id)
    return found


def clusters_on_path(paths: Iterable[Any]) -> dict[str, set[str]]:
    """Lower-cased resource id -> the clusters whose egress path holds it, by the definition (the
    plain mapping the product's cluster index is tested against)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for resource in path.resource_ids:
            found.setdefault(resource, set()).add(id_key(path.cluster_id))
    return found


def _concerned(resource_id: str, on_path: dict[str, set[str]], named: Iterable[str] = ()) -> set[str]:
    return on_path.get(id_key(resource_id), set()) | set(named)


def control_entry(result: ScanResult, control_id: str, title: str,
                  checks: Sequence[tuple[str, str]]) -> dict[str, Any]:
    ran = {c.id for c in result.checks_run}
    mapped = {check for check, _ in checks}
    on_path = clusters_on_path(result.paths)
    clusters = _clusters_of(result)
    state = dict.fromkeys(clusters, "satisfied")
    findings = [f for f in result.findings if f.check_id in mapped]
    skipped = [s for s in result.skipped if s.check_id in mapped]

    def worsen(cluster: str, status: str) -> None:
        if cluster in state and _ORDER.index(status) < _ORDER.index(state[cluster]):
            state[cluster] = status

    for finding in findings:
        for cluster in _concerned(finding.resource_id, on_path, _named_clusters(finding)):
            worsen(cluster, "accepted_risk" if finding.suppressed else "not_satisfied")
    for outcome in skipped:
        # Data no path places (a rule group missing from the estate) could concern any cluster.
        for cluster in _concerned(outcome.resource_id, on_path, [id_key(outcome.resource_id)]) & set(state) or state:
            worsen(cluster, "not_assessable")
    if not mapped & ran:
        state = {}
    counts = {status: sum(1 for s in state.values() if s == status) for status in _ORDER}
    status = next((s for s in _ORDER if counts[s]), "satisfied") if mapped & ran else "not_evaluated"
    return {
        "id": control_id, "title": title, "status": status,
        "evidence": "sufficient" if any(coverage == "sufficient" for _, coverage in checks) else "partial",
        "checks": [{"id": check, "coverage": coverage, "ran": check in ran,
                    "reason": f"test mapping: {check} evidences {control_id}"} for check, coverage in checks],
        "clusters": {"total": len(state), **counts},
        "not_satisfied_clusters": [clusters[c] for c, s in state.items() if s == "not_satisfied"],
        "findings": [f.fingerprint for f in findings if not f.suppressed],
        "accepted": [f.fingerprint for f in findings if f.suppressed],
        "skipped": [{"check_id": s.check_id, "resource_id": s.resource_id, "reason": s.reason} for s in skipped],
    }


def controls_section(result: ScanResult, frameworks=TEST_FRAMEWORKS) -> dict[str, Any]:
    section = []
    for framework_id, name, version, controls in frameworks:
        entries = [control_entry(result, *control) for control in controls]
        summary = {status: sum(1 for e in entries if e["status"] == status)
                   for status in ("satisfied", "not_satisfied", "not_assessable", "accepted_risk", "not_evaluated")}
        section.append({"id": framework_id, "name": name, "version": version,
                        "url": f"https://example.org/{framework_id}", "summary": summary, "controls": entries})
    return {"frameworks": section}


def with_controls(result: ScanResult, frameworks=TEST_FRAMEWORKS) -> ScanResult:
    """The result with a test `controls` section computed from its own findings and gaps."""
    return replace(result, controls=controls_section(result, frameworks))
