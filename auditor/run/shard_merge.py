"""`aksaudit merge`: one result from the JSON results of scans run in parallel (shards).

A tenant too large for one process is scanned as shards, for example one job per management
group, each with the connectivity subscriptions that hold the hubs (see docs/scale-out.md).
Resource Graph stays the distributed query engine; this only combines what the shards found.
Shards are read through the strict JSON v1 reader and the merged result is written through the
same writer as `scan --json`, so a merged result is a result like any other:

* findings are deduplicated by fingerprint (a hub's firewall finding is seen by every shard
  that includes the hub) and ordered as a single scan orders them. One fingerprint naming two
  different findings (another check, resource, locus or severity) is an error: keeping either
  would silently drop the other. Messages and evidence may differ, since each shard sees only
  its part of the estate; the first shard's are kept;
* the merged scan is complete only if every shard was, and keeps every shard's errors,
  warnings and skipped outcomes (deduplicated), so a gap in one shard is never hidden;
* the summary is recomputed: severities from the merged findings, checks run as the union,
  clusters and resources evaluated as sums over shards (shards should split the subscriptions
  that hold clusters; a resource evaluated by two shards counts twice there);
* the per-control results are judged again from the merged findings, skipped outcomes and
  checks run, with the mapping the shards recorded; their cluster counts are the shards' summed.
* the effective egress section lists every shard's clusters, each once (the first shard's entry
  is kept), ordered as a single scan orders them; the traffic sets their firewalls allow are
  keyed by content, not by each shard's local ids, and numbered again in the order a single scan
  numbers them, so the merged section equals a single scan's of the same tenant.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Callable, Iterable, Sequence

from aksaudit.collect.snapshot import InputError
from aksaudit.model.row_fields import id_key
from aksaudit.results.scan_result import ScanResult, SkippedOutcome
from aksaudit.results.findings import Finding
from aksaudit.run.control_results import merged_controls


class MergeConflict(InputError):
    """Two shards disagree about what one fingerprint identifies."""


def _unique(items: Iterable[Any], key: Callable[[Any], Any] = lambda item: item) -> list[Any]:
    seen: dict[Any, Any] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def _skipped_key(item: SkippedOutcome) -> tuple[str, str, str]:
    return (item.check_id, item.resource_id.lower(), item.locus)


def _identity(finding: Finding) -> tuple[str, str, str, str]:
    """What one fingerprint must always stand for."""
    return (finding.check_id, finding.resource_id.lower(), finding.locus.lower(), finding.severity.value)


def _describe(finding: Finding) -> str:
    return " ".join(part for part in (finding.check_id, finding.severity.value, finding.resource_id, finding.locus) if part)


def _findings(shards: Sequence[tuple[str, ScanResult]]) -> list[Finding]:
    kept: dict[str, tuple[str, Finding]] = {}
    for name, result in shards:
        for finding in result.findings:
            first = kept.setdefault(finding.fingerprint, (name, finding))
            if _identity(first[1]) != _identity(finding):
                raise MergeConflict(f"{name}: fingerprint {finding.fingerprint} is {_describe(finding)} there but "
                                    f"{_describe(first[1])} in {first[0]}: one fingerprint cannot name two findings")
    return sorted((finding for _, finding in kept.values()), key=Finding.sort_key)


def _egress(results: Sequence[ScanResult]) -> dict[str, Any]:
    """The shards' effective egress sections as one (see the module docstring)."""
    clusters: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for result in results:
        allowed = result.egress.get("allowed", {}) if result.egress else {}
        for entry in result.egress.get("clusters", ()) if result.egress else ():
            clusters.setdefault(id_key(entry["cluster"]), (entry, allowed))
    if not clusters:
        return {}
    merged_allowed: dict[str, Any] = {}
    ids: dict[str, str] = {}  # the allowed set, as canonical JSON -> its merged id
    found = []
    for key, (entry, allowed) in sorted(clusters.items(), key=lambda item: (item[1][0]["name"].lower(), item[0])):
        subnets = []
        for subnet in entry["subnets"]:
            firewalls = []
            for firewall in subnet["firewalls"]:
                traffic = allowed.get(firewall["allowed"])
                if traffic is None:
                    raise InputError(f"egress of cluster {entry['cluster']}: firewall {firewall['firewall']} names "
                                     f"allowed traffic '{firewall['allowed']}', which its result does not hold")
                content = json.dumps(traffic, sort_keys=True)
                if content not in ids:
                    ids[content] = f"t{len(ids) + 1}"
                    merged_allowed[ids[content]] = traffic
                firewalls.append({**firewall, "allowed": ids[content]})
            subnets.append({**subnet, "firewalls": firewalls})
        found.append({**entry, "subnets": subnets})
    return {"clusters": found, "allowed": merged_allowed}


def merge_results(shards: Sequence[tuple[str, ScanResult]]) -> ScanResult:
    """The merged result of `(source name, result)` pairs."""
    if not shards:
        raise ValueError("nothing to merge")
    results = [result for _, result in shards]
    findings = _findings(shards)
    versions = _unique(r.tool_version for r in results)
    previous = [r for r in results if r.resolved is not None]
    current = {f.fingerprint for f in findings}
    merged = ScanResult(
        tool_version=versions[0] if len(versions) == 1 else ", ".join(versions),
        started_at=min(r.started_at for r in results), finished_at=max(r.finished_at for r in results),
        scopes=tuple(_unique(s for r in results for s in r.scopes)),
        warnings=tuple(_unique(w for r in results for w in r.warnings))
        + ((f"merged results of aksaudit versions {', '.join(versions)}",) if len(versions) > 1 else ()),
        errors=tuple(_unique(e for r in results for e in r.errors)),
        findings=tuple(findings),
        skipped=tuple(sorted(_unique((s for r in results for s in r.skipped), key=_skipped_key), key=_skipped_key)),
        checks_run=tuple(_unique((c for r in results for c in r.checks_run), key=lambda c: c.id)),
        resources_evaluated=sum(r.resources_evaluated for r in results),
        clusters_total=sum(r.clusters_total for r in results),
        clusters_compliant=sum(r.clusters_compliant for r in results),
        resolved=tuple(item for item in _unique((i for r in previous for i in r.resolved or ()),
                                                key=lambda i: i.get("fingerprint"))
                       if item.get("fingerprint") not in current) if previous else None,
        baseline_source=", ".join(_unique(r.baseline_source for r in previous)),
        suppression_notices=tuple(_unique(n for r in results for n in r.suppression_notices)),
        egress=_egress(results),
        merged_from=tuple({"source": name, "complete": result.complete, "scopes": list(result.scopes)}
                          for name, result in shards),
    )
    return replace(merged, controls=merged_controls(results, merged))
