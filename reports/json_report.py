"""JSON output v1: a frozen, versioned contract (schema in reports/aksaudit-v1.schema.json).

Additions are backwards compatible (new optional keys); anything else bumps schema_version.
"""
from __future__ import annotations

import json
from typing import Any

from aksaudit.engine import ScanResult
from aksaudit.findings import Finding

SCHEMA_VERSION = 1


def finding_dict(finding: Finding) -> dict[str, Any]:
    item = {
        "check_id": finding.check_id,
        "title": finding.title,
        "severity": finding.severity.value,
        "status": finding.status.value,
        "resource_id": finding.resource_id,
        "locus": finding.locus,
        "subscription_id": finding.subscription_id,
        "message": finding.message,
        "evidence": _plain(finding.evidence),
        "fingerprint": finding.fingerprint,
    }
    if finding.baseline_state:
        item["baseline_state"] = finding.baseline_state
    if finding.suppression is not None:
        item["suppression"] = _plain(finding.suppression)
    return item


def _plain(value: Any) -> Any:
    """Evidence may hold mapping proxies and tuples; JSON wants dicts and lists."""
    if isinstance(value, (str, int, float)) or value is None:  # most of it: answered first
        return value
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


def document(result: ScanResult) -> dict[str, Any]:
    doc = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "aksaudit", "version": result.tool_version},
        "scan": {
            "complete": result.complete,
            "started_at": result.started_at,
            "finished_at": result.finished_at,
            "scopes": list(result.scopes),
            "warnings": list(result.warnings),
            "errors": list(result.errors),
            "skipped": [{"check_id": s.check_id, "resource_id": s.resource_id, "locus": s.locus, "reason": s.reason}
                        for s in result.skipped],
        },
        "summary": {
            "by_severity": result.by_severity(),
            "checks_run": [c.id for c in result.checks_run],
            "resources_evaluated": result.resources_evaluated,
            "clusters": {"total": result.clusters_total, "compliant": result.clusters_compliant},
        },
        "findings": [finding_dict(f) for f in result.findings],
    }
    if result.suppression_notices:
        doc["suppressions"] = {kind: [_plain(vars(n)) for n in result.suppression_notices if n.kind == kind]
                               for kind in ("expired", "stale")}
    if result.resolved is not None:
        doc["baseline"] = {"source": result.baseline_source}
        doc["resolved"] = [_plain(item) for item in result.resolved]
    return doc


def render(result: ScanResult) -> str:
    return json.dumps(document(result), indent=2, ensure_ascii=False) + "\n"
