"""Per-subscription SARIF runs as the uploader sees them: category, completeness, and the results
it must later find among the alerts (to dismiss accepted risks and reopen expired ones).
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .limits import MAX_RESULTS_PER_RUN, MAX_RULES_PER_RUN


class SarifDirError(Exception):
    """The directory cannot be uploaded as it is (unreadable, misshapen, or over a hard limit)."""


@dataclass(frozen=True)
class UploadedResult:
    """What identifies a result among the alerts, and the accepted risk it carries, if any."""

    rule_id: str
    path: str
    message: str
    fingerprint: str
    severity: str
    suppression: Mapping[str, Any] | None


@dataclass(frozen=True)
class SarifRun:
    source: str  # file name, for messages
    category: str  # automationDetails.id, e.g. aksaudit/subscription-<id>/
    payload: str  # the run as compact JSON, ready to be joined into an upload
    gzipped_size: int  # of the payload alone: the planner's estimate
    complete: bool
    gaps: tuple[str, ...]
    gap_count: int
    results: tuple[UploadedResult, ...]
    shown_higher: int  # results whose alert shows a higher severity than theirs

    @property
    def scope(self) -> str:
        return category_key(self.category).removeprefix("aksaudit/")


def category_key(category: str) -> str:
    """Categories compared without their trailing '/', which the API may or may not echo."""
    return category.strip().rstrip("/")


def _result(raw: Mapping[str, Any]) -> UploadedResult:
    location = raw["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    properties = raw.get("properties") or {}
    return UploadedResult(rule_id=raw["ruleId"], path=location, message=raw["message"]["text"],
                          fingerprint=str(properties.get("fingerprint", "")), severity=str(properties.get("severity", "")),
                          suppression=properties.get("suppression"))


def sarif_run(source: str, run: Mapping[str, Any]) -> SarifRun:
    category = (run.get("automationDetails") or {}).get("id", "")
    if not category:
        raise SarifDirError(f"{source}: a run without automationDetails.id cannot share an upload with others")
    results = run.get("results")
    if results is None:
        raise SarifDirError(f"{source}: run {category} has no results array")
    if len(results) > MAX_RESULTS_PER_RUN or len(run["tool"]["driver"].get("rules", ())) > MAX_RULES_PER_RUN:
        raise SarifDirError(f"{source}: run {category} is over code scanning's 25,000 results or rules per run")
    properties = run.get("properties") or {}
    invocations = run.get("invocations") or [{}]
    complete = invocations[0].get("executionSuccessful") is True and properties.get("complete", True) is True
    gaps = tuple(str(g) for g in properties.get("gaps", ()))
    if not complete and not gaps:
        gaps = ("the run says it is incomplete without naming a gap",)
    payload = json.dumps(run, separators=(",", ":"), ensure_ascii=False)
    return SarifRun(source=source, category=category, payload=payload,
                    gzipped_size=len(gzip.compress(payload.encode("utf-8"), compresslevel=6)),
                    complete=complete, gaps=gaps, gap_count=int(properties.get("gapCount", len(gaps)) or len(gaps)),
                    results=tuple(_result(r) for r in results),
                    shown_higher=len(properties.get("shownHigher", ())))


def read_sarif_dir(directory: str | Path) -> tuple[SarifRun, ...]:
    """Every run of every `*.sarif` file, sorted by category; two runs of one category are refused
    (code scanning rejects such a delivery, and one would silently replace the other)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise SarifDirError(f"{folder} is not a directory")
    runs: list[SarifRun] = []
    for path in sorted(folder.glob("*.sarif")):
        try:
            log = json.loads(path.read_text(encoding="utf-8"))
            runs.extend(sarif_run(path.name, run) for run in log["runs"])
        except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
            raise SarifDirError(f"{path.name}: not a SARIF log aksaudit can upload ({type(error).__name__}: {error})") from error
    return _unique(runs)


def _unique(runs: Iterable[SarifRun]) -> tuple[SarifRun, ...]:
    seen: dict[str, str] = {}
    for run in runs:
        key = category_key(run.category)
        if key in seen:
            raise SarifDirError(f"{run.source} and {seen[key]} both hold category {run.category}")
        seen[key] = run.source
    return tuple(sorted(runs, key=lambda r: category_key(r.category)))
