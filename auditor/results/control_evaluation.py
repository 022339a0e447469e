"""Per-control results: what a scan's findings and skipped outcomes say about each framework control.

A control is judged from its mapped checks only, worst first:

* `not_evaluated`: none of its mapped checks ran (nothing was looked at);
* `not_satisfied`: an unsuppressed finding of a mapped check (on a cluster's path or not);
* `not_assessable`: a mapped check could not judge something (a skipped outcome), or a mapped
  check did not run: the evidence is incomplete, so the control is never reported satisfied;
* `accepted_risk`: only suppressed findings. A suppression is a decision to live with a gap,
  never evidence that there is none, so it is never counted as satisfied;
* `satisfied`: every mapped check ran and found nothing.

Each cluster is judged the same way from the findings and skipped outcomes that concern it
(`cluster_concern`); while a mapped check did not run, no cluster can be satisfied either.
`evidence` says whether some mapped check is `sufficient` on its own or all are `partial`: a
control evidenced only partially is at best satisfied as far as the checks can see.

The result is plain data (the JSON `controls` section, which reports render). It is a pure
function of the findings, skipped outcomes, checks run and a cluster tally, so that `merge`
can recompute it from merged shards with the shards' own cluster counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from aksaudit.model.row_fields import id_key
from aksaudit.results.cluster_concern import ClusterIndex
from aksaudit.results.findings import Finding
from aksaudit.results.frameworks import SUFFICIENT, Control, ControlCheck, Framework
from aksaudit.results.scan_result import SkippedOutcome

SATISFIED = "satisfied"
NOT_SATISFIED = "not_satisfied"
NOT_ASSESSABLE = "not_assessable"
ACCEPTED_RISK = "accepted_risk"
NOT_EVALUATED = "not_evaluated"
STATUSES = (SATISFIED, NOT_SATISFIED, NOT_ASSESSABLE, ACCEPTED_RISK, NOT_EVALUATED)
CLUSTER_STATUSES = (SATISFIED, NOT_SATISFIED, NOT_ASSESSABLE, ACCEPTED_RISK)


@dataclass(frozen=True)
class ClusterTally:
    """How the clusters stand on one control."""

    total: int
    not_satisfied: tuple[str, ...]  # cluster ids, as written, sorted
    not_assessable: int
    accepted_risk: int

    @property
    def satisfied(self) -> int:
        return self.total - len(self.not_satisfied) - self.not_assessable - self.accepted_risk

    def counts(self) -> dict[str, int]:
        return {"total": self.total, SATISFIED: self.satisfied, NOT_SATISFIED: len(self.not_satisfied),
                NOT_ASSESSABLE: self.not_assessable, ACCEPTED_RISK: self.accepted_risk}


@dataclass(frozen=True)
class ControlEvidence:
    """The findings and skipped outcomes of one control's mapped checks."""

    open: tuple[Finding, ...]  # unsuppressed
    accepted: tuple[Finding, ...]  # suppressed: accepted risk
    skipped: tuple[SkippedOutcome, ...]
    all_ran: bool


# (framework id, control, its evidence) -> how the clusters stand on it
Tally = Callable[[str, Control, ControlEvidence], ClusterTally]


def path_tally(index: ClusterIndex) -> Tally:
    """Clusters judged from the scan's own egress paths."""
    def tally(_framework: str, _control: Control, evidence: ControlEvidence) -> ClusterTally:
        failing = index.concerned(findings=evidence.open)
        if evidence.all_ran:
            unknown = index.concerned(skipped=evidence.skipped) - failing
        else:
            unknown = set(index.clusters) - failing
        accepted = index.concerned(findings=evidence.accepted) - failing - unknown
        return ClusterTally(len(index.clusters), tuple(index.clusters[c] for c in sorted(failing)),
                            len(unknown), len(accepted))
    return tally


