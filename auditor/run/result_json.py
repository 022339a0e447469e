"""The JSON v1 result contract, both ways: the one writer and the one strict reader.

`scan --json` writes a result; `scan --baseline`, `remediate --from` and `merge` read results
back, and `merge` writes one again. Writer and reader live side by side so the contract cannot
drift between them. The schema is `reports/aksaudit-v1.schema.json`; additions are optional
keys, anything else bumps `schema_version`.

The reader trusts nothing in the file. Anything that is not a JSON v1 result (unreadable, not
JSON, nested deeper than any result is, a field of the wrong type, `complete` anything but a
boolean) is an `InputError` with one line naming the file and the field, never a traceback. A
result that says it is incomplete stays incomplete when read back, even when it names no gap.
Schema validation, and why evidence is only required to be an object: `result_schema`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..collect.snapshot import InputError, read_json
from aksaudit.run.engine import ScanResult, SkippedOutcome
from aksaudit.results.findings import Finding, Severity, Status, finding_dict, plain, subscription_of
from aksaudit.run.registry import CheckDoc
from aksaudit.results.finding_baseline import Baseline
from aksaudit.results.suppressions import SuppressionNotice
from .result_schema import first_problem

SCHEMA_VERSION = 1
NOTICE_KINDS = ("expired", "stale")
# A result aksaudit writes nests about ten levels deep (evidence included); far deeper is damage
# or an attack, and would make re-writing it (merge) recurse without bound.
MAX_DEPTH = 64
MAX_MESSAGE = 300


# -- writing -------------------------------------------------------------------------------------



def lookup_record(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ARM lookups a live scan made and did not make, per kind, from its collection's record
    (`arm_lookups`): why they are asked for, how many were made and failed (each failure is named
    in errors or warnings), and how many were not made, by reason. Empty for a snapshot without it."""
    record = meta.get("arm_lookups") if isinstance(meta, Mapping) else None
    if not isinstance(record, Mapping):
        return []
    found = []
    for kind, counts in sorted(record.items()):
        if not isinstance(counts, Mapping):
            continue
        skipped = counts.get("skipped") if isinstance(counts.get("skipped"), Mapping) else {}
        found.append({"kind": str(kind), "why": str(counts.get("why", "")), "made": int(counts.get("made", 0)),
                      "failed": int(counts.get("failed", 0)),
                      "skipped": [{"reason": str(reason), "count": int(count)} for reason, count in sorted(skipped.items())]})
    return found


def document(result: ScanResult) -> dict[str, Any]:
    """The JSON v1 document of a result."""
    scan: dict[str, Any] = {
        "complete": result.complete,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "scopes": list(result.scopes),
        "warnings": list(result.warnings),
        "errors": list(result.errors),
        "skipped": [{"check_id": s.check_id, "resource_id": s.resource_id, "locus": s.locus, "reason": s.reason}
                    for s in result.skipped],
    }
    if result.merged_from:
        scan["merged_from"] = [plain(shard) for shard in result.merged_from]
    lookups = lookup_record(result.meta)
    if lookups:
        scan["lookups"] = lookups
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "aksaudit", "version": result.tool_version},
        "scan": scan,
        "summary": {
            "by_severity": result.by_severity(),
            "checks_run": [c.id for c in result.checks_run],
            "resources_evaluated": result.resources_evaluated,
            "clusters": {"total": result.clusters_total, "compliant": result.clusters_compliant},
        },
        "findings": [finding_dict(f) for f in result.findings],
    }
    if result.egress:
        # Plain data already (built by `effective_egress`, or read from JSON): copying it leaf by
        # leaf cost as much as writing it.
        doc["egress"] = result.egress
    if result.controls:
        doc["controls"] = plain(result.controls)
    if result.suppression_notices:
        doc["suppressions"] = {kind: [plain(vars(n)) for n in result.suppression_notices if n.kind == kind]
                               for kind in NOTICE_KINDS}
    if result.resolved is not None:
        doc["baseline"] = {"source": result.baseline_source}
        doc["resolved"] = [plain(item) for item in result.resolved]
    return doc


# Containers this deep or deeper are written on one line. The outer levels (the document, its
# sections, each finding and each cluster's egress) stay one item per line for people and `grep`.
COMPACT_DEPTH = 3
_compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _layout(value: Any, depth: int = 0) -> Iterator[str]:
    """`value` as indented JSON whose deep parts are compact: `json.dumps(indent=2)` runs the
    pure-Python encoder over every value (at 100k rows the egress section alone made the JSON
    output three times slower), while the C encoder writes each compact part at once."""
    if depth >= COMPACT_DEPTH or not isinstance(value, (dict, list)) or not value:
        yield _compact(value)
        return
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict):
        yield "{"
        for position, (key, member) in enumerate(value.items()):
            yield ("\n" if position == 0 else ",\n") + inner + _compact(str(key)) + ": "
            yield from _layout(member, depth + 1)
        yield "\n" + outer + "}"
    else:
        yield "["
        for position, member in enumerate(value):
            yield ("\n" if position == 0 else ",\n") + inner
            yield from _layout(member, depth + 1)
        yield "\n" + outer + "]"


