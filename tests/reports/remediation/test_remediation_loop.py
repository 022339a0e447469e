"""Closed loop: scan -> generate -> run with --apply against the fake az -> rescan, all through
the real aksaudit code, for every example estate and every check's bad fixture that has a fix.

Findings are compared as sets of (check id, resource id, locus).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from aksaudit.reports.remediation.context import choose_firewall_ip
from aksaudit.testing import load_fixture
from remediation_harness import (
    EXAMPLE_ESTATES, REGISTRY, WITH_TEMPLATES, copy_estate, generate, keys, run_script, scan, write_rows,
    write_script,
)

# Checks whose fix is a written procedure: their findings stay after --apply.
MANUAL_CHECKS = {"FW001", "FW002", "AKS002", "AKS003", "AKS004", "AKS005", "AKS006", "AKS007", "UDR008", "UDR009", "UDR010"}
# Checks with an automated fix (for some or all of their findings).
AUTOMATED = tuple(c for c in WITH_TEMPLATES if c not in MANUAL_CHECKS)


def _manual(finding) -> bool:
    """Whether the finding's block is a procedure rather than a change. A route to a firewall in an
    unpeered VNet is fixed once: by UDR004 (retarget it) when the subnet reaches a firewall of its
    own, else by UDR007 (peer the VNets); the other check's block only points there."""
    evidence = finding.evidence
    reachable = bool(choose_firewall_ip(evidence))
    return (finding.check_id in MANUAL_CHECKS
            or (finding.check_id == "UDR001" and bool(evidence.get("managed_vnet")))
            or (finding.check_id == "UDR004" and bool(evidence.get("unpeered_firewall")) and not reachable)
            or (finding.check_id == "UDR007" and not evidence.get("peering") and reachable)
            # both sides Connected, yet a subnet peering leaves the AKS or the firewall's subnet out
            or (finding.check_id == "UDR007" and bool(evidence.get("peering"))
                and (evidence.get("local_peering") or {}).get("state") == "Connected")
            or (finding.check_id == "AKS001" and not evidence.get("all_subnets_route_to_firewall")))


def _estate(source: str, tmp_path: Path) -> tuple[Path, tuple[str, ...]]:
    """The estate file, and the checks to judge it by.

    Example estates are whole estates: every check judges them. A check's bad fixture is built
    for that check alone (its firewall has no rules for AKS's own egress, say; a cluster check's
    VNets may be missing), so it is judged by that check, plus the checks with automated fixes
    when it has one itself: a fix must not make any of their findings appear, but it is not
    blamed for what the fixture's firewall was never meant to allow (AKS003).
    """
    if source in EXAMPLE_ESTATES:
        return copy_estate(source, tmp_path), ()
    fixture = load_fixture(REGISTRY.by_id()[source].folder / "bad.json")
    judges = (source,) if source in MANUAL_CHECKS else tuple(sorted({*AUTOMATED, source}))
    return write_rows(fixture.rows, tmp_path / f"{source}-bad.json"), judges


def _closed_loop(estate: Path, tmp_path: Path, only: tuple[str, ...] = ()):
    before = scan(estate, only)
    assert before.complete, before.errors
    script = generate(before, include_disruptive=True)
    path = write_script(script, tmp_path / "fix.sh")

    first = run_script(path, estate, "--apply")
    assert first.returncode == 0, first.stdout + first.stderr
    after = scan(estate, only)
    assert after.complete, after.errors
    assert not keys(after) & script.targeted, "targeted findings survived --apply"
    assert keys(after) <= keys(before), f"new findings: {sorted(keys(after) - keys(before))}"

    applied = estate.read_bytes()
    second = run_script(path, estate, "--apply")
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.mutating_calls == (), "a second run changed something"
    assert estate.read_bytes() == applied
    return before, after, script, first


@pytest.mark.parametrize("source", [*EXAMPLE_ESTATES, *WITH_TEMPLATES])
def test_closed_loop(source, tmp_path):
    estate, only = _estate(source, tmp_path)
    before, after, script, _ = _closed_loop(estate, tmp_path, only)
    for block in script.blocks:
        if block.finding.check_id in WITH_TEMPLATES:
            assert block.resolves is not _manual(block.finding), block.finding.key
    # A manual procedure changes nothing that would hide its finding.
    assert {b.finding.key for b in script.blocks if b.finding.check_id in MANUAL_CHECKS} <= keys(after)


def test_drifted_estate_is_fixed_exactly(tmp_path):
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    before, after, script, run = _closed_loop(estate, tmp_path)
    assert {k[0] for k in script.targeted} == {"UDR001", "UDR004", "FW003", "FW004", "FW005"}
    rows = json.loads(estate.read_text())
    by_id = {r["id"].lower(): r for r in rows}
    table = by_id["/subscriptions/e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64/resourcegroups/rg-spoke-payments-weu"
                  "/providers/microsoft.network/routetables/rt-spoke-payments-egress"]
    hops = {r["name"]: r["properties"].get("nextHopIpAddress") for r in table["properties"]["routes"]}
    assert hops == {"default-to-afw": "10.0.1.4", "afw-public-ip-direct": None}
    group = by_id["/subscriptions/2d8f6a13-9c4e-4b7a-8e25-6f1c0d3b9a72/resourcegroups/rg-hub-fwpolicy-weu/providers"
                  "/microsoft.network/firewallpolicies/afwp-hub-weu/rulecollectiongroups/rcg-aks-workloads"]
    rules = {(c["name"], r["name"]) for c in group["properties"]["ruleCollections"] for r in c["rules"]}
    assert rules == {("app-aks-workloads", name) for name in
                     ("container-registries", "payments-storage", "analytics-storage", "ubuntu-updates")} | {
                         ("net-aks-workloads", "payments-psp")}


def test_tutorial_gets_a_firewall_subnet_and_keeps_its_manual_findings(tmp_path):
    estate = copy_estate("tutorial.json", tmp_path)
    before, after, script, _ = _closed_loop(estate, tmp_path)
    assert script.targeted == frozenset()
    assert keys(after) == keys(before)
    assert {"FW001", "AKS004"} <= {k[0] for k in keys(after)}
    vnet = next(r for r in json.loads(estate.read_text()) if r["type"] == "microsoft.network/virtualnetworks")
    subnets = {s["name"]: s["properties"].get("addressPrefix") for s in vnet["properties"]["subnets"]}
    # 10.1.0.0/26 is free of subnets but inside the cluster's service CIDR 10.1.0.0/24: avoided.
    assert subnets["AzureFirewallSubnet"] == "10.1.3.0/26"


def test_plan_mode_changes_nothing(tmp_path):
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    script = generate(scan(estate), include_disruptive=True)
    original = estate.read_bytes()
    run = run_script(write_script(script, tmp_path / "fix.sh"), estate)
    assert run.returncode == 0, run.stderr
    assert run.mutating_calls == ()
    assert estate.read_bytes() == original
    assert "would run: az network route-table route update" in run.stdout
    assert "would run: az rest --method put" in run.stdout


def test_disruptive_blocks_stay_commented_out_unless_asked_for(tmp_path):
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    before = scan(estate)
    script = generate(before, include_disruptive=False)
    run = run_script(write_script(script, tmp_path / "fix.sh"), estate, "--apply")
    assert run.returncode == 0, run.stderr
    after = scan(estate)
    assert {k[0] for k in keys(before) - keys(after)} == {"UDR001", "UDR004"}
    assert not any("rest" in c["argv"] for c in run.calls)
