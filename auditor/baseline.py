"""Finding baselines: what is new, unchanged, reappeared or resolved since a previous scan.

Identity is the fingerprint (check id + lower-cased resource id + locus), so rewording a
message or re-casing an id never makes a finding "new". A baseline finding is only called
resolved when this scan could actually judge it: if its check did not run, or its resource was
skipped, it stays open and a warning says why (fail closed).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .collect.snapshot import InputError
from .engine import ScanResult
from .rows import id_key
from .saved_results import read_document

NEW, UNCHANGED, REAPPEARED = "new", "unchanged", "reappeared"


@dataclass(frozen=True)
class Baseline:
    source: str
    findings: dict[str, dict[str, Any]]  # fingerprint -> finding as written in the previous JSON
    resolved: dict[str, dict[str, Any]]  # fingerprint -> findings the previous scan called resolved


def load_baseline(path: str | Path) -> Baseline:
    name = str(path)
    document = read_document(path)
    indexed = {}
    for field in ("findings", "resolved"):
        items = document.get(field, [])
        if not isinstance(items, list):
            raise InputError(f"{name}: '{field}' is {type(items).__name__}, expected a list")
        indexed[field] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
                raise InputError(f"{name}: {field}[{index}] has no fingerprint")
            indexed[field][item["fingerprint"]] = item
    return Baseline(name, indexed["findings"], indexed["resolved"])


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
        check_id, resource = old.get("check_id", ""), id_key(str(old.get("resource_id", "")))
        if check_id not in ran:
            warnings.append(f"baseline finding {check_id} on {old.get('resource_id')} not re-checked: the check did not run")
        elif (check_id, resource) in unjudged:
            warnings.append(f"baseline finding {check_id} on {old.get('resource_id')} not re-checked: its data was unreadable")
        else:
            resolved.append(dict(old, baseline_state="resolved"))
    return replace(result, findings=findings, resolved=tuple(resolved), warnings=result.warnings + tuple(warnings),
                   baseline_source=baseline.source)
