"""The `controls` section of a result: judged once for a scan, and again for merged shards.

A scan judges each control from its own egress paths; a merge has no paths (results do not
carry them), so it judges the merged findings against the mapping the shards recorded and adds
up the shards' own cluster counts (see `results.control_evaluation`).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from aksaudit.results.cluster_concern import ClusterIndex
from aksaudit.results.control_evaluation import (evaluate_controls, path_tally, recorded_frameworks, recorded_runs,
                                                 recorded_tally)
from aksaudit.results.frameworks import Framework, builtin_frameworks
from aksaudit.results.scan_result import ScanResult


def controls_of(result: ScanResult, frameworks: Iterable[Framework] | None = None,
                judged_nothing: Iterable[str] = ()) -> Mapping[str, Any]:
    """Per-control results of a scan for `frameworks` (None: every bundled framework). Checks in
    `judged_nothing` ran without the input they need and count as not run."""
    chosen = tuple(builtin_frameworks() if frameworks is None else frameworks)
    if not chosen:
        return {}
    idle = set(judged_nothing)
    return evaluate_controls(chosen, result.findings, result.skipped, (c.id for c in result.checks_run if c.id not in idle),
                             path_tally(ClusterIndex.of(result.paths)))


def merged_controls(shards: Iterable[ScanResult], merged: ScanResult) -> Mapping[str, Any]:
    """Per-control results of merged shards: the merged findings, skipped outcomes and checks run
    judged with the shards' recorded mapping, clusters as the shards counted them. A check counts
    as run where some shard recorded it as run (so one that ran without its input stays not run).
    Only frameworks every shard judged are judged: a shard without one would leave its clusters
    out of the counts, which would then look better than they are."""
    sections = [shard.controls for shard in shards]
    if not sections or not all(sections):
        return {}
    common = set.intersection(*({f["id"] for f in section.get("frameworks") or ()} for section in sections))
    frameworks = tuple(f for f in recorded_frameworks(sections) if f.id in common)
    if not frameworks:
        return {}
    return evaluate_controls(frameworks, merged.findings, merged.skipped, recorded_runs(sections),
                             recorded_tally(sections))
