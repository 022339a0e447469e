"""--effective-routes against the emulator through the real SDK, and which NIC answers for a subnet.

The emulator serves Network Interfaces - Get Effective Route Table as ARM does (a 202 with
Azure-AsyncOperation and Location, polled until Succeeded, the result read from Location), and
403 AuthorizationFailed to a role without the action. Findings are compared as sets.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from azure.identity import ClientSecretCredential

from aksaudit.collect.clients import connect
from aksaudit.collect.clouds import ARM_ENDPOINT_ENV, resolve_cloud
from aksaudit.collect.effective_routes import PERMISSION, route_targets
from aksaudit.collect.live import LiveOptions, collect_live
from conftest import aksaudit_cmd
from emulator import Behaviour, Emulator, FakeClock
from emulator.scenarios import CLIENT_ID, RECORDING_SECRET, ROUTES_ACTION, ROUTES_ESTATE, ROUTES_SUB, SCENARIOS
from live_support import scan_snapshot

ROUTES_TYPE = "microsoft.network/networkinterfaces/effectiveroutetable"


def _posts(emulator: Emulator) -> list[str]:
    return [r.path for r in emulator.records if r.method == "POST" and "effectiveroutetable" in r.path.lower()]


def _subnets(*names: str) -> set[str]:
    rows = json.loads(ROUTES_ESTATE.read_text())
    return {s["id"].lower() for r in rows if r["type"] == "microsoft.network/virtualnetworks"
            for s in r["properties"]["subnets"] if s["name"] in names}


@pytest.fixture
def routes(monkeypatch):
    scenario = SCENARIOS["effective_routes"]
    emulator = Emulator(scenario.tenant(), Behaviour()).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)
    credential = ClientSecretCredential(emulator.tenant.tenant_id, CLIENT_ID, RECORDING_SECRET, authority=emulator.url,
                                        disable_instance_discovery=True)
    clients = connect(resolve_cloud("AzureCloud", {ARM_ENDPOINT_ENV: emulator.url}), credential)
    yield scenario, clients, emulator
    emulator.stop()


def test_with_the_option_off_no_effective_route_is_asked_for_and_udr009_judges_nothing(routes, registry):
    scenario, clients, emulator = routes
    snapshot = collect_live(scenario.types, scenario.scope, clients, options=LiveOptions(), clock=FakeClock())
    assert snapshot.complete, snapshot.gaps
    assert _posts(emulator) == []
    assert "effective_route_lookups" not in snapshot.meta
    assert not [r for r in snapshot.rows if r["type"] == ROUTES_TYPE]
    result = scan_snapshot([registry.by_id()["UDR009"]], snapshot)
    assert result.complete and not result.findings and not result.skipped


def test_concurrent_lookups_read_every_subnet_and_find_the_gateway_route(routes, registry):
    """Several lookups in flight at once (the scan's default), each polled to its own result."""
    scenario, clients, emulator = routes
    snapshot = collect_live(scenario.types, scenario.scope, clients, clock=FakeClock(),
                            options=LiveOptions(effective_routes=True, arm_concurrency=4))
    assert snapshot.complete, snapshot.gaps
    assert len(_posts(emulator)) == 2
    assert {k.lower() for k in snapshot.meta["effective_route_lookups"]} == _subnets("snet-nodes", "snet-hybrid")
    result = scan_snapshot([registry.by_id()[c] for c in ("UDR009", "UDR010")], snapshot)
    assert {(f.check_id, f.resource_id.lower()) for f in result.findings} == {
        ("UDR009", s) for s in _subnets("snet-hybrid")}


def test_a_denied_action_is_a_gap_only_with_the_option_on(routes, registry):
    scenario, clients, emulator = routes
    emulator.tenant.denied_actions.add(ROUTES_ACTION)
    off = collect_live(scenario.types, scenario.scope, clients, clock=FakeClock())
    assert off.complete and _posts(emulator) == []
    on = collect_live(scenario.types, scenario.scope, clients, clock=FakeClock(),
                      options=LiveOptions(effective_routes=True))
    assert not on.complete and {r.status for r in emulator.records if "effectiveroutetable" in r.path.lower()} == {403}
    assert all(PERMISSION in why for why in on.meta["effective_route_lookups"].values())
    result = scan_snapshot([registry.by_id()["UDR009"]], on)
    assert {s.resource_id.lower() for s in result.skipped} == _subnets("snet-nodes", "snet-hybrid")


def _cli(emulator: Emulator, *args: str) -> tuple[int, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSAUDIT_"))}
    env.update(emulator.client_env(), AZURE_CLIENT_ID=CLIENT_ID, AZURE_CLIENT_SECRET=RECORDING_SECRET)
    env["AZURE_CONFIG_DIR"] = "/nonexistent-az-config"
    proc = subprocess.run([*aksaudit_cmd(), "scan", "--subscription", ROUTES_SUB, "--select", "UDR009,UDR010",
                           "--json", "-", "--quiet", *args], capture_output=True, text=True, env=env, timeout=180)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_the_cli_option_finds_the_bypass_and_a_missing_permission_exits_3(routes):
    _, _, emulator = routes
    code, document = _cli(emulator, "--effective-routes")
    assert document["scan"]["complete"] is True
    assert {(f["check_id"], f["resource_id"].lower()) for f in document["findings"]} == {
        ("UDR009", s) for s in _subnets("snet-hybrid")}
    assert code == 1
    emulator.tenant.denied_actions.add(ROUTES_ACTION)
    code, document = _cli(emulator, "--effective-routes")
    assert code == 3 and document["scan"]["complete"] is False
    assert any(PERMISSION in e for e in document["scan"]["errors"])


# --- which NIC answers for a subnet -----------------------------------------------------------------

SUBNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/nodes"


def _rows(configs: list[str], node_group: str = "MC_rg_aks_westeurope") -> list[dict]:
    return [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
             "type": "microsoft.network/virtualnetworks", "properties": {"subnets": [
                 {"id": SUBNET, "name": "nodes", "properties": {"ipConfigurations": [{"id": c} for c in configs]}}]}},
            {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks",
             "type": "microsoft.containerservice/managedclusters",
             "properties": {"nodeResourceGroup": node_group, "agentPoolProfiles": [{"name": "p", "vnetSubnetID": SUBNET}]}}]


def _nic(group: str, name: str) -> str:
    return f"/subscriptions/s/resourceGroups/{group}/providers/Microsoft.Network/networkInterfaces/{name}"


VMSS = ("/subscriptions/s/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/"
        "aks-vmss/virtualMachines/0/networkInterfaces/aks-vmss/ipConfigurations/ipconfig1")


def test_a_nic_of_the_node_resource_group_is_preferred_to_another_vm_in_the_subnet():
    configs = [f"{_nic('rg-tools', 'a-jumpbox')}/ipConfigurations/ip1", VMSS,
               f"{_nic('mc_rg_aks_westeurope', 'node-1')}/ipConfigurations/ip1"]
    (target,) = route_targets(_rows(configs))
    assert target.nic_id == _nic("mc_rg_aks_westeurope", "node-1") and not target.reason
    (other,) = route_targets(_rows(configs[:2]))
    assert other.nic_id == _nic("rg-tools", "a-jumpbox")


def test_scale_set_nics_alone_or_no_nic_name_why_the_subnet_cannot_be_asked():
    (vmss,) = route_targets(_rows([VMSS]))
    assert not vmss.nic_id and "scale-set instance NICs" in vmss.reason
    (empty,) = route_targets(_rows([]))
    assert not empty.nic_id and "no network interface" in empty.reason
    (unknown,) = route_targets(_rows([])[1:])
    assert not unknown.nic_id and "not in the scanned virtual networks" in unknown.reason


def test_an_arm_collection_reads_the_same_effective_routes(routes, registry):
    """--source arm lists VNets through the network API, whose subnets carry the same IP configurations."""
    from aksaudit.collect.arm import collect_arm
    scenario, clients, emulator = routes
    snapshot = collect_arm(scenario.types, scenario.scope, clients, options=LiveOptions(effective_routes=True))
    assert snapshot.complete, snapshot.gaps
    assert len(_posts(emulator)) == 2
    result = scan_snapshot([registry.by_id()[c] for c in ("UDR009", "UDR010")], snapshot)
    assert {(f.check_id, f.resource_id.lower()) for f in result.findings} == {
        ("UDR009", s) for s in _subnets("snet-hybrid")}
