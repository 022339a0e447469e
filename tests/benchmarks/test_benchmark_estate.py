"""The benchmark's estate generator: deterministic, and its ground truth is what the checks find.

The benchmark fails when a scan's findings differ from the generator's ground truth; this keeps
that ground truth honest at a size small enough for the suite, with every kind of injected
misconfiguration present (all spokes misconfigured, every hub kind assigned).
"""
from __future__ import annotations

import sys

from aksaudit.run.engine import run_scan
from aksaudit.model.estate import build_estate
from aksaudit.collect.snapshot import open_snapshot

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from estate import HUB_KINDS, SPOKE_KINDS, Plan, expected_findings, load_expected, write_estate  # noqa: E402

PLAN = Plan(clusters=72, spokes_per_hub=6, misconfig_rate=1.0, workload_rules=36, base_rules=12)


def test_same_plan_same_bytes(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write_estate(PLAN, first)
    write_estate(PLAN, second)
    assert first.read_bytes() == second.read_bytes()
    assert (tmp_path / "a.expected.json").read_text() == (tmp_path / "b.expected.json").read_text()


def test_scan_finds_exactly_the_injected_misconfigurations(tmp_path, registry):
    path = tmp_path / "estate.json"
    manifest = write_estate(PLAN, path)
    assert set(manifest.spoke_kinds) == set(SPOKE_KINDS) and set(manifest.hub_kinds) == set(HUB_KINDS)
    snapshot = open_snapshot(path)
    result = run_scan(build_estate(snapshot.rows), registry.checks)
    assert result.complete, (result.errors, result.skipped[:3])
    assert {f.key for f in result.findings} == expected_findings(load_expected(path))


def test_the_lookups_variant_fails_aks003_on_every_judged_cluster_and_the_truth_says_so(tmp_path, registry):
    """The estate where every cluster's dependency list matters: no hub allows AKS's egress."""
    from dataclasses import replace
    path = tmp_path / "lookups.json"
    write_estate(replace(PLAN, aks_egress_blocked=True), path)
    expected = expected_findings(load_expected(path))
    result = run_scan(build_estate(open_snapshot(path).rows), registry.checks)
    assert {f.key for f in result.findings} == expected
    clusters = {r["id"].lower() for r in open_snapshot(path).rows
                if r["type"] == "microsoft.containerservice/managedclusters"}
    failing = {key[1] for key in expected if key[0] == "AKS003"}
    judged = {f.resource_id.lower() for f in result.findings if f.check_id == "AKS003"} | {
        s.resource_id.lower() for s in result.skipped if s.check_id == "AKS003"}
    assert failing == judged and failing < clusters  # every judged cluster fails; unsteered ones are not judged
