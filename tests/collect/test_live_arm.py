"""`--source arm` and `--subscription-batch` against the HTTPS emulator on loopback.

The ARM source must read exactly the rows Resource Graph returns for the same scope (so every
later step is shared) and name what it could not read the same way. `--subscription-batch`
must split a management-group scope into subscription batches without changing what is found.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from azure.identity import ClientSecretCredential

from aksaudit.collect.arm import collect_arm
from aksaudit.collect.clients import connect
from aksaudit.collect.clouds import ARM_ENDPOINT_ENV, resolve_cloud
from aksaudit.collect.live import LiveOptions, ScopeRequest, collect_live
from aksaudit.testing import key

from conftest import aksaudit_cmd
from emulator import Behaviour, Emulator, Fault
from emulator.scenarios import CLIENT_ID, ESTATE, HUB, MANAGEMENT_GROUP, NAMES, RECORDING_SECRET, SCENARIOS, SPOKE, TYPES
from emulator.tenant import subscription_of

BOTH = ScopeRequest((HUB, SPOKE))


class Env:
    """An emulator and SDK clients pointed at it (real clock: ARM retries are the SDK's own)."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.tenant = SCENARIOS["management_group"].tenant()
        self.emulator = Emulator(self.tenant, behaviour).start()
        credential = ClientSecretCredential(self.tenant.tenant_id, CLIENT_ID, RECORDING_SECRET,
                                            authority=self.emulator.url, disable_instance_discovery=True)
        self.clients = connect(resolve_cloud("AzureCloud", {ARM_ENDPOINT_ENV: self.emulator.url}), credential)

    def arm(self, scope: ScopeRequest = BOTH, **options: object):
        return collect_arm(TYPES, scope, self.clients, options=LiveOptions(**options))

    def arg(self, scope: ScopeRequest = BOTH, **options: object):
        return collect_live(TYPES, scope, self.clients, options=LiveOptions(**options))


@pytest.fixture
def env(monkeypatch):
    started: list[Env] = []

    def start(behaviour: Behaviour | None = None) -> Env:
        instance = Env(behaviour)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", instance.emulator.ca_path)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.emulator.stop()


def by_id(rows) -> dict:
    return {r["id"].lower(): r for r in rows}


@pytest.mark.parametrize("scope", [BOTH, ScopeRequest(management_groups=(MANAGEMENT_GROUP,)), ScopeRequest(),
                                   ScopeRequest((NAMES[HUB], SPOKE))],
                         ids=["subscriptions", "management-group", "tenant", "display-name"])
def test_arm_source_reads_the_rows_resource_graph_returns(env, scope):
    live = env()
    from_arm, from_graph = live.arm(scope), live.arg(scope)
    assert from_arm.complete and from_graph.complete, (from_arm.gaps, from_graph.gaps)
    assert by_id(from_arm.rows) == by_id(from_graph.rows) and from_arm.rows
    assert from_arm.meta["source"] == "Azure Resource Manager" and from_arm.meta["arm_requests"] > 0


def test_arm_lists_follow_next_link(env):
    live = env(Behaviour(arm_page_size=1))
    snapshot = live.arm()
    assert snapshot.complete, snapshot.gaps
    assert by_id(snapshot.rows) == by_id(live.arg().rows)
    followed = {r.path for r in live.emulator.records if "$skiptoken=" in r.path and r.status == 200}
    assert followed  # at least one list took more than one page


def test_arm_subscription_it_cannot_read_is_a_named_gap(env):
    live = env()
    live.tenant.forbidden.add(SPOKE)
    snapshot = live.arm()
    assert not snapshot.complete
    assert any(SPOKE in gap and "not readable" in gap for gap in snapshot.gaps), snapshot.gaps
    assert set(snapshot.unreadable_scopes) == {SPOKE}
    assert {subscription_of(r["id"]) for r in snapshot.rows} == {HUB}


def test_arm_lists_that_fail_are_named_and_leave_the_scan_incomplete(env):
    live = env()
    live.emulator.add_fault(Fault("error", route="arm", status=400, code="BadRequest", times=-1))
    snapshot = live.arm(ScopeRequest())
    assert not snapshot.complete and snapshot.rows == []
    assert any("could not be listed" in gap and "HTTP 400" in gap for gap in snapshot.gaps), snapshot.gaps


def test_arm_unreadable_management_group_is_a_named_gap(env):
    snapshot = env().arm(ScopeRequest(management_groups=("mg-nobody-granted",)))
    assert not snapshot.complete and snapshot.rows == []
    assert any("management group mg-nobody-granted" in gap and "not readable" in gap for gap in snapshot.gaps)


def test_subscription_batch_splits_a_management_group_into_batches(env):
    live = env()
    whole = live.arg(ScopeRequest(management_groups=(MANAGEMENT_GROUP,)))
    before = len(live.emulator.graph_requests())
    split = live.arg(ScopeRequest(management_groups=(MANAGEMENT_GROUP,)), batch_size=1, split_scopes=True)
    assert split.complete and by_id(split.rows) == by_id(whole.rows)
    sent = [r.body for r in live.emulator.graph_requests()[before:]]
    assert any(body["query"].startswith("resourcecontainers") and body.get("managementGroups") for body in sent)
    data = [body for body in sent if not body["query"].startswith("resourcecontainers")]
    assert data and all(len(body.get("subscriptions") or []) == 1 and not body.get("managementGroups")
                        for body in data)
    assert {s for body in data for s in body["subscriptions"]} == {HUB, SPOKE}


# --- the command line ------------------------------------------------------------------------------


def run(emulator: Emulator, *args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSAUDIT_"))}
    environment.update(emulator.client_env())
    environment["AZURE_CONFIG_DIR"] = os.environ.get("AZURE_CONFIG_DIR", "/nonexistent-az-config")
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, env=environment, timeout=180)


def keys(document: dict) -> set:
    return {key(f["check_id"], f["resource_id"], f["locus"]) for f in document["findings"]}


def test_scan_source_arm_finds_what_the_snapshot_scan_finds(env):
    live = env()
    reference = subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(ESTATE), "--json", "-", "--quiet"],
                               capture_output=True, text=True, timeout=120)
    proc = run(live.emulator, "scan", "--source", "arm", "--management-group", MANAGEMENT_GROUP, "--json", "-",
               "--quiet")
    document = json.loads(proc.stdout)
    assert document["scan"]["complete"] is True, document["scan"]["errors"]
    assert keys(document) == keys(json.loads(reference.stdout)) and keys(document)
    assert proc.returncode == reference.returncode
    assert live.emulator.graph_requests() == []  # no Resource Graph at all


@pytest.mark.parametrize("value", ["0", "1001", "many"])
def test_subscription_batch_out_of_range_is_a_usage_error(env, value):
    proc = run(env().emulator, "scan", "--subscription-batch", value)
    assert proc.returncode == 2 and "--subscription-batch" in proc.stderr
