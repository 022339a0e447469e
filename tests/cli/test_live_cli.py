"""`aksaudit scan --subscription/--management-group` and `aksaudit snapshot`, end to end.

The CLI runs as users run it, in a subprocess, with DefaultAzureCredential reading a service
principal from the environment and the emulator's CA trusted through REQUESTS_CA_BUNDLE. A live
scan must find exactly what `scan --snapshot` finds on the same estate file; every fault must
end in exit 3 with `scan.complete` false and a gap that names what is missing.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from aksaudit.testing import key

from conftest import EXAMPLES, aksaudit_cmd
from emulator import Behaviour, Emulator, Fault
from emulator.scenarios import ESTATE, HUB, MANAGEMENT_GROUP, NAMES, SCENARIOS, SPOKE


@pytest.fixture
def emulator():
    instance = Emulator(SCENARIOS["management_group"].tenant(), Behaviour()).start()
    yield instance
    instance.stop()


def run(emulator: Emulator, *args: str, **overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSAUDIT_"))}
    env.update(emulator.client_env(), **overrides)
    env["AZURE_CONFIG_DIR"] = os.environ.get("AZURE_CONFIG_DIR", "/nonexistent-az-config")
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, env=env, timeout=120)


def scan(emulator: Emulator, *args: str) -> tuple[int, dict, str]:
    proc = run(emulator, "scan", *args, "--json", "-", "--quiet")
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def keys(document: dict) -> set:
    return {key(f["check_id"], f["resource_id"], f["locus"]) for f in document["findings"]}


@pytest.fixture(scope="module")
def from_snapshot():
    """The reference: the same estate scanned from its file, as the snapshot path does it."""
    proc = subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(ESTATE), "--json", "-", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize("scope", [
    ("--subscription", HUB, "--subscription", NAMES[SPOKE]),
    ("--management-group", MANAGEMENT_GROUP),
    (),
], ids=["subscriptions", "management-group", "tenant"])
def test_live_scan_finds_what_the_snapshot_scan_finds(emulator, from_snapshot, scope):
    code, document, stderr = scan(emulator, *scope)
    assert document["scan"]["complete"] is True, document["scan"]["errors"]
    assert keys(document) == keys(from_snapshot[1]) and keys(document)
    assert code == from_snapshot[0] == 1


def test_live_scan_matches_expected_findings_of_the_example(emulator, expected_examples):
    checks = sorted({item[0] for item in expected_examples["hub-spoke-drifted.json"]})
    code, document, _ = scan(emulator, "--management-group", MANAGEMENT_GROUP, "--select", ",".join(checks))
    assert keys(document) == {key(*item) for item in expected_examples["hub-spoke-drifted.json"]}


def test_forbidden_subscription_exits_3_naming_it(emulator):
    emulator.tenant.forbidden.add(SPOKE)
    code, document, _ = scan(emulator, "--subscription", HUB, "--subscription", SPOKE)
    assert code == 3 and document["scan"]["complete"] is False
    assert any(SPOKE in e and "not readable" in e for e in document["scan"]["errors"])
    assert all(f["subscription_id"].lower() == HUB for f in document["findings"])


def test_truncated_result_exits_3(emulator):
    emulator.add_fault(Fault("truncate", table="resources"))
    code, document, _ = scan(emulator, "--management-group", MANAGEMENT_GROUP)
    assert code == 3 and document["scan"]["complete"] is False
    assert any(e.startswith("resources (") and "resultTruncated" in e for e in document["scan"]["errors"])


def test_failed_table_exits_3_and_its_checks_skip(emulator):
    emulator.add_fault(Fault("error", status=503, table="networkresources", times=-1))
    code, document, _ = scan(emulator, "--management-group", MANAGEMENT_GROUP, "--retry-budget", "0")
    assert code == 3 and document["scan"]["complete"] is False
    assert any(e.startswith("networkresources (") and "HTTP 503" in e for e in document["scan"]["errors"])
    skipped = {s["check_id"] for s in document["scan"]["skipped"]}
    assert {"FW003", "FW004"} <= skipped
    assert not {f["check_id"] for f in document["findings"]} & {"FW003", "FW004"}


def test_lost_page_exits_3_naming_the_page(emulator):
    emulator.behaviour.page_limit = 5
    emulator.add_fault(Fault("error", status=503, table="resources", page=2, times=-1))
    code, document, _ = scan(emulator, "--subscription", HUB, "--subscription", SPOKE, "--retry-budget", "0")
    assert code == 3 and document["scan"]["complete"] is False
    assert any("page 2 could not be read; rows after page 1 are missing" in e for e in document["scan"]["errors"])


def test_throttling_without_retry_after_is_waited_out(emulator, from_snapshot):
    emulator.add_fault(Fault("throttle", table="resources", quota_headers=False))
    code, document, _ = scan(emulator, "--management-group", MANAGEMENT_GROUP)
    assert document["scan"]["complete"] is True and keys(document) == keys(from_snapshot[1])
    assert [r.status for r in emulator.graph_requests()].count(429) == 1


def test_authentication_failure_exits_2_with_what_to_do(emulator):
    proc = run(emulator, "scan", "--subscription", HUB, AZURE_CLIENT_SECRET="not-the-registered-secret")
    assert proc.returncode == 2
    assert "could not authenticate" in proc.stderr and "az login" in proc.stderr
    assert "AZURE_CLIENT_SECRET" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_subscription_name_exits_2(emulator):
    proc = run(emulator, "scan", "--subscription", "No Such Subscription")
    assert proc.returncode == 2 and "No Such Subscription" in proc.stderr


def test_snapshot_and_live_flags_do_not_mix(emulator):
    proc = run(emulator, "scan", "--snapshot", str(ESTATE), "--subscription", HUB)
    assert proc.returncode == 2 and "cannot be combined" in proc.stderr


def test_snapshot_command_writes_what_scan_snapshot_reads_back(emulator, tmp_path, from_snapshot):
    path = tmp_path / "estate.json"
    proc = run(emulator, "snapshot", "--management-group", MANAGEMENT_GROUP, "-o", str(path))
    assert proc.returncode == 0, proc.stderr
    saved = json.loads(path.read_text())
    meta = saved["meta"]
    assert meta["format"] == "aksaudit-snapshot" and meta["format_version"] == 1 and meta["complete"] is True
    assert meta["scopes"]["management_groups"] == [MANAGEMENT_GROUP] and meta["tool"]["version"]
    assert meta["started_at"] <= meta["finished_at"] and meta["errors"] == []
    assert {q["table"] for q in meta["queries"]} >= {"resources", "networkresources"}
    code, document, _ = scan(emulator, "--snapshot", str(path))
    assert document["scan"]["complete"] is True and keys(document) == keys(from_snapshot[1])


def test_incomplete_snapshot_exits_3_and_stays_incomplete_when_scanned(emulator, tmp_path):
    emulator.tenant.forbidden.add(SPOKE)
    path = tmp_path / "partial.json"
    proc = run(emulator, "snapshot", "--subscription", HUB, "--subscription", SPOKE, "-o", str(path))
    assert proc.returncode == 3 and SPOKE in proc.stderr
    assert json.loads(path.read_text())["meta"]["unreadable_subscriptions"] == [SPOKE]
    code, document, _ = scan(emulator, "--snapshot", str(path))
    assert code == 3 and any(SPOKE in e for e in document["scan"]["errors"])


def test_progress_goes_to_stderr_as_plain_lines_when_not_a_terminal(emulator):
    proc = run(emulator, "scan", "--management-group", MANAGEMENT_GROUP, "--json", "-")
    assert json.loads(proc.stdout)["scan"]["complete"] is True
    lines = [line for line in proc.stderr.splitlines() if line.startswith("aksaudit: resources (")]
    assert lines and "row(s) in 1 page(s), done" in lines[0] and "\x1b[" not in proc.stderr.split("\n")[0]


def test_examples_folder_holds_the_estate_the_emulator_serves():
    assert ESTATE.parent == EXAMPLES and ESTATE.exists()


VWAN = EXAMPLES.parent / "tests" / "scenarios" / "vwan-secured-hub.json"
ARM_ONLY = ("microsoft.network/virtualhubs/routingintent", "microsoft.network/virtualhubs/hubvirtualnetworkconnections")


@pytest.fixture
def vwan_emulator():
    """The secured-hub estate: routing intent and hub connections only through their ARM lists."""
    from emulator.tenant import Tenant
    instance = Emulator(Tenant.from_file(VWAN), Behaviour()).start()
    yield instance
    instance.stop()


def test_vwan_routing_intent_and_hub_connections_come_from_arm(vwan_emulator, tmp_path):
    reference = subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(VWAN), "--json", "-", "--quiet"],
                               capture_output=True, text=True, timeout=120)
    code, document, stderr = scan(vwan_emulator)
    assert document["scan"]["complete"] is True, document["scan"]["errors"]
    assert keys(document) == keys(json.loads(reference.stdout))
    assert code == reference.returncode
    routes = {r.path.split("?")[0].rsplit("/", 1)[-1].lower() for r in vwan_emulator.records if r.method == "GET"}
    assert {"routingintent", "hubroutetables", "hubvirtualnetworkconnections",
            "outboundnetworkdependenciesendpoints"} <= routes
    path = tmp_path / "estate.json"
    proc = run(vwan_emulator, "snapshot", "-o", str(path))
    assert proc.returncode == 0, proc.stderr
    saved = json.loads(path.read_text())
    assert set(ARM_ONLY) <= {r["type"] for r in saved["rows"]}
    assert any(d.startswith("routing intent of ") for d in saved["meta"]["read_from_arm"])
    assert "UDR001" not in {f["check_id"] for f in document["findings"]}  # the spokes are steered by the hub


def test_vwan_routing_intent_unreadable_is_a_gap_and_exits_3(vwan_emulator):
    vwan_emulator.add_fault(Fault("error", route="arm", status=500, code="InternalServerError", times=-1))
    code, document, _ = scan(vwan_emulator, "--retry-budget", "0")
    assert code == 3 and document["scan"]["complete"] is False
    assert any("routing intent could not be read" in e for e in document["scan"]["errors"])
