"""Outcome and finding types shared by the engine, the checks and the renderers.

They live apart from the check API so renderers can depend on them without seeing the model.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, Mapping

from aksaudit.model.row_fields import subscription_of

FINGERPRINT_VERSION = "aksaudit/v1"


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; used for --fail-on thresholds and deterministic ordering."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1, Severity.INFO: 0}


class Status(str, Enum):
    FAIL = "fail"
    PASS = "pass"
    SKIPPED = "skipped"  # the data it needs is missing or unreadable: never reported as pass
    ERROR = "error"  # the check itself broke; isolated to that check


_NO_EVIDENCE: Mapping[str, Any] = MappingProxyType({})


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # Most outcomes are passes with no evidence: one shared read-only empty mapping serves them all.
    return MappingProxyType(dict(mapping)) if mapping else _NO_EVIDENCE


@dataclass(frozen=True)
class Outcome:
    """What a check says about one resource (and one place inside it)."""

    status: Status
    resource_id: str
    locus: str = ""
    message: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # overrides the check's default (e.g. FW004 on '*.com')

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", _frozen(self.evidence))


def fail(resource_id: str, message: str, *, locus: str = "", evidence: Mapping[str, Any] | None = None,
         severity: Severity | None = None) -> Outcome:
    return Outcome(Status.FAIL, resource_id, locus, message, evidence or {}, severity)


def passed(resource_id: str, *, locus: str = "") -> Outcome:
    return Outcome(Status.PASS, resource_id, locus)


def skipped(resource_id: str, reason: str, *, locus: str = "") -> Outcome:
    return Outcome(Status.SKIPPED, resource_id, locus, reason)


def fingerprint(check_id: str, resource_id: str, locus: str) -> str:
    """Stable identity of a problem: never the message, severity, IPs or timestamps.

    Ids are lower-cased because Azure returns the same id in several casings.
    """
    parts = (FINGERPRINT_VERSION, check_id, resource_id.lower(), locus.lower())
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()



@dataclass(frozen=True)
class Finding:
    check_id: str
    title: str
    severity: Severity
    status: Status
    resource_id: str
    locus: str
    subscription_id: str
    message: str
    evidence: Mapping[str, Any]
    fingerprint: str
    baseline_state: str = ""  # new | unchanged | reappeared, when scanned against a baseline
    suppression: Mapping[str, Any] | None = None  # {reason, source, expires} while an accepted risk

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    @property
    def key(self) -> tuple[str, str, str]:
        """The identity tests and baselines compare: (check id, lower-cased id, locus)."""
        return (self.check_id, self.resource_id.lower(), self.locus)

    def sort_key(self) -> tuple:
        return (-self.severity.rank, self.check_id, self.resource_id.lower(), self.locus)


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as JSON v1 writes it (the shape a baseline's resolved entries keep too)."""
    item = {
        "check_id": finding.check_id,
        "title": finding.title,
        "severity": finding.severity.value,
        "status": finding.status.value,
        "resource_id": finding.resource_id,
        "locus": finding.locus,
        "subscription_id": finding.subscription_id,
        "message": finding.message,
        "evidence": plain(finding.evidence),
        "fingerprint": finding.fingerprint,
    }
    if finding.baseline_state:
        item["baseline_state"] = finding.baseline_state
    if finding.suppression is not None:
        item["suppression"] = plain(finding.suppression)
    return item


def plain(value: Any) -> Any:
    """Evidence may hold mapping proxies and tuples; JSON wants dicts and lists."""
    if isinstance(value, (str, int, float)) or value is None:  # most of it: answered first
        return value
    # A string item is taken as it is without a call: most items are strings, and a report of
    # 50k findings walked 5.5 million of them.
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): v if type(v) is str else plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v if type(v) is str else plain(v) for v in value]
    return value
