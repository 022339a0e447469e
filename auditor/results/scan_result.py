"""The result of a scan: findings, skipped outcomes and the facts of the scan, as plain data.

Everything after the checks (baselines, suppressions, redaction, merging, renderers) takes and
returns these, so none of it needs the engine that produced them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from aksaudit.results.check_doc import CheckDoc
from aksaudit.results.findings import Finding, Severity
from aksaudit.results.path_summaries import PathSummary

@dataclass(frozen=True)
class SkippedOutcome:
    check_id: str
    resource_id: str
    locus: str
    reason: str


@dataclass(frozen=True)
class ScanResult:
    tool_version: str
    started_at: str
    finished_at: str
    scopes: tuple[str, ...]
    warnings: tuple[str, ...]
    errors: tuple[str, ...]
    findings: tuple[Finding, ...]  # failures only, deterministic order
    skipped: tuple[SkippedOutcome, ...]
    checks_run: tuple[CheckDoc, ...]  # documentation only: a result holds no check code
    resources_evaluated: int
    clusters_total: int
    clusters_compliant: int
    meta: Mapping[str, Any] = field(default_factory=dict)
    # Plain-data egress paths and the subscriptions seen, so renderers never need the estate:
    # the HTML report draws the paths, and per-subscription SARIF writes an empty run for a
    # clean subscription (which closes its fixed alerts) but never for one it could not read.
    paths: tuple[PathSummary, ...] = ()
    subscriptions: tuple[str, ...] = ()
    resolved: tuple[Mapping[str, Any], ...] | None = None  # baseline findings gone now (None: no baseline)
    baseline_source: str = ""
    suppression_notices: tuple[Any, ...] = ()  # expired and stale suppressions (SuppressionNotice)
    merged_from: tuple[Mapping[str, Any], ...] = ()  # the shards `aksaudit merge` combined: source, complete, scopes
    # What each cluster can reach (analysis.effective_egress), as plain data for the JSON and HTML reports.
    egress: Mapping[str, Any] = field(default_factory=dict)
    # Per framework and control, what the findings and skipped outcomes say (results.control_evaluation),
    # as plain data for the JSON, HTML and Markdown reports; {} when no framework was evaluated.
    controls: Mapping[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Complete means every needed piece of data was read and every check ran."""
        return not self.errors and not self.skipped

    def by_severity(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for finding in self.findings:
            counts[finding.severity.value] += 1
        return counts


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
