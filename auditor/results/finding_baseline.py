"""Finding baselines: what is new, unchanged, reappeared or resolved since a previous scan.

Identity is the fingerprint (check id + lower-cased resource id + locus), so rewording a
message or re-casing an id never makes a finding "new". A baseline finding is only called
resolved when this scan could actually judge it: if its check did not run, or its resource was
skipped, it stays open and a warning says why (fail closed).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from aksaudit.results.scan_result import ScanResult
from aksaudit.results.findings import Finding, finding_dict
from aksaudit.model.row_fields import id_key

NEW, UNCHANGED, REAPPEARED = "new", "unchanged", "reappeared"


@dataclass(frozen=True)
class Baseline:
    source: str
    findings: dict[str, Finding]  # fingerprint -> finding of the previous result
    resolved: frozenset[str]  # fingerprints the previous result called resolved



def apply_baseline(result: ScanResult, baseline: Baseline) -> ScanResult:
    current = {f.fingerprint for f in result.findings}
    findings = tuple(
        replace(f, baseline_state=UNCHANGED if f.fingerprint in baseline.findings
                else REAPPEARED if f.fingerprint in baseline.resolved else NEW)
        for f in result.findings)
    ran = {c.id for c in result.checks_run}
    unjudged = {(s.check_id, id_key(s.resource_id)) for s in result.skipped}
    resolved, warnings = [], []
    for fingerprint, old in sorted(baseline.findings.items(), key=lambda item: item[0]):
        if fingerprint in current:
            continue
        if old.check_id not in ran:
            warnings.append(f"baseline finding {old.check_id} on {old.resource_id} not re-checked: the check did not run")
        elif (old.check_id, id_key(old.resource_id)) in unjudged:
            warnings.append(f"baseline finding {old.check_id} on {old.resource_id} not re-checked: its data was unreadable")
        else:
            resolved.append(dict(finding_dict(old), baseline_state="resolved"))
    return replace(result, findings=findings, resolved=tuple(resolved), warnings=result.warnings + tuple(warnings),
                   baseline_source=baseline.source)
