"""The per-control results of a scan (`ScanResult.controls`), read for the HTML and Markdown reports.

The section is plain data, and it may come back from a JSON file that someone edited, so the
renderers never index into it directly: every field is read here, defensively. Text becomes
text, counts become non-negative integers, lists become tuples, and a status or evidence level
this version does not know is shown as "not evaluated" / "unknown", never as satisfied. The
per-framework counts are recounted from the controls themselves, so the headline can never
disagree with the table under it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

SATISFIED = "satisfied"
# Worst first: the order a framework's counts are listed in.
STATUSES = ("not_satisfied", "not_assessable", "accepted_risk", "not_evaluated", SATISFIED)
STATUS_LABELS = {
    "not_satisfied": "not satisfied",
    "not_assessable": "not assessable",
    "accepted_risk": "accepted risk",
    "not_evaluated": "not evaluated",
    SATISFIED: "satisfied",
}
EVIDENCE = ("sufficient", "partial")
CLUSTER_COUNTS = ("total", "satisfied", "not_satisfied", "not_assessable", "accepted_risk")


@dataclass(frozen=True)
class MappedCheck:
    id: str
    coverage: str  # sufficient | partial | unknown
    ran: bool
    reason: str


@dataclass(frozen=True)
class SkippedEvidence:
    check_id: str
    resource_id: str
    reason: str


@dataclass(frozen=True)
class ControlView:
    id: str
    title: str
    status: str  # one of STATUSES
    evidence: str  # sufficient | partial | unknown
    checks: tuple[MappedCheck, ...]
    clusters: Mapping[str, int]  # CLUSTER_COUNTS
    not_satisfied_clusters: tuple[str, ...]
    findings: tuple[str, ...]  # fingerprints of the unsuppressed findings behind "not satisfied"
    accepted: tuple[str, ...]  # fingerprints of the suppressed ones (accepted risk)
    skipped: tuple[SkippedEvidence, ...]

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def satisfied_of_total(self) -> str:
        """'41 of 44' (clusters satisfying it), or a dash when the control concerns no cluster."""
        total = self.clusters["total"]
        return f"{self.clusters[SATISFIED]} of {total}" if total else "—"


@dataclass(frozen=True)
class FrameworkView:
    id: str
    name: str
    version: str
    url: str  # an https link, or ''
    controls: tuple[ControlView, ...]

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}".strip() or self.id or "framework"

    @property
    def counts(self) -> dict[str, int]:
        """Controls per status, worst first, recounted from the controls."""
        counts = dict.fromkeys(STATUSES, 0)
        for control in self.controls:
            counts[control.status] += 1
        return counts


def text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _items(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else ()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _known(value: Any, allowed: tuple[str, ...], otherwise: str) -> str:
    return value if isinstance(value, str) and value in allowed else otherwise


def _check(item: Any) -> MappedCheck:
    item = _mapping(item)
    return MappedCheck(text(item.get("id")), _known(item.get("coverage"), EVIDENCE, "unknown"),
                       item.get("ran") is True, text(item.get("reason")))


def _skip(item: Any) -> SkippedEvidence:
    item = _mapping(item)
    return SkippedEvidence(text(item.get("check_id")), text(item.get("resource_id")), text(item.get("reason")))


def _control(item: Any) -> ControlView:
    item = _mapping(item)
    clusters = _mapping(item.get("clusters"))
    return ControlView(
        id=text(item.get("id")), title=text(item.get("title")),
        status=_known(item.get("status"), STATUSES, "not_evaluated"),
        evidence=_known(item.get("evidence"), EVIDENCE, "unknown"),
        checks=tuple(_check(c) for c in _items(item.get("checks"))),
        clusters={key: _count(clusters.get(key)) for key in CLUSTER_COUNTS},
        not_satisfied_clusters=tuple(text(c) for c in _items(item.get("not_satisfied_clusters"))),
        findings=tuple(text(f) for f in _items(item.get("findings"))),
        accepted=tuple(text(f) for f in _items(item.get("accepted"))),
        skipped=tuple(_skip(s) for s in _items(item.get("skipped"))),
    )


def _url(value: Any) -> str:
    # Only web links become links: anything else ('javascript:', 'data:') is dropped.
    return value if isinstance(value, str) and value.startswith("https://") else ""


def framework_views(controls: Mapping[str, Any]) -> tuple[FrameworkView, ...]:
    """Every framework of the section, in its order; () when the scan evaluated no controls."""
    views = []
    for item in _items(_mapping(controls).get("frameworks")):
        item = _mapping(item)
        views.append(FrameworkView(text(item.get("id")), text(item.get("name")), text(item.get("version")),
                                   _url(item.get("url")),
                                   tuple(_control(c) for c in _items(item.get("controls")))))
    return tuple(views)
