"""`aksaudit merge`: one report from the JSON results of scans run in parallel (shards).

A tenant too large for one process is scanned as shards, for example one job per management
group, each with the connectivity subscriptions that hold the hubs (see docs/scale-out.md).
Resource Graph stays the distributed query engine; this only combines what the shards found:

* findings are deduplicated by fingerprint (a hub's firewall finding is seen by every shard
  that includes the hub) and ordered as a single scan orders them;
* the merged scan is complete only if every shard was, and keeps every shard's errors,
  warnings and skipped outcomes (deduplicated), so a gap in one shard is never hidden;
* the summary is recomputed: severities from the merged findings, checks run as the union,
  clusters and resources evaluated as sums over shards (shards should split the subscriptions
  that hold clusters; a resource evaluated by two shards counts twice there).

Inputs are read through the same guarded reader as `--baseline`, so anything that is not a
JSON v1 result is an input error naming the file.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .findings import Severity
from .output import write_atomic
from .saved_results import finding_from_dict, read_document

EXIT_OK, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 3
FAIL_ON = ("critical", "high", "medium", "low", "info", "never")


def _unique(items: Iterable[Any], key=lambda item: item) -> list[Any]:
    seen: dict[Any, Any] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def _finding_order(item: Mapping[str, Any]) -> tuple:
    """What `Finding.sort_key` orders a single scan's findings by."""
    return (-Severity(item["severity"]).rank, item["check_id"], item["resource_id"].lower(), item["locus"])


def _skipped_key(item: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(item.get("check_id", "")), str(item.get("resource_id", "")).lower(), str(item.get("locus", "")))


def merge_documents(documents: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The merged JSON v1 document of `(source name, JSON v1 document)` pairs."""
    if not documents:
        raise ValueError("nothing to merge")
    findings: dict[str, dict[str, Any]] = {}
    for name, document in documents:
        for index, item in enumerate(document.get("findings") or []):
            finding = finding_from_dict(item, f"{name}: findings[{index}]")  # validates the shape
            findings.setdefault(finding.fingerprint, dict(item))
    scans = [(name, document.get("scan") or {}) for name, document in documents]
    summaries = [document.get("summary") or {} for _, document in documents]
    versions = _unique(str((document.get("tool") or {}).get("version", "")) for _, document in documents)
    ordered = sorted(findings.values(), key=_finding_order)
    by_severity = {s.value: 0 for s in Severity}
    for item in ordered:
        by_severity[item["severity"]] += 1
    merged: dict[str, Any] = {
        "schema_version": 1,
        "tool": {"name": "aksaudit", "version": versions[0] if len(versions) == 1 else ", ".join(versions)},
        "scan": {
            "complete": all(bool(scan.get("complete")) for _, scan in scans),
            "started_at": min(str(scan.get("started_at", "")) for _, scan in scans),
            "finished_at": max(str(scan.get("finished_at", "")) for _, scan in scans),
            "scopes": _unique(s for _, scan in scans for s in scan.get("scopes") or ()),
            "warnings": _unique(w for _, scan in scans for w in scan.get("warnings") or ())
            + ([f"merged results of aksaudit versions {', '.join(versions)}"] if len(versions) > 1 else []),
            "errors": _unique(e for _, scan in scans for e in scan.get("errors") or ()),
            "skipped": sorted(_unique((s for _, scan in scans for s in scan.get("skipped") or ()), key=_skipped_key),
                              key=_skipped_key),
            "merged_from": [{"source": name, "complete": bool(scan.get("complete")),
                             "scopes": list(scan.get("scopes") or ())} for name, scan in scans],
        },
        "summary": {
            "by_severity": by_severity,
            "checks_run": _unique(c for summary in summaries for c in summary.get("checks_run") or ()),
            "resources_evaluated": sum(int(summary.get("resources_evaluated") or 0) for summary in summaries),
            "clusters": {key: sum(int((summary.get("clusters") or {}).get(key) or 0) for summary in summaries)
                         for key in ("total", "compliant")},
        },
        "findings": ordered,
    }
    notices = [document["suppressions"] for _, document in documents if document.get("suppressions")]
    if notices:
        merged["suppressions"] = {kind: _unique((n for group in notices for n in group.get(kind) or ()),
                                                key=lambda n: json.dumps(n, sort_keys=True))
                                  for kind in ("expired", "stale")}
    baselines = [document for _, document in documents if "resolved" in document]
    if baselines:
        merged["baseline"] = {"source": ", ".join(_unique(str((d.get("baseline") or {}).get("source", ""))
                                                          for d in baselines))}
        merged["resolved"] = [item for item in _unique((r for d in baselines for r in d.get("resolved") or ()),
                                                       key=lambda r: r.get("fingerprint"))
                              if item.get("fingerprint") not in findings]
    return merged


def exit_code(document: Mapping[str, Any], fail_on: str) -> int:
    """As for `scan`: incomplete wins; then findings at or above `fail_on` (suppressed ones do not count)."""
    if not document["scan"]["complete"]:
        return EXIT_INCOMPLETE
    if fail_on == "never":
        return EXIT_OK
    threshold = Severity(fail_on).rank
    failing = [f for f in document["findings"] if not f.get("suppression") and Severity(f["severity"]).rank >= threshold]
    return EXIT_FINDINGS if failing else EXIT_OK


def add_merge_command(commands: Any) -> None:
    parser = commands.add_parser("merge", help="combine the JSON results of sharded scans into one",
                                 description="Combine JSON v1 results of scans run in parallel (e.g. one per "
                                             "management group) into one: findings deduplicated by fingerprint, "
                                             "complete only if every input is.")
    parser.add_argument("output", metavar="OUT.json", help="merged JSON v1 result to write ('-' for stdout)")
    parser.add_argument("inputs", metavar="IN.json", nargs="+", help="JSON v1 results of the shards")
    parser.add_argument("--fail-on", choices=FAIL_ON, default="low",
                        help="lowest severity that makes the exit code 1 (default: %(default)s)")


def cmd_merge(args: argparse.Namespace, registry: Any = None, console: Any = None) -> int:
    documents = [(str(path), read_document(path)) for path in args.inputs]
    merged = merge_documents(documents)
    write_atomic(args.output, json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    if str(args.output) != "-":
        state = "complete" if merged["scan"]["complete"] else "INCOMPLETE"
        print(f"aksaudit: merged {len(documents)} result(s), {len(merged['findings'])} finding(s) -> "
              f"{Path(args.output)} ({state})", file=sys.stderr)
    return exit_code(merged, args.fail_on)
