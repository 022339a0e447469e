"""Live collection against the HTTPS Resource Graph emulator, in process, with a fake clock.

The real SDKs talk real HTTPS to 127.0.0.1; only time is fake (shared by the collector and the
emulator's quota windows), so back-off and quota waits of many seconds cost nothing. Each fault
test names what must be missing and checks the scan cannot come out complete.
"""
from __future__ import annotations

import time

import pytest
from azure.identity import ClientSecretCredential

from aksaudit.collect.clients import connect
from aksaudit.collect.clouds import ARM_ENDPOINT_ENV, resolve_cloud
from aksaudit.collect.identity import AuthenticationFailed
from aksaudit.collect.live import LiveOptions, ScopeRequest, collect_live
from aksaudit.collect.scopes import ScopeError
from aksaudit.collect.throttle import RetryPolicy

from emulator import Behaviour, Emulator, FakeClock, Fault
from emulator.scenarios import CLIENT_ID, HUB, MANAGEMENT_GROUP, NAMES, RECORDING_SECRET, SPOKE, TYPES, SCENARIOS
from emulator.tenant import RCG_TYPE, subscription_of
from live_support import estate_rows, expected_findings, finding_set, ids_of, scan

BOTH = ScopeRequest((HUB, SPOKE))


class Live:
    """One emulator plus SDK clients pointed at it, sharing a fake clock."""

    def __init__(self, behaviour: Behaviour | None = None, secret: str = RECORDING_SECRET, **tenant: object) -> None:
        self.clock = FakeClock()
        self.tenant = SCENARIOS["management_group"].tenant()
        for name, value in tenant.items():
            setattr(self.tenant, name, value)
        self.emulator = Emulator(self.tenant, behaviour, clock=self.clock.now).start()
        credential = ClientSecretCredential(self.tenant.tenant_id, CLIENT_ID, secret, authority=self.emulator.url,
                                            disable_instance_discovery=True)
        self.clients = connect(resolve_cloud("AzureCloud", {ARM_ENDPOINT_ENV: self.emulator.url}), credential)

    def collect(self, scope: ScopeRequest = BOTH, **options: object):
        return collect_live(TYPES, scope, self.clients, options=LiveOptions(**options), clock=self.clock,
                            rand=lambda: 1.0)

    def graph_bodies(self) -> list[dict]:
        return [r.body for r in self.emulator.graph_requests()]


@pytest.fixture
def live(monkeypatch):
    started: list[Live] = []

    def start(behaviour: Behaviour | None = None, **tenant: object) -> Live:
        instance = Live(behaviour, **tenant)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", instance.emulator.ca_path)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.emulator.stop()


@pytest.fixture(scope="module")
def expected(registry, expected_examples):
    return expected_findings(registry, expected_examples)


def test_quota_limiter_keeps_a_long_scan_inside_the_quota(live, registry, expected):
    env = live(Behaviour(quota=3, window=5.0))
    snapshot = env.collect(page_size=2, concurrency=4)
    assert snapshot.complete, snapshot.gaps
    assert [r for r in env.emulator.records if r.status == 429] == []
    assert len(env.emulator.graph_requests()) > 3 and env.clock.waited >= 5.0  # waited out at least one window
    assert finding_set(registry, snapshot.rows) == expected


def test_retry_after_is_honoured(live):
    env = live()
    env.emulator.add_fault(Fault("throttle", table="resources", retry_after=7, quota_headers=False))
    assert env.collect().complete
    assert 7.0 in env.clock.sleeps


def test_5xx_is_retried_with_capped_exponential_back_off(live, registry, expected):
    env = live()
    env.emulator.add_fault(Fault("error", status=503, table="resources", times=3))
    snapshot = env.collect(retry=RetryPolicy(base_delay=1.0, max_delay=3.0))
    assert snapshot.complete
    assert env.clock.sleeps == [1.0, 2.0, 3.0]  # 1, 2, then capped at 3 (jitter pinned to its maximum)
    assert finding_set(registry, snapshot.rows) == expected


def test_table_failing_after_retries_is_a_named_gap_and_its_checks_skip(live, registry):
    env = live()
    env.emulator.add_fault(Fault("error", status=503, table="networkresources", times=-1))
    snapshot = env.collect(retry=RetryPolicy(max_attempts=3))
    assert not snapshot.complete
    assert any(g.startswith("networkresources (") and "gave up after 3 attempts: HTTP 503" in g for g in snapshot.gaps)
    result = scan(registry, snapshot.rows, snapshot.unreadable_scopes, snapshot.gaps)
    assert not result.complete
    groups = {r["id"].lower() for r in estate_rows() if r["type"] == RCG_TYPE}
    assert {s.resource_id.lower() for s in result.skipped} & groups  # firewall rules unseen: skipped, never pass


def test_retry_budget_bounds_the_total_wait(live):
    env = live()
    env.emulator.add_fault(Fault("error", status=500, code="InternalServerError", table="resources", times=-1))
    snapshot = env.collect(retry=RetryPolicy(max_attempts=100, budget=10.0))
    assert any("retry budget of 10s exhausted" in g and "HTTP 500" in g for g in snapshot.gaps)
    assert env.clock.waited <= 10.0


def test_timeouts_are_retried(live, registry, expected):
    env = live()
    env.emulator.add_fault(Fault("delay", seconds=2.0, table="resources"))
    snapshot = env.collect(timeout=0.5)
    assert snapshot.complete, snapshot.gaps
    assert env.clock.sleeps  # one back-off after the timeout
    assert finding_set(registry, snapshot.rows) == expected


