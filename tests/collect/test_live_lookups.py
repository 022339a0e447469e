"""A live scan's ARM lookups: concurrent, within ARM's read bucket, and only where they can matter.

The limiter runs on a fake clock (minutes of refill cost nothing); concurrency is proven with a
barrier that only a run holding every lookup in flight at once can pass (no timings); the
lookups a scan skips are decided from rows, and the scan's record names the reason.
"""
from __future__ import annotations

import threading

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential

from aksaudit.collect.arm_limits import SUBSCRIPTION_READS, ArmLimiter, ArmRates
from aksaudit.collect.changes import change_reader
from aksaudit.collect.clients import connect
from aksaudit.collect.clouds import ARM_ENDPOINT_ENV, resolve_cloud
from aksaudit.collect.live import LiveOptions, collect_live
from aksaudit.collect.lookups import Lookup, LookupRunner
from aksaudit.collect.relevance import endpoint_lookups
from aksaudit.collect.throttle import SystemClock

from emulator import Behaviour, Emulator, FakeClock
from emulator.scenarios import CLIENT_ID, RECORDING_SECRET, SCENARIOS

SUB = "00000000-0000-0000-0000-000000000001"
FIREWALL = "microsoft.network/azurefirewalls"
CLUSTER = "microsoft.containerservice/managedclusters"
VNET = "microsoft.network/virtualnetworks"
HUB = "microsoft.network/virtualhubs"
QUERIED = (CLUSTER, VNET, FIREWALL, HUB)


def _vnet(name: str, subnets: dict[str, bool]) -> dict:
    vnet = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/{name}"
    return {"id": vnet, "type": VNET, "properties": {"subnets": [
        {"id": f"{vnet}/subnets/{s}", "name": s,
         "properties": {"routeTable": {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/"
                                             f"routeTables/rt-{s}"}} if routed else {}}
        for s, routed in subnets.items()]}}


def _cluster(name: str, subnet: str | None) -> dict:
    pool = {"name": "system", **({"vnetSubnetID": subnet} if subnet else {})}
    return {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/{name}",
            "type": CLUSTER, "properties": {"agentPoolProfiles": [pool]}}


def _subnet(vnet: str, subnet: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}"


FIREWALL_ROW = {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/azureFirewalls/afw",
                "type": FIREWALL, "properties": {}}


# --- which clusters' lists can change a verdict ----------------------------------------------------

def test_no_firewall_in_the_estate_means_no_cluster_list_is_asked_for():
    rows = [_vnet("v", {"nodes": True}), _cluster("a", _subnet("v", "nodes")), _cluster("b", None)]
    decided = endpoint_lookups(rows, QUERIED)
    assert set(decided) == {rows[1]["id"], rows[2]["id"]}
    assert all("no Azure Firewall" in reason for reason in decided.values())


def test_a_routed_subnet_keeps_the_lookup_and_an_unrouted_or_managed_one_does_not():
    routed, direct, managed = (_cluster("routed", _subnet("v", "nodes")), _cluster("direct", _subnet("v", "plain")),
                               _cluster("managed", None))
    rows = [FIREWALL_ROW, _vnet("v", {"nodes": True, "plain": False}), routed, direct, managed]
    decided = endpoint_lookups(rows, QUERIED)
    assert {cid for cid, reason in decided.items() if not reason} == {routed["id"]}
    assert "no route table" in decided[direct["id"]] and "AKS-managed" in decided[managed["id"]]


