"""Guards of the catalog fixes (FW005, UDR006, FW006, UDR007, AKS001), run against the fake az on
each check's bad fixture: whatever changed between the scan and --apply is skipped, never
overwritten, and nothing in Azure changes."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import pytest

from aksaudit.results.findings import Finding
from aksaudit.testing import load_fixture
from remediation_harness import (
    REGISTRY, RemediationScript, Run, generate, keys, read_rows, row_by_id, run_script, scan, sections, write_rows,
    write_script,
)

PEERINGS = "/virtualNetworkPeerings/"


def _fixture(check_id: str, path: Path) -> Path:
    return write_rows(load_fixture(REGISTRY.by_id()[check_id].folder / "bad.json").rows, path)


def _rule(rows: list[dict], finding: Finding) -> dict:
    group = row_by_id(rows, finding.resource_id)
    collection = next(c for c in group["properties"]["ruleCollections"] if c["name"] == finding.evidence["collection"])
    return next(r for r in collection["rules"] if r["name"] == finding.evidence["rule"])


def _route(rows: list[dict], route_id: str) -> dict:
    table_id = route_id.rsplit("/routes/", 1)[0]
    return next(r for r in row_by_id(rows, table_id)["properties"]["routes"] if r["id"].lower() == route_id.lower())


def _peering_towards(rows: list[dict], vnet_id: str, remote_id: str) -> tuple[list, dict]:
    peerings = row_by_id(rows, vnet_id)["properties"]["virtualNetworkPeerings"]
    return peerings, next(p for p in peerings
                          if p["properties"]["remoteVirtualNetwork"]["id"].lower() == remote_id.lower())


def _narrow_the_rule(rows: list[dict], finding: Finding) -> None:
    _rule(rows, finding)["destinationPorts"] = ["8443"]


def _retarget_the_route(rows: list[dict], finding: Finding) -> None:
    _route(rows, finding.evidence["route"])["properties"].update(nextHopType="VirtualAppliance", nextHopIpAddress="10.0.9.8")


def _set_the_mode_by_hand(rows: list[dict], finding: Finding) -> None:
    properties = row_by_id(rows, finding.resource_id)["properties"]
    if properties.get("threatIntelMode"):
        del properties["threatIntelMode"]  # now inherited: not what the scan saw
    else:
        properties["threatIntelMode"] = "Off"  # now explicit: not what the scan saw either


def _move_the_peerings(rows: list[dict], finding: Finding) -> None:
    if PEERINGS.lower() in finding.resource_id.lower():  # our side exists: its state moves on
        vnet_id = finding.resource_id.lower().split(PEERINGS.lower())[0]
        _, ours = _peering_towards(rows, vnet_id, finding.evidence["remote_vnet"])
        ours["properties"]["peeringState"] = {"Initiated": "Disconnected"}.get(ours["properties"]["peeringState"],
                                                                             "Initiated")
    else:  # we have none: the remote side's Initiated peering towards us goes away
        peerings, theirs = _peering_towards(rows, finding.evidence["remote_vnet"], finding.resource_id)
        peerings.remove(theirs)


def _reroute_a_subnet(rows: list[dict], finding: Finding) -> None:
    for subnet in finding.evidence["subnets"]:
        table = row_by_id(rows, subnet["route_table"])
        table["properties"]["routes"][0]["properties"]["nextHopIpAddress"] = "10.0.1.5"


def _change_the_outbound_type(rows: list[dict], finding: Finding) -> None:
    row_by_id(rows, finding.resource_id)["properties"]["networkProfile"]["outboundType"] = "loadBalancer"


def _apply_after(tmp_path: Path, check_id: str, mutate: Callable[[list[dict], Finding], None],
                 ) -> tuple[RemediationScript, Run, bytes, Path]:
    """Scan a check's bad fixture, let `mutate` change every finding's resource, then apply."""
    estate = _fixture(check_id, tmp_path / "estate.json")
    result = scan(estate, (check_id,))
    script = generate(result, include_disruptive=True)
    rows = read_rows(estate)
    for finding in result.findings:
        if next(b for b in script.blocks if b.finding is finding).resolves:
            mutate(rows, finding)
    write_rows(rows, estate)
    changed = estate.read_bytes()
    run = run_script(write_script(script, tmp_path / "fix.sh"), estate, "--apply")
    assert run.returncode == 0, run.stdout + run.stderr
    return script, run, changed, estate


@pytest.mark.parametrize("check_id, mutate", [
    ("FW005", _narrow_the_rule),
    ("UDR006", _retarget_the_route),
    ("FW006", _set_the_mode_by_hand),
    ("UDR007", _move_the_peerings),
    ("UDR007", _retarget_the_route),
    ("AKS001", _reroute_a_subnet),
    ("AKS001", _change_the_outbound_type),
], ids=lambda value: getattr(value, "__name__", value))
def test_a_resource_changed_since_the_scan_is_skipped(check_id, mutate, tmp_path):
    script, run, changed, estate = _apply_after(tmp_path, check_id, mutate)
    fixes = [b for b in script.blocks if b.resolves]
    assert fixes, f"{check_id}'s bad fixture has no automated fix to guard"
    printed = sections(run.stdout)
    assert [b.finding.key for b in fixes if "SKIP:" not in printed[b.index]] == []
    assert run.mutating_calls == ()
    assert estate.read_bytes() == changed


def test_a_peering_name_taken_since_the_scan_is_not_replaced(tmp_path):
    estate = _fixture("UDR007", tmp_path / "estate.json")
    result = scan(estate, ("UDR007",))
    unpeered = [f for f in result.findings if PEERINGS.lower() not in f.resource_id.lower()]
    script = generate(replace(result, findings=tuple(unpeered)))
    (block,) = script.blocks
    wanted = f"peer-{block.finding.resource_id.rsplit('/', 1)[1]}-to-vnet-hub-weu"
    rows = read_rows(estate)
    vnet = row_by_id(rows, block.finding.resource_id)
    vnet["properties"]["virtualNetworkPeerings"].append({
        "name": wanted, "id": f"{vnet['id']}/virtualNetworkPeerings/{wanted}",
        "properties": {"peeringState": "Initiated",
                       "remoteVirtualNetwork": {"id": vnet["id"].rsplit("/", 1)[0] + "/vnet-elsewhere"}}})
    write_rows(rows, estate)
    changed = estate.read_bytes()

    run = run_script(write_script(script, tmp_path / "fix.sh"), estate, "--apply")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "is taken by another peering" in sections(run.stdout)[block.index]
    assert run.mutating_calls == ()
    assert estate.read_bytes() == changed


def test_a_side_the_scan_could_not_read_is_created_when_it_has_no_peering(tmp_path):
    """The hub VNet is outside the scan (another team's subscription): the spoke's Initiated
    peering is reported, and the script still creates the hub side, after reading it."""
    estate = _fixture("UDR007", tmp_path / "estate.json")
    rows = read_rows(estate)
    hub = next(r for r in rows if r["name"] == "vnet-hub-weu")
    partial = write_rows([r for r in rows if r is not hub], tmp_path / "partial.json")
    result = scan(partial, ("UDR007",))
    orders = next(f for f in result.findings if "peer-orders-weu-to-hub" in f.resource_id)
    assert orders.evidence["remote_vnet_read"] is False
    script = generate(result)
    block = next(b for b in script.blocks if b.finding is orders)

    run = run_script(write_script(script, tmp_path / "fix.sh"), estate, "--apply")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "peering create" in sections(run.stdout)[block.index]
    assert orders.key not in keys(scan(estate, ("UDR007",)))