def chunks(result: ScanResult) -> Iterator[str]:
    """The JSON v1 text of a result, piece by piece, for writing as it is made: at a million rows
    the document is over 150 MB, and joining it into one string (then encoding that) held it
    in memory three times over."""
    yield from _layout(document(result))
    yield "\n"


def render(result: ScanResult) -> str:
    return "".join(chunks(result))


# -- reading -------------------------------------------------------------------------------------

def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _depth_within(document: Any, limit: int) -> bool:
    """Whether no value nests deeper than `limit` containers; walked level by level, without
    recursion, visiting only containers (most values are scalars)."""
    level = [document] if isinstance(document, (dict, list)) else []
    for _ in range(limit):
        if not level:
            return True
        deeper: list[Any] = []
        for value in level:
            deeper.extend(c for c in (value.values() if isinstance(value, dict) else value) if isinstance(c, (dict, list)))
        level = deeper
    return not level


def read_document(path: str | Path) -> dict[str, Any]:
    """The parsed document at `path`, once it is known to be a JSON v1 result."""
    name = str(path)
    document = read_json(path)
    if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION:
        raise InputError(f"{name}: not an aksaudit JSON v1 result (schema_version 1 expected)")
    if not _depth_within(document, MAX_DEPTH):
        raise InputError(f"{name}: not an aksaudit JSON v1 result: nested deeper than {MAX_DEPTH} levels")
    problem = first_problem(document)
    if problem is not None:
        raise InputError(_one_line(f"{name}: not an aksaudit JSON v1 result: {problem[0]}: {problem[1]}"))
    return document


def _finding(item: Mapping[str, Any]) -> Finding:
    resource_id = item["resource_id"]
    return Finding(
        check_id=item["check_id"], title=item["title"], severity=Severity(item["severity"]),
        status=Status(item["status"]), resource_id=resource_id, locus=item["locus"],
        subscription_id=item["subscription_id"] or subscription_of(resource_id), message=item["message"],
        evidence=item["evidence"], fingerprint=item["fingerprint"],
        baseline_state=item.get("baseline_state", ""), suppression=item.get("suppression"))


def _notices(document: Mapping[str, Any]) -> tuple[SuppressionNotice, ...]:
    groups = document.get("suppressions") or {}
    return tuple(SuppressionNotice(**{**notice, "kind": kind}) for kind in NOTICE_KINDS
                 for notice in groups.get(kind) or ())


def result_of(document: Mapping[str, Any], name: str,
              documentation: Mapping[str, CheckDoc] | None = None) -> ScanResult:
    """The result a validated JSON v1 document describes. Check ids are given their documentation
    from `documentation` where this installation has the check."""
    scan, summary = document["scan"], document["summary"]
    errors = tuple(scan["errors"])
    skipped = tuple(SkippedOutcome(s["check_id"], s["resource_id"], s["locus"], s["reason"])
                    for s in scan.get("skipped") or ())
    if scan["complete"] is not True and not errors and not skipped:
        errors = (f"{name} says the scan was incomplete without naming what is missing",)
    known = documentation or {}
    return ScanResult(
        tool_version=document["tool"]["version"], started_at=scan["started_at"], finished_at=scan["finished_at"],
        scopes=tuple(scan["scopes"]), warnings=tuple(scan["warnings"]), errors=errors,
        findings=tuple(_finding(item) for item in document["findings"]), skipped=skipped,
        checks_run=tuple(known.get(c) or CheckDoc.recorded(c) for c in dict.fromkeys(summary["checks_run"])),
        resources_evaluated=summary["resources_evaluated"], clusters_total=summary["clusters"]["total"],
        clusters_compliant=summary["clusters"]["compliant"],
        resolved=tuple(document["resolved"]) if "resolved" in document else None,
        baseline_source=(document.get("baseline") or {}).get("source", ""),
        suppression_notices=_notices(document), merged_from=tuple(scan.get("merged_from") or ()),
        egress=document.get("egress") or {}, controls=document.get("controls") or {})


def read_result(path: str | Path, documentation: Mapping[str, CheckDoc] | None = None) -> ScanResult:
    """The result saved at `path` (see the module docstring for what is refused)."""
    return result_of(read_document(path), str(path), documentation)


def load_baseline(path: str | Path) -> Baseline:
    """A previous result, read through the strict JSON v1 reader."""
    previous = read_result(path)
    resolved = frozenset(str(item.get("fingerprint", "")) for item in previous.resolved or ())
    return Baseline(str(path), {f.fingerprint: f for f in previous.findings}, resolved)