def recorded_tally(sections: Iterable[Mapping[str, Any]]) -> Tally:
    """Clusters as shards counted them, summed: shards split the clusters between them, and each
    shard saw every finding that concerns its own clusters."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for section in sections:
        for framework in section.get("frameworks") or ():
            for control in framework.get("controls") or ():
                entry = totals.setdefault((framework["id"], control["id"]),
                                          {"total": 0, NOT_ASSESSABLE: 0, ACCEPTED_RISK: 0, "failing": {}})
                clusters = control.get("clusters") or {}
                entry["total"] += int(clusters.get("total", 0))
                entry[NOT_ASSESSABLE] += int(clusters.get(NOT_ASSESSABLE, 0))
                entry[ACCEPTED_RISK] += int(clusters.get(ACCEPTED_RISK, 0))
                for cluster in control.get("not_satisfied_clusters") or ():
                    entry["failing"].setdefault(id_key(cluster), cluster)

    def tally(framework: str, control: Control, _evidence: ControlEvidence) -> ClusterTally:
        entry = totals.get((framework, control.id))
        if entry is None:
            return ClusterTally(0, (), 0, 0)
        failing = entry["failing"]
        return ClusterTally(entry["total"], tuple(failing[k] for k in sorted(failing)),
                            entry[NOT_ASSESSABLE], entry[ACCEPTED_RISK])
    return tally


def _status(evidence: ControlEvidence, any_ran: bool) -> str:
    if not any_ran:
        return NOT_EVALUATED
    if evidence.open:
        return NOT_SATISFIED
    if evidence.skipped or not evidence.all_ran:
        return NOT_ASSESSABLE
    if evidence.accepted:
        return ACCEPTED_RISK
    return SATISFIED


def _unique_fingerprints(findings: Iterable[Finding]) -> list[str]:
    return list(dict.fromkeys(f.fingerprint for f in findings))


def _skipped_items(skipped: Iterable[SkippedOutcome]) -> list[dict[str, str]]:
    items = {(s.check_id, s.resource_id.lower(), s.reason): s for s in skipped}
    return [{"check_id": s.check_id, "resource_id": s.resource_id, "reason": s.reason}
            for _, s in sorted(items.items(), key=lambda pair: pair[0])]


def evaluate_controls(frameworks: Sequence[Framework], findings: Iterable[Finding], skipped: Iterable[SkippedOutcome],
                      checks_run: Iterable[str], tally: Tally) -> dict[str, Any]:
    """The `controls` section (see the module docstring), frameworks sorted by id, controls in the
    framework's own order."""
    ran = set(checks_run)
    findings_of: dict[str, list[Finding]] = {}
    for finding in findings:
        findings_of.setdefault(finding.check_id, []).append(finding)
    skipped_of: dict[str, list[SkippedOutcome]] = {}
    for outcome in skipped:
        skipped_of.setdefault(outcome.check_id, []).append(outcome)

    documents = []
    for framework in sorted(frameworks, key=lambda f: f.id):
        summary = {status: 0 for status in STATUSES}
        controls = []
        for control in framework.controls:
            mapped = [c.check_id for c in control.checks]
            matched = [f for check in mapped for f in findings_of.get(check, ())]
            evidence = ControlEvidence(
                open=tuple(f for f in matched if not f.suppressed), accepted=tuple(f for f in matched if f.suppressed),
                skipped=tuple(s for check in mapped for s in skipped_of.get(check, ())),
                all_ran=all(check in ran for check in mapped))
            status = _status(evidence, any(check in ran for check in mapped))
            summary[status] += 1
            clusters = tally(framework.id, control, evidence)
            controls.append({
                "id": control.id, "title": control.title, "status": status,
                "evidence": SUFFICIENT if any(c.coverage == SUFFICIENT for c in control.checks) else "partial",
                "checks": [{"id": c.check_id, "coverage": c.coverage, "ran": c.check_id in ran, "reason": c.reason}
                           for c in control.checks],
                "clusters": clusters.counts(),
                "not_satisfied_clusters": list(clusters.not_satisfied),
                "findings": _unique_fingerprints(sorted(evidence.open, key=Finding.sort_key)),
                "accepted": _unique_fingerprints(sorted(evidence.accepted, key=Finding.sort_key)),
                "skipped": _skipped_items(evidence.skipped),
            })
        documents.append({"id": framework.id, "name": framework.name, "version": framework.version,
                          "url": framework.url, "summary": summary, "controls": controls})
    return {"frameworks": documents}


def recorded_frameworks(sections: Iterable[Mapping[str, Any]]) -> tuple[Framework, ...]:
    """The frameworks as saved results recorded them (first record of each id wins): a merge
    judges shards by the mapping they were scanned with, whatever this installation ships."""
    found: dict[str, Framework] = {}
    for section in sections:
        for framework in section.get("frameworks") or ():
            if framework["id"] in found:
                continue
            controls = tuple(Control(c["id"], c["title"], tuple(ControlCheck(m["id"], m["coverage"], m["reason"])
                                                                for m in c["checks"]))
                             for c in framework["controls"])
            found[framework["id"]] = Framework(framework["id"], framework["name"], framework["version"],
                                               framework["url"], controls)
    return tuple(found.values())


def recorded_runs(sections: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The checks saved results recorded as run for some control."""
    return frozenset(check["id"] for section in sections for framework in section.get("frameworks") or ()
                     for control in framework.get("controls") or () for check in control.get("checks") or ()
                     if check.get("ran") is True)
