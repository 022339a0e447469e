"""`aksaudit merge`: shard scans combined equal one scan of the whole tenant, compared as sets.

The tenant is a generated hub-and-spoke estate (benchmarks/estate.py) with two hubs, so it has
two landing-zone management groups and a connectivity one. Each shard scans one landing zone
plus the connectivity subscriptions, as docs/scale-out.md describes, against the emulator.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aksaudit.results.findings import fingerprint
from aksaudit.run.shard_merge import merge_results
from aksaudit.run.result_json import read_result
from aksaudit.testing import key

from conftest import ROOT, aksaudit_cmd
from emulator import Behaviour, Emulator, Tenant

sys.path.insert(0, str(ROOT / "benchmarks"))
from estate import Plan, load_expected, write_estate  # noqa: E402


@pytest.fixture(scope="module")
def tenant_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("estate") / "estate.json"
    write_estate(Plan(clusters=16, spokes_per_hub=8, misconfig_rate=0.6, workload_rules=30, base_rules=10), path)
    return path


@pytest.fixture(scope="module")
def emulator(tenant_file):
    layout = load_expected(tenant_file)
    tenant = Tenant.from_file(tenant_file, management_groups=layout["management_groups"],
                              subscription_names=layout["subscription_names"])
    instance = Emulator(tenant, Behaviour()).start()
    yield instance
    instance.stop()


def scan(emulator: Emulator, out: Path, *scope: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSAUDIT_"))}
    environment.update(emulator.client_env())
    environment["AZURE_CONFIG_DIR"] = os.environ.get("AZURE_CONFIG_DIR", "/nonexistent-az-config")
    proc = subprocess.run([*aksaudit_cmd(), "scan", *scope, "--json", str(out), "--quiet"], capture_output=True,
                          text=True, env=environment, timeout=180)
    assert out.exists(), proc.stderr
    return json.loads(out.read_text())


def merge(out: Path, *inputs: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*aksaudit_cmd(), "merge", "-o", str(out), *map(str, inputs)], capture_output=True, text=True,
                          timeout=120)


def keys(document: dict) -> set:
    return {key(f["check_id"], f["resource_id"], f["locus"]) for f in document["findings"]}


def skipped(document: dict) -> set:
    return {(s["check_id"], s["resource_id"].lower(), s["locus"]) for s in document["scan"].get("skipped", [])}


def test_merged_shards_equal_a_single_scan_of_the_tenant(emulator, tenant_file, tmp_path):
    groups = load_expected(tenant_file)["management_groups"]
    zones = sorted(g for g in groups if g.startswith("mg-landing-zones-"))
    assert len(zones) == 2
    single = scan(emulator, tmp_path / "single.json")
    shards = [scan(emulator, tmp_path / f"{zone}.json", "--management-group", zone,
                   "--management-group", "mg-connectivity") for zone in zones]
    proc = merge(tmp_path / "merged.json", *(tmp_path / f"{zone}.json" for zone in zones))
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert single["scan"]["complete"] and all(s["scan"]["complete"] for s in shards)
    assert keys(merged) == keys(single) and keys(single) == load_expected_keys(tenant_file)
    assert {f["fingerprint"] for f in merged["findings"]} == {f["fingerprint"] for f in single["findings"]}
    assert merged["scan"]["complete"] is True and skipped(merged) == skipped(single)
    assert merged["summary"]["by_severity"] == single["summary"]["by_severity"]
    assert merged["summary"]["clusters"] == single["summary"]["clusters"]
    assert set(merged["summary"]["checks_run"]) == set(single["summary"]["checks_run"])
    # Per-control results are judged again from the merged findings, clusters as the shards counted them.
    assert merged["controls"] == single["controls"]
    assert any(c["status"] == "not_satisfied" for f in single["controls"]["frameworks"] for c in f["controls"])
    assert single["egress"]["clusters"] and merged["egress"] == single["egress"]
    assert {s["source"] for s in merged["scan"]["merged_from"]} == {str(tmp_path / f"{z}.json") for z in zones}
    assert proc.returncode == 1  # complete, with findings at or above 'low'
    # Hub findings are seen by both shards: they are counted once.
    assert sum(len(s["findings"]) for s in shards) > len(merged["findings"])


def test_shards_by_subscription_merge_to_a_single_scans_findings_and_egress(emulator, tenant_file, tmp_path):
    """Each shard: some of the landing-zone subscriptions plus every connectivity one (the hubs),
    dealt round-robin so a shard holds spokes of several hubs; the merge must not tell them apart
    from one scan: same findings, same skipped outcomes, same effective egress section."""
    groups = load_expected(tenant_file)["management_groups"]
    connectivity = groups["mg-connectivity"]
    landing = sorted(sub for group, subs in groups.items() if group.startswith("mg-landing-zones-") for sub in subs)
    assert len(landing) >= 3
    single = scan(emulator, tmp_path / "single.json")
    paths = []
    for index in range(3):
        scope = [arg for sub in (*landing[index::3], *connectivity) for arg in ("--subscription", sub)]
        paths.append(tmp_path / f"shard-{index}.json")
        assert scan(emulator, paths[-1], *scope)["scan"]["complete"]
    merge(tmp_path / "merged.json", *paths)
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert keys(merged) == keys(single) and skipped(merged) == skipped(single)
    assert single["egress"]["clusters"] and merged["egress"] == single["egress"]


def test_merged_egress_renumbers_each_shards_traffic_sets(tmp_path):
    """Shards number their allowed traffic sets from t1 each: the merge keys them by content."""
    def with_egress(name: str, cluster: str, traffic: dict) -> dict:
        doc = document([])
        doc["egress"] = {"clusters": [{"cluster": f"/subscriptions/s/rg/x/managedClusters/{cluster}", "name": cluster,
                                       "outbound_type": "userDefinedRouting",
                                       "subnets": [{"subnet": f"/s/{cluster}", "name": "nodes", "route_table": "",
                                                    "unfiltered": "", "firewalls": [{"firewall": "/f", "name": "f",
                                                                                     "allowed": "t1"}]}]}],
                         "allowed": {"t1": traffic}}
        return doc
    web = {"addresses": ["TCP 443 to 20.0.0.0/8"], "fqdns": [], "unknown": []}
    ssh = {"addresses": ["TCP 22 to any address"], "fqdns": [], "unknown": []}
    paths = [shard(tmp_path, "b.json", with_egress("b", "aks-b", ssh)),
             shard(tmp_path, "a.json", with_egress("a", "aks-a", web)),
             shard(tmp_path, "c.json", with_egress("c", "aks-c", web))]
    merged = merge_results([(str(path), read_result(path)) for path in paths]).egress
    by_cluster = {c["name"]: merged["allowed"][c["subnets"][0]["firewalls"][0]["allowed"]] for c in merged["clusters"]}
    assert by_cluster == {"aks-a": web, "aks-b": ssh, "aks-c": web}
    assert [c["name"] for c in merged["clusters"]] == ["aks-a", "aks-b", "aks-c"]
    assert len(merged["allowed"]) == 2


def load_expected_keys(tenant_file: Path) -> set:
    return {key(*item) for item in load_expected(tenant_file)["expected"]}


def test_a_shard_without_the_hubs_is_incomplete_and_so_is_the_merge(emulator, tenant_file, tmp_path):
    zone = sorted(g for g in load_expected(tenant_file)["management_groups"] if g.startswith("mg-landing-zones-"))[0]
    alone = scan(emulator, tmp_path / "alone.json", "--management-group", zone)
    hubs = scan(emulator, tmp_path / "hubs.json", "--management-group", "mg-connectivity")
    assert alone["scan"]["complete"] is False  # its routes point at firewalls it cannot see
    proc = merge(tmp_path / "merged.json", tmp_path / "alone.json", tmp_path / "hubs.json")
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert proc.returncode == 3 and merged["scan"]["complete"] is False
    assert set(alone["scan"]["errors"]) <= set(merged["scan"]["errors"])
    assert skipped(alone) <= skipped(merged) and keys(hubs) <= keys(merged)


def document(findings: list[dict], complete: bool = True, errors: tuple[str, ...] = ()) -> dict:
    return {"schema_version": 1, "tool": {"name": "aksaudit", "version": "0.1.0"},
            "scan": {"complete": complete, "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:01:00Z",
                     "scopes": ["tenant"], "warnings": [], "errors": list(errors), "skipped": []},
            "summary": {"by_severity": {s: 0 for s in ("critical", "high", "medium", "low", "info")},
                        "checks_run": ["FW003"], "resources_evaluated": 1, "clusters": {"total": 1, "compliant": 0}},
            "findings": findings}


def finding(resource_id: str, severity: str = "high", locus: str = "ruleCollections/c/rules/r") -> dict:
    return {"check_id": "FW003", "title": "t", "severity": severity, "status": "fail", "resource_id": resource_id,
            "locus": locus, "subscription_id": "", "message": "m", "evidence": {},
            "fingerprint": fingerprint("FW003", resource_id, locus)}


def shard(tmp_path: Path, name: str, doc: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_merge_dedupes_by_fingerprint_and_orders_like_a_scan(tmp_path):
    a = shard(tmp_path, "a.json", document([finding("/X/Y", "medium"), finding("/A/B")]))
    b = shard(tmp_path, "b.json", document([finding("/x/y", "medium")], complete=False, errors=("gap in b",)))
    merged = merge_results([(str(path), read_result(path)) for path in (a, b)])
    assert [f.resource_id for f in merged.findings] == ["/A/B", "/X/Y"]  # /x/y has /X/Y's fingerprint
    assert merged.complete is False and merged.errors == ("gap in b",)
    assert {f.severity.value for f in merged.findings} == {"high", "medium"}


def test_merge_refuses_what_is_not_a_json_v1_result(tmp_path):
    bad = shard(tmp_path, "bad.json", {"rows": []})
    good = shard(tmp_path, "good.json", document([]))
    proc = merge(tmp_path / "out.json", good, bad)
    assert proc.returncode == 2 and "bad.json" in proc.stderr and not (tmp_path / "out.json").exists()


def refused(proc: subprocess.CompletedProcess, out: Path, *names: str) -> bool:
    """Exit 2 with one error line naming the files, nothing written, no traceback."""
    lines = proc.stderr.strip().splitlines()
    return (proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("aksaudit: error: ")
            and all(name in lines[0] for name in names) and "Traceback" not in proc.stderr and not out.exists())


def test_a_shard_whose_complete_is_the_string_false_is_not_merged_as_complete(tmp_path):
    doc = document([finding("/A/B")])
    doc["scan"]["complete"] = "false"
    proc = merge(tmp_path / "out.json", shard(tmp_path, "good.json", document([])), shard(tmp_path, "odd.json", doc))
    assert refused(proc, tmp_path / "out.json", "odd.json", "complete"), proc.stderr


def test_a_shard_recorded_incomplete_without_a_gap_makes_the_merge_incomplete(tmp_path):
    proc = merge(tmp_path / "out.json", shard(tmp_path, "good.json", document([])),
                 shard(tmp_path, "silent.json", document([], complete=False)))
    merged = json.loads((tmp_path / "out.json").read_text())
    assert proc.returncode == 3 and merged["scan"]["complete"] is False
    assert any("silent.json" in error for error in merged["scan"]["errors"])


@pytest.mark.parametrize("damage", ["findings-not-a-list", "severity-unknown", "nested-too-deeply",
                                    "nested-deeper-than-a-result", "not-json"])
def test_a_malformed_shard_is_a_one_line_error_naming_it(tmp_path, damage):
    doc = document([finding("/A/B")])
    if damage == "findings-not-a-list":
        doc["findings"] = "none"
    elif damage == "severity-unknown":
        doc["findings"][0]["severity"] = {"level": 7}
    text = json.dumps(doc)
    depth = {"nested-too-deeply": 100_000, "nested-deeper-than-a-result": 200}.get(damage)
    if depth:  # written as text: building it as objects would recurse here too
        text = text.replace('"evidence": {}', '"evidence": {"deep": ' + "[" * depth + "]" * depth + "}")
    path = tmp_path / "broken.json"
    path.write_text(text if damage != "not-json" else text[:-3])
    proc = merge(tmp_path / "out.json", shard(tmp_path, "good.json", document([])), path)
    assert refused(proc, tmp_path / "out.json", "broken.json"), proc.stderr


def test_one_fingerprint_for_two_different_findings_is_an_error_not_a_replacement(tmp_path):
    reused = finding("/A/B", locus="ruleCollections/c/rules/other")
    reused["fingerprint"] = finding("/A/B")["fingerprint"]
    proc = merge(tmp_path / "out.json", shard(tmp_path, "first.json", document([finding("/A/B")])),
                 shard(tmp_path, "second.json", document([reused])))
    assert refused(proc, tmp_path / "out.json", "first.json", "second.json", reused["fingerprint"]), proc.stderr


def test_a_merged_result_reads_back_and_keeps_every_shards_finding(tmp_path):
    out = tmp_path / "out.json"
    proc = merge(out, shard(tmp_path, "a.json", document([finding("/A/B")])),
                 shard(tmp_path, "b.json", document([finding("/C/D", "low")])))
    merged = read_result(out)
    assert proc.returncode == 1 and merged.complete
    assert {(f.check_id, f.resource_id) for f in merged.findings} == {("FW003", "/A/B"), ("FW003", "/C/D")}
    assert {s["source"] for s in merged.merged_from} == {str(tmp_path / "a.json"), str(tmp_path / "b.json")}