def test_page_lost_mid_way_is_named_with_the_rows_before_it_kept(live):
    env = live()
    env.emulator.add_fault(Fault("error", status=503, table="resources", page=3, times=-1))
    snapshot = env.collect(page_size=2, retry=RetryPolicy(max_attempts=2))
    assert not snapshot.complete
    assert any("page 3 could not be read; rows after page 2 are missing" in g for g in snapshot.gaps)
    resources = sorted(r["id"].lower() for r in estate_rows() if r["type"] != RCG_TYPE)
    assert set(resources[:4]) <= ids_of(snapshot.rows)
    assert set(snapshot.unreadable_scopes) == {HUB, SPOKE}


def test_subscriptions_are_sent_in_batches(live, registry, expected):
    env = live()
    snapshot = env.collect(batch_size=1)
    assert snapshot.complete
    assert all(len(body.get("subscriptions") or []) == 1 for body in env.graph_bodies())
    data = [b for b in env.graph_bodies() if b["query"].startswith("resources ")]
    assert sorted(b["subscriptions"][0] for b in data) == sorted([HUB, SPOKE])
    assert finding_set(registry, snapshot.rows) == expected


def test_subscription_limit_hit_is_worked_around_by_batching(live, registry, expected):
    env = live(Behaviour(subscription_limit=1))
    snapshot = env.collect(ScopeRequest(management_groups=(MANAGEMENT_GROUP,)))
    assert snapshot.complete, snapshot.gaps
    batched = [b for b in env.graph_bodies() if b.get("subscriptions") and not b["query"].startswith("resourcecontainers")]
    assert {s for b in batched for s in b["subscriptions"]} == {HUB, SPOKE}
    assert finding_set(registry, snapshot.rows) == expected


def test_subscription_limit_hit_that_cannot_be_batched_is_a_gap(live):
    env = live(Behaviour(subscription_limit=1))
    env.emulator.add_fault(Fault("error", status=400, code="BadRequest", table="resourcecontainers", times=-1))
    snapshot = env.collect(ScopeRequest())
    assert not snapshot.complete
    assert any("first 10,000 subscriptions" in g for g in snapshot.gaps)


def test_unreadable_management_group_is_a_named_gap(live):
    env = live()
    snapshot = env.collect(ScopeRequest(management_groups=("mg-nobody-granted",)))
    assert not snapshot.complete and snapshot.rows == []
    assert any("management group mg-nobody-granted" in g and "not readable" in g for g in snapshot.gaps)


def test_all_subscriptions_forbidden_sends_no_data_query(live):
    env = live(forbidden={HUB, SPOKE})
    snapshot = env.collect()
    assert not snapshot.complete and snapshot.rows == []
    assert set(snapshot.unreadable_scopes) == {HUB, SPOKE}
    assert all(b["query"].startswith("resourcecontainers") for b in env.graph_bodies())


def test_rule_group_fallback_failure_leaves_rules_unreadable_and_checks_skipped(live, registry):
    env = live(rule_groups_without_rules=True)
    env.emulator.add_fault(Fault("error", route="arm", status=403, code="AuthorizationFailed", times=-1))
    snapshot = env.collect()
    groups = {r["id"].lower() for r in estate_rows() if r["type"] == RCG_TYPE}
    assert not snapshot.complete
    assert {g for g in groups if any(g in gap.lower() and "HTTP 403" in gap for gap in snapshot.gaps)} == groups
    result = scan(registry, snapshot.rows, snapshot.unreadable_scopes, snapshot.gaps)
    assert not {f for f in result.findings if f.check_id in ("FW003", "FW004")}
    assert {s.resource_id.lower() for s in result.skipped if s.check_id in ("FW003", "FW004")} == groups


def test_tables_and_batches_are_queried_concurrently(live):
    env = live(Behaviour(latency=0.3))
    assert env.collect(batch_size=1, concurrency=4).complete
    assert env.emulator.peak_in_flight >= 2


def test_wrong_secret_is_an_actionable_authentication_failure(live):
    env = live()
    env.tenant.client_secret = "the-real-secret"
    with pytest.raises(AuthenticationFailed) as raised:
        env.collect()
    message = str(raised.value)
    assert "AADSTS7000215" in message and "az login" in message and "AZURE_CLIENT_SECRET" in message


def test_display_names_must_name_exactly_one_readable_subscription(live):
    env = live()
    with pytest.raises(ScopeError, match="no subscription readable by this identity is named 'Nope'"):
        env.collect(ScopeRequest(("Nope",)))
    env.tenant.subscription_names[SPOKE] = NAMES[HUB]
    with pytest.raises(ScopeError, match="matches several subscriptions"):
        env.collect(ScopeRequest((NAMES[HUB],)))


def test_overlapping_scopes_return_each_resource_once(live):
    env = live()
    snapshot = env.collect(ScopeRequest((HUB,), (MANAGEMENT_GROUP,)))
    assert snapshot.complete
    assert len(snapshot.rows) == len(ids_of(snapshot.rows)) == len(estate_rows())
    assert {subscription_of(r["id"]) for r in snapshot.rows} == {HUB, SPOKE}
    assert snapshot.scope_labels == (f"subscription:{HUB}", f"managementGroup:{MANAGEMENT_GROUP}")


def test_no_real_time_is_spent_on_back_off(live):
    env = live()
    env.emulator.add_fault(Fault("throttle", table="resources", resets_after=30.0, times=2))
    began = time.monotonic()
    assert env.collect().complete
    assert env.clock.waited >= 60.0 and time.monotonic() - began < 10.0
