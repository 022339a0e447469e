"""Suppressions with expiry: accepted risks that stay visible and announce their own end.

A suppressed finding stays in every report, marked, and never fails the run. An expired
suppression stops suppressing and is announced loudly (so nobody mistakes its finding for a new
problem); one that matches nothing is stale and reported, so the file does not rot.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from fnmatch import fnmatchcase

from aksaudit.results.scan_result import ScanResult
from aksaudit.results.findings import Finding


@dataclass(frozen=True)
class Suppression:
    index: int  # position in the file, for messages ("suppress[2]")
    check: str  # check id (resolved from id or slug)
    resource: str  # exact id (case-insensitive) or '' when resource_glob is used
    resource_glob: str
    locus: str  # '' matches any locus
    reason: str
    expires: date | None
    source: str

    def describe(self) -> str:
        target = self.resource or f"glob {self.resource_glob}"
        return f"{self.source} suppress[{self.index}] ({self.check} on {target})"


@dataclass(frozen=True)
class SuppressionNotice:
    """An expired or stale suppression, as every report lists it."""

    kind: str  # expired | stale
    check: str
    resource: str
    locus: str
    reason: str
    expires: str
    source: str
    message: str


def matches(suppression: Suppression, finding: Finding) -> bool:
    if suppression.check != finding.check_id:
        return False
    if suppression.locus and suppression.locus.lower() != finding.locus.lower():
        return False
    if suppression.resource:
        return suppression.resource.lower() == finding.resource_id.lower()
    return fnmatchcase(finding.resource_id.lower(), suppression.resource_glob.lower())


def _notice(kind: str, suppression: Suppression, message: str) -> SuppressionNotice:
    return SuppressionNotice(kind, suppression.check, suppression.resource or suppression.resource_glob,
                             suppression.locus, suppression.reason,
                             suppression.expires.isoformat() if suppression.expires else "", suppression.source, message)


def apply_suppressions(result: ScanResult, suppressions: tuple[Suppression, ...], today: date) -> ScanResult:
    findings, notices, warnings = [], [], []
    used: set[int] = set()
    for finding in result.findings:
        matched = [s for s in suppressions if matches(s, finding)]
        used.update(s.index for s in matched)
        active = next((s for s in matched if s.expires is None or s.expires >= today), None)
        if active is not None:
            finding = replace(finding, suppression={"reason": active.reason, "source": active.source,
                                                    "expires": active.expires.isoformat() if active.expires else None})
        findings.append(finding)
    for suppression in suppressions:
        if suppression.expires is not None and suppression.expires < today:
            message = (f"{suppression.describe()} EXPIRED on {suppression.expires.isoformat()}: its findings are "
                       f"reported again (reason was: {suppression.reason})")
            notices.append(_notice("expired", suppression, message))
            warnings.append(message)
        elif suppression.index not in used:
            message = f"{suppression.describe()} matches no finding: it is stale and can be removed"
            notices.append(_notice("stale", suppression, message))
            warnings.append(message)
    return replace(result, findings=tuple(findings), suppression_notices=tuple(notices),
                   warnings=result.warnings + tuple(warnings))
