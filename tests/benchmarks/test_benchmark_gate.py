"""The CI gate of `benchmarks/run.py --quick`: what makes it fail, on the committed reference.

The gate must fail on a ground-truth mismatch, an incomplete live scan or a CLI error, and on
an offline CPU cost per 1k rows more than twice the committed reference; and it must pass a run
as good as the reference. The numbers here are the reference's own, not timings of this run.
"""
from __future__ import annotations

import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from run import QUICK_SIZES, REGRESSION_FACTOR, correctness_failures, regressions, request_gate  # noqa: E402

REFERENCE = json.loads((ROOT / "benchmarks" / "reference.json").read_text(encoding="utf-8"))


def _run_like_reference() -> dict:
    """A run of the quick sizes that measured exactly the reference's numbers and found the truth."""
    sizes = {}
    for name in QUICK_SIZES:
        known = REFERENCE["sizes"][name]
        sizes[name] = {"rows": known["rows"], "offline": {**known["offline"], "correct": True},
                       "arg": {"correct": True, "complete": True}, "arg_throttled": {"correct": True, "complete": True},
                       "arm": {"complete": True}, "cli": {"exit_code": 0, "stderr": ""}}
    return sizes


def test_the_reference_covers_the_quick_sizes():
    assert set(QUICK_SIZES) <= set(REFERENCE["sizes"])
    assert REGRESSION_FACTOR == 2


def test_a_run_as_good_as_the_reference_passes():
    sizes = _run_like_reference()
    assert correctness_failures(sizes, {"correct": True}) == []
    assert regressions(sizes, REFERENCE) == []


def test_a_doubled_per_row_cost_fails_and_just_under_passes():
    name = QUICK_SIZES[-1]
    then = REFERENCE["sizes"][name]["offline"]["cpu_ms_per_1k_rows"]
    slower = _run_like_reference()
    slower[name]["offline"]["cpu_ms_per_1k_rows"] = 2 * then * 1.01
    assert [p for p in regressions(slower, REFERENCE) if p.startswith(f"{name}:")]
    almost = _run_like_reference()
    almost[name]["offline"]["cpu_ms_per_1k_rows"] = 2 * then * 0.99
    assert regressions(almost, REFERENCE) == []


def test_each_correctness_problem_fails_the_gate():
    name = QUICK_SIZES[0]
    breakages = {
        "offline mismatch": lambda s: s["offline"].update(correct=False, missing=["x"], unexpected=[]),
        "live mismatch": lambda s: s["arg"].update(correct=False),
        "live incomplete": lambda s: s["arg_throttled"].update(complete=False, gaps=["a gap"]),
        "arm incomplete": lambda s: s["arm"].update(complete=False, gaps=["a gap"]),
        "cli error": lambda s: s["cli"].update(exit_code=2, stderr="boom"),
    }
    for what, breaks in breakages.items():
        sizes = _run_like_reference()
        breaks(sizes[name])
        assert [p for p in correctness_failures(sizes, None) if p.startswith(name)], what
    assert correctness_failures(_run_like_reference(), {"correct": False}) == [
        "render estate: findings differ from the ground truth"]


# --- request counts: exact, so one more request per resource cannot hide ----------------------------

def _counted_run(reference: dict, extra_per_cluster: int = 0, kind: str = "arm outbound network dependencies endpoints"
                 ) -> dict:
    """A run whose live scans sent exactly the reference's requests, plus `extra_per_cluster` more
    of `kind` per cluster of each measured estate (a change that adds a request per resource)."""
    sizes = {}
    for key, counts in reference["requests"].items():
        name, variant = key.split("/")
        clusters = REFERENCE_CLUSTERS[key]
        by_kind = {k[len("arm "):]: v for k, v in counts.items() if k.startswith("arm ")}
        if extra_per_cluster:
            short = kind[len("arm "):]
            by_kind[short] = by_kind.get(short, 0) + extra_per_cluster * clusters
        part = {"requests": counts["graph"], "change_requests": counts["change_history"], "arm_by_kind": by_kind}
        size = sizes.setdefault(name, {})
        if variant == "base":
            size["arg"] = part
        else:
            size.setdefault("lookups", {})["arg"] = part
    return sizes


REFERENCE_CLUSTERS = {f"{name}/{variant}": (REFERENCE.get("clusters") or {}).get(name, 1)
                      for name in QUICK_SIZES for variant in ("base", "lookups")}


def test_the_reference_holds_request_counts_for_both_estates_of_the_quick_sizes():
    assert {f"{n}/{v}" for n in QUICK_SIZES for v in ("base", "lookups")} <= set(REFERENCE["requests"])


def test_the_request_gate_passes_the_reference_itself():
    assert request_gate(_counted_run(REFERENCE), REFERENCE) == []


def test_the_request_gate_fails_a_change_adding_one_request_per_cluster():
    problems = request_gate(_counted_run(REFERENCE, extra_per_cluster=1), REFERENCE)
    assert problems and all("more: a request per resource" in p for p in problems)
    assert {p.split(":")[0] for p in problems} == set(REFERENCE["requests"])


def test_the_request_gate_fails_a_new_kind_of_request_per_cluster_too():
    problems = request_gate(_counted_run(REFERENCE, extra_per_cluster=1, kind="arm list"), REFERENCE)
    assert {p.split(":")[0] for p in problems} == set(REFERENCE["requests"])


def test_a_change_history_request_more_fails_the_gate():
    sizes = _counted_run(REFERENCE)
    sizes[QUICK_SIZES[0]]["arg"]["change_requests"] += 1
    assert [p.split(":")[0] for p in request_gate(sizes, REFERENCE)] == [f"{QUICK_SIZES[0]}/base"]