def test_an_absence_counts_only_for_types_that_were_queried():
    direct = _cluster("direct", _subnet("v", "plain"))
    rows = [_vnet("v", {"plain": False}), direct]
    # Firewalls and hubs not asked for: their absence proves nothing, the list is asked for.
    assert endpoint_lookups(rows, (CLUSTER, VNET)) == {direct["id"]: ""}
    # A hub in the estate may steer an unrouted subnet through routing intent.
    hub = {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualHubs/h", "type": HUB}
    assert endpoint_lookups([FIREWALL_ROW, hub, *rows], QUERIED) == {direct["id"]: ""}
    # A node subnet not among the rows: unknown, so asked for.
    elsewhere = _cluster("elsewhere", _subnet("gone", "nodes"))
    assert endpoint_lookups([FIREWALL_ROW, elsewhere], QUERIED) == {elsewhere["id"]: ""}


# --- ARM's read bucket -----------------------------------------------------------------------------

def test_the_bucket_is_spent_then_refilled_at_the_documented_rate():
    clock = FakeClock()
    limiter = ArmLimiter(clock, ArmRates(bucket=3, refill_per_second=2.0))
    assert [limiter.acquire(SUB) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire(SUB) == pytest.approx(0.5)  # one token at 2 a second
    assert limiter.acquire("another-subscription") == 0.0  # buckets are per subscription


def test_the_server_count_and_a_429_override_our_own():
    clock = FakeClock()
    limiter = ArmLimiter(clock, ArmRates(bucket=250, refill_per_second=25.0))
    limiter.acquire(SUB)
    limiter.observe(SUB, 200, {SUBSCRIPTION_READS: "0"})  # other tools spent the bucket
    assert limiter.acquire(SUB) == pytest.approx(1 / 25)
    limiter.observe(SUB, 429, {"Retry-After": "7"})
    assert limiter.acquire(SUB) >= 7.0


# --- concurrency -----------------------------------------------------------------------------------

def test_lookups_are_in_flight_at_once_and_answers_keep_their_order():
    width = 6
    barrier = threading.Barrier(width, timeout=10)

    def call(index: int):
        def run(hook):
            barrier.wait()  # passes only when all `width` lookups are running at the same time
            return index
        return run

    runner = LookupRunner(ArmLimiter(FakeClock()), workers=width)
    answers = runner.run([Lookup("kind", SUB, call(i)) for i in range(width)])
    assert [a.value for a in answers] == list(range(width))
    assert runner.made == {"kind": width}


def test_a_failed_lookup_is_its_own_answer_and_an_auth_failure_ends_the_run():
    def failing(hook):
        raise HttpResponseError(message="boom")

    runner = LookupRunner(ArmLimiter(FakeClock()), workers=2)
    answers = runner.run([Lookup("kind", SUB, failing), Lookup("kind", SUB, lambda hook: "fine")])
    assert answers[0].error is not None and answers[1].value == "fine"

    def refused(hook):
        error = HttpResponseError(message="refused")
        error.status_code = 401
        raise error

    with pytest.raises(HttpResponseError):
        runner.run([Lookup("kind", SUB, refused), Lookup("kind", SUB, lambda hook: "fine")])


# --- the scan's clients and record ----------------------------------------------------------------

@pytest.fixture
def vwan(monkeypatch):
    scenario = SCENARIOS["outbound_endpoints"]
    clock = FakeClock()
    emulator = Emulator(scenario.tenant(), Behaviour(), clock=clock.now).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)
    credential = ClientSecretCredential(emulator.tenant.tenant_id, CLIENT_ID, RECORDING_SECRET, authority=emulator.url,
                                        disable_instance_discovery=True)
    clients = connect(resolve_cloud("AzureCloud", {ARM_ENDPOINT_ENV: emulator.url}), credential)
    yield scenario, clients, clock, emulator
    emulator.stop()


def test_every_client_of_a_scan_shares_one_transport(vwan):
    _, clients, _, _ = vwan
    transports = {id(client._client._pipeline._transport) for client in (
        clients.graph, clients.network("a"), clients.network("b"), clients.containers("a"))}
    assert len(transports) == 1


def test_change_history_spends_the_quota_the_estate_queries_left(vwan):
    _, clients, clock, _ = vwan
    assert change_reader(clients, LiveOptions(), clock=clock)._limiter is clients.limits.graph(clock)
    assert change_reader(clients, LiveOptions())._limiter is clients.limits.graph(SystemClock())


def test_the_snapshot_records_the_lookups_made_and_sent(vwan):
    scenario, clients, clock, emulator = vwan
    snapshot = collect_live(scenario.types, scenario.scope, clients, clock=clock, rand=lambda: 1.0)
    assert snapshot.complete, snapshot.gaps
    clusters = {r["id"] for r in snapshot.rows if r["type"] == CLUSTER}
    record = snapshot.meta["arm_lookups"]["outbound network dependencies endpoints"]
    assert record["made"] == len(clusters) and "AKS003" in record["why"]
    assert snapshot.meta["arm_lookups_sent"] == {"outbound network dependencies endpoints": len(clusters)}
    sent = [r for r in emulator.records if "outboundnetworkdependenciesendpoints" in r.path.lower()]
    assert {r.path.lower().split("/outbound")[0] for r in sent} == {c.lower() for c in clusters}
