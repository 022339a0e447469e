"""The script's guards, run against the fake az: state changed since the scan is skipped, not
overwritten; a concurrent write between GET and PUT makes the PUT fail; no firewall IP means the
script asks for FIREWALL_IP instead of guessing."""
from __future__ import annotations

from pathlib import Path

from aksaudit.run.engine import ScanResult
from remediation_harness import (
    copy_estate, generate, keys, read_rows, row_by_id, run_script, scan, sections, write_rows, write_script,
)

SPOKE = "/subscriptions/e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64/resourcegroups/"
PAYMENTS_TABLE = SPOKE + "rg-spoke-payments-weu/providers/microsoft.network/routetables/rt-spoke-payments-egress"
ANALYTICS_VNET = SPOKE + "rg-spoke-analytics-weu/providers/microsoft.network/virtualnetworks/vnet-spoke-analytics-weu"
PAYMENTS_VNET = SPOKE + "rg-spoke-payments-weu/providers/microsoft.network/virtualnetworks/vnet-spoke-payments-weu"
WORKLOADS_GROUP = ("/subscriptions/2d8f6a13-9c4e-4b7a-8e25-6f1c0d3b9a72/resourcegroups/rg-hub-fwpolicy-weu/providers"
                   "/microsoft.network/firewallpolicies/afwp-hub-weu/rulecollectiongroups/rcg-aks-workloads")


def _only(result: ScanResult, *check_ids: str) -> ScanResult:
    from dataclasses import replace
    return replace(result, findings=tuple(f for f in result.findings if f.check_id in check_ids))


def test_state_changed_since_the_scan_is_skipped_not_overwritten(tmp_path):
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    script = generate(scan(estate), include_disruptive=True)
    rows = read_rows(estate)
    # Between scan and apply, someone else changes every resource the script would touch.
    route = row_by_id(rows, PAYMENTS_TABLE)["properties"]["routes"][0]
    route["properties"]["nextHopIpAddress"] = "10.0.1.9"
    group = row_by_id(rows, WORKLOADS_GROUP)["properties"]["ruleCollections"]
    by_name = {c["name"]: c for c in group}
    next(r for r in by_name["net-temp"]["rules"] if r["name"] == "temp-debug")["destinationPorts"] = ["*", "22"]
    by_name["app-aks-workloads"]["action"]["type"] = "Deny"
    pods = next(s for s in row_by_id(rows, ANALYTICS_VNET)["properties"]["subnets"] if s["name"] == "snet-aks-pods")
    pods["properties"]["routeTable"] = {"id": SPOKE + "rg-spoke-analytics-weu/providers/Microsoft.Network/"
                                              "routeTables/rt-spoke-analytics-egress"}
    write_rows(rows, estate)
    changed = estate.read_bytes()

    run = run_script(write_script(script, tmp_path / "fix.sh"), estate, "--apply")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.mutating_calls == ()
    assert estate.read_bytes() == changed
    printed = sections(run.stdout)
    skipped = {b.finding.check_id for b in script.blocks if "SKIP:" in printed[b.index]}
    assert skipped == {"UDR001", "UDR004", "FW003", "FW004", "FW005"}


def test_a_concurrent_write_between_get_and_put_makes_the_put_fail(tmp_path):
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    script = generate(_only(scan(estate), "FW003"), include_disruptive=True)
    # The writer strikes right after the GET the script verified the rule with.
    run = run_script(write_script(script, tmp_path / "fix.sh"), estate, "--apply",
                     env={"FAKE_AZ_CONCURRENT_AFTER_GET": "1"})
    assert run.returncode != 0
    assert "Precondition Failed" in run.stderr
    group = row_by_id(read_rows(estate), WORKLOADS_GROUP)
    assert group["tags"] == {"changed-concurrently": "yes"}
    assert "temp-debug" in {r["name"] for c in group["properties"]["ruleCollections"] for r in c["rules"]}


def _without_reachable_firewall(tmp_path: Path) -> Path:
    """The drifted estate with the payments spoke's peering to the hub disconnected."""
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    rows = read_rows(estate)
    for peering in row_by_id(rows, PAYMENTS_VNET)["properties"]["virtualNetworkPeerings"]:
        peering["properties"]["peeringState"] = "Disconnected"
    return write_rows(rows, estate)


def test_no_choosable_firewall_ip_stops_the_script_until_firewall_ip_is_given(tmp_path):
    estate = _without_reachable_firewall(tmp_path)
    before = scan(estate)
    script = generate(_only(before, "UDR004", "UDR001"))
    asking = {b.finding.check_id for b in script.blocks if b.needs_firewall_ip}
    assert asking == {"UDR004"}
    path = write_script(script, tmp_path / "fix.sh")
    original = estate.read_bytes()

    for env in ({}, {"FIREWALL_IP": "10.0.1.4; touch pwned"}):
        run = run_script(path, estate, "--apply", env=env)
        assert run.returncode != 0
        assert "FIREWALL_IP" in run.stderr
        assert run.calls == ()
        assert estate.read_bytes() == original
    assert not (tmp_path / "pwned").exists()
    assert "[" + str(next(b.index for b in script.blocks if b.needs_firewall_ip)) + "] UDR004" in \
        run_script(path, estate, env={}).stderr

    run = run_script(path, estate, "--apply", env={"FIREWALL_IP": "10.0.1.4"})
    assert run.returncode == 0, run.stdout + run.stderr
    route = row_by_id(read_rows(estate), PAYMENTS_TABLE)["properties"]["routes"][0]
    assert route["properties"]["nextHopIpAddress"] == "10.0.1.4"
    assert {k for k in keys(before) if k[0] in ("UDR004", "UDR001")} & keys(scan(estate)) == set()
