"""The per-check overview a report opens with: for each check that found something, how many
findings (suppressed ones apart), its severity and how many clusters they concern.

A cluster is concerned by a finding on any resource of its egress path (a route table shared by
spokes concerns each spoke's clusters), or that names it in its evidence (`cluster`, or
`affected_clusters` for a route table serving several subnets). Plain data, for any renderer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from aksaudit.run.engine import ScanResult
from aksaudit.results.cluster_concern import ClusterIndex
from aksaudit.results.findings import Finding, Severity
from aksaudit.model.row_fields import id_key


@dataclass(frozen=True)
class CheckSummary:
    check_id: str
    title: str
    severity: str  # the most severe of its findings
    findings: int  # not suppressed
    suppressed: int
    new: int  # new or reappeared since the baseline
    clusters: int  # clusters concerned by any of its findings


def _named_clusters(finding: Finding) -> set[str]:
    evidence = finding.evidence
    named = [evidence.get("cluster", "")]
    affected = evidence.get("affected_clusters", ())
    if isinstance(affected, (list, tuple)):
        named += affected
    return {id_key(c) for c in named if isinstance(c, str) and c}


def clusters_by_resource(result: ScanResult) -> Mapping[str, frozenset[str]]:
    """Lower-cased resource id -> lower-cased ids of the clusters whose egress path holds it: the
    index the compliant-cluster count and the per-control counts use, so the three agree."""
    return ClusterIndex.of(result.paths).by_resource


def check_overview(result: ScanResult) -> list[CheckSummary]:
    """One summary per check with findings, most severe first, then by id."""
    on_path = clusters_by_resource(result)
    groups: dict[str, list[Finding]] = {}
    for finding in result.findings:
        groups.setdefault(finding.check_id, []).append(finding)
    summaries = [_summary(members, on_path) for members in groups.values()]
    return sorted(summaries, key=lambda s: (-Severity(s.severity).rank, s.check_id))


def _summary(members: Iterable[Finding], on_path: Mapping[str, frozenset[str]]) -> CheckSummary:
    members = list(members)
    clusters: set[str] = set()
    for finding in members:
        clusters |= on_path.get(id_key(finding.resource_id), frozenset()) | _named_clusters(finding)
    worst = max(members, key=lambda f: f.severity.rank)
    suppressed = sum(1 for f in members if f.suppressed)
    return CheckSummary(worst.check_id, worst.title, worst.severity.value, len(members) - suppressed, suppressed,
                        sum(1 for f in members if f.baseline_state in ("new", "reappeared")), len(clusters))
