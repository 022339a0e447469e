"""The live collector's pure parts: headers, back-off, the quota limiter, query plans, scopes, clouds.

These are the decisions the emulator and cassette tests exercise end to end; here each one is
pinned down on its own so a regression points at the rule it broke.
"""
from __future__ import annotations

import io

import pytest

from aksaudit.collect.clouds import ARM_ENDPOINT_ENV, AUTHORITY_ENV, CLOUDS, CloudError, resolve_cloud
from aksaudit.collect.graph import GraphScope
from aksaudit.collect.identity import default_credential
from aksaudit.collect.progress import LogProgress, NullProgress, RichProgress, make_progress
from aksaudit.collect.queries import COLUMNS, batched, plan_queries, subscriptions_query
from aksaudit.collect.rule_groups import lacks_rules, policy_of
from aksaudit.collect.scopes import ScopeError, Subscription, resolve_names, split_visible, subscriptions_from_rows
from aksaudit.collect.throttle import (
    QuotaLimiter, RetryPolicy, parse_duration, quota_of, retry_after, wait_for_429,
)
from aksaudit.model.resources import T_CLUSTER, T_FIREWALL, T_RCG, T_VNET

from emulator import FakeClock

A = "11111111-1111-4111-8111-111111111111"
B = "22222222-2222-4222-8222-222222222222"


@pytest.mark.parametrize("text,seconds", [("00:00:05", 5.0), ("01:02:03.5", 3723.5), ("1.00:00:01", 86401.0),
                                          ("5", None), ("", None), (None, None)])
def test_quota_reset_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_retry_after_reads_seconds_and_millisecond_variants():
    assert retry_after({"Retry-After": "7"}) == 7.0
    assert retry_after({"retry-after-ms": "1500"}) == 1.5
    assert retry_after({"x-ms-retry-after-ms": "250"}) == 0.25
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert retry_after({}) is None and retry_after(None) is None
    assert quota_of({"X-MS-User-Quota-Remaining": "3", "x-ms-user-quota-resets-after": "00:00:02"}).remaining == 3


def test_back_off_is_capped_exponential_with_equal_jitter():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert [policy.backoff(n, lambda: 0.0) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_429_wait_prefers_retry_after_then_the_quota_reset_then_back_off():
    policy = RetryPolicy(base_delay=1.0)
    spent = {"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:04"}
    assert wait_for_429({**spent, "Retry-After": "9"}, policy, 0, lambda: 1.0) == 9.0
    assert wait_for_429(spent, policy, 0, lambda: 1.0) == 4.0
    assert wait_for_429({}, policy, 2, lambda: 1.0) == 4.0


def test_limiter_holds_requests_until_the_quota_window_resets():
    clock = FakeClock()
    limiter = QuotaLimiter(clock)
    assert limiter.acquire() == 0.0  # unknown quota: go
    limiter.release({"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:05"})
    assert limiter.acquire() == pytest.approx(5.0)
    limiter.release(None)
    assert limiter.acquire() == 0.0  # a fresh window after the reset


def test_limiter_counts_requests_still_in_flight():
    clock = FakeClock()
    limiter = QuotaLimiter(clock)
    limiter.acquire()
    limiter.acquire()
    # The server saw one request and says one is left; the other in-flight request will spend it.
    limiter.release({"x-ms-user-quota-remaining": "1", "x-ms-user-quota-resets-after": "00:00:03"})
    assert limiter.acquire() == pytest.approx(3.0)


def test_limiter_hold_blocks_everyone_after_a_429():
    clock = FakeClock()
    limiter = QuotaLimiter(clock)
    limiter.hold(2.5)
    assert limiter.acquire() == pytest.approx(2.5)


def test_query_plan_is_one_query_per_table_for_exactly_the_required_types():
    plan = plan_queries([T_VNET, T_CLUSTER, T_RCG, T_VNET, "Microsoft.Network/NatGateways"])
    assert [q.table for q in plan] == ["networkresources", "resources"]
    network, resources = plan
    assert network.types == (T_RCG,)
    assert resources.types == ("microsoft.containerservice/managedclusters", "microsoft.network/natgateways", T_VNET)
    assert resources.kql == ("resources | where type in~ ('microsoft.containerservice/managedclusters', "
                             "'microsoft.network/natgateways', 'microsoft.network/virtualnetworks') "
                             f"| project {', '.join(COLUMNS)} | order by id asc")
    assert plan_queries([T_FIREWALL]) == plan_queries([T_FIREWALL])
    assert "resourcecontainers | where type =~ 'microsoft.resources/subscriptions'" in subscriptions_query().kql


def test_subscriptions_are_batched_at_most_a_thousand_a_request():
    batches = batched([f"s{i}" for i in range(2500)])
    assert [len(b) for b in batches] == [1000, 1000, 500]
    assert batched([]) == ()
    with pytest.raises(ValueError):
        batched(["a"], 0)


def test_display_names_resolve_case_insensitively_and_refuse_ambiguity():
    visible = subscriptions_from_rows([{"subscriptionId": A, "name": "Prod"}, {"subscriptionId": B, "name": "Dev"},
                                       {"subscriptionId": "not-a-guid", "name": "x"}, "junk"])
    assert resolve_names([" prod "], visible) == (Subscription(A, "Prod"),)
    with pytest.raises(ScopeError, match="'Test'"):
        resolve_names(["Test"], visible)
    with pytest.raises(ScopeError, match="several"):
        resolve_names(["Prod"], visible + (Subscription(B, "prod"),))
    split = split_visible([A.upper(), B, A], (Subscription(A, "Prod"),))
    assert split.readable == (Subscription(A, "Prod"),) and split.unreadable == (B,)


@pytest.mark.parametrize("name,authority,endpoint,scope", [
    ("AzureCloud", "login.microsoftonline.com", "https://management.azure.com", "https://management.azure.com/.default"),
    ("AzureUSGovernment", "login.microsoftonline.us", "https://management.usgovcloudapi.net",
     "https://management.usgovcloudapi.net/.default"),
    ("AzureChinaCloud", "login.chinacloudapi.cn", "https://management.chinacloudapi.cn",
     "https://management.chinacloudapi.cn/.default"),
])
def test_each_cloud_has_its_own_authority_endpoint_and_token_audience(name, authority, endpoint, scope):
    cloud = resolve_cloud(name, {})
    assert (cloud.authority_host, cloud.resource_manager, cloud.scope) == (authority, endpoint, scope)
    assert not cloud.custom_authority


def test_endpoint_overrides_keep_the_audience_and_validate():
    cloud = resolve_cloud("AzureUSGovernment", {AUTHORITY_ENV: "https://login.example.test/",
                                                ARM_ENDPOINT_ENV: "https://arm.example.test/"})
    assert cloud.authority_host == "login.example.test" and cloud.custom_authority
    assert cloud.resource_manager == "https://arm.example.test" and cloud.scope == CLOUDS["AzureUSGovernment"].scope
    assert not resolve_cloud("AzureCloud", {AUTHORITY_ENV: "login.microsoftonline.us"}).custom_authority
    with pytest.raises(CloudError):
        resolve_cloud("AzureCloud", {ARM_ENDPOINT_ENV: "http://plain.example.test"})
    with pytest.raises(CloudError):
        resolve_cloud("AzureGermany", {})


def test_default_credential_uses_the_clouds_authority():
    credential = default_credential(resolve_cloud("AzureChinaCloud", {}))
    assert type(credential).__name__ == "DefaultAzureCredential"
    assert type(default_credential(resolve_cloud("AzureCloud", {AUTHORITY_ENV: "127.0.0.1:1"}))).__name__ \
        == "DefaultAzureCredential"


def test_rule_collection_group_ids_name_their_policy():
    ref = policy_of("/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/firewallPolicies/P/"
                    "ruleCollectionGroups/G")
    assert (ref.subscription_id, ref.resource_group, ref.policy_name) == ("S", "RG", "P")
    assert policy_of("/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/azureFirewalls/F") is None
    assert lacks_rules({"type": T_RCG, "properties": {"priority": 100}})
    assert not lacks_rules({"type": T_RCG, "properties": {"ruleCollections": []}})
    assert not lacks_rules({"type": T_VNET, "properties": {}})


def test_scope_labels_stay_short_for_big_batches():
    assert GraphScope().label() == "tenant"
    assert GraphScope(management_groups=("mg",)).label() == "management group mg"
    assert GraphScope(subscriptions=(A,)).label() == f"subscription {A}"
    assert GraphScope(subscriptions=tuple(f"s{i}" for i in range(1000))).label() == "1000 subscriptions (s0 ... s999)"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_rich_on_a_terminal_plain_in_a_pipe_and_silent_when_quiet():
    assert isinstance(make_progress(quiet=True, stream=_Terminal()), NullProgress)
    pipe = io.StringIO()
    plain = make_progress(stream=pipe)
    assert isinstance(plain, LogProgress)
    plain.started("k", "resources (tenant)")
    plain.page("k", 1, 1000)
    plain.waiting("resources (tenant)", 4.0, "throttled (HTTP 429)")
    plain.finished("k", 2, 1500)
    assert pipe.getvalue().splitlines() == [
        "aksaudit: resources (tenant): throttled (HTTP 429); waiting 4.0s",
        "aksaudit: resources (tenant): 1500 row(s) in 2 page(s), done",
    ]
    terminal = _Terminal()
    rich = make_progress(stream=terminal)
    assert isinstance(rich, RichProgress)
    rich.started("k", "networkresources (tenant)")
    rich.page("k", 1, 2)
    rich.finished("k", 1, 2, error="page 2 lost")
    rich.close()
    assert "networkresources (tenant)" in terminal.getvalue() and "incomplete" in terminal.getvalue()


def test_arm_retries_fit_the_retry_budget():
    """The SDK's retries of one ARM read: none for a budget of 0, more for a larger budget, never
    more than azure-core's own default, and an absolute timeout at the budget."""
    from azure.core.pipeline.policies import RetryPolicy as SdkRetryPolicy

    from aksaudit.collect.clients import arm_retry_options
    assert arm_retry_options(None) == {}
    assert arm_retry_options(0) == {"retry_total": 0}
    budgets = (0.5, 2, 10, 60, 300, 3600, 86400)
    totals = [arm_retry_options(b)["retry_total"] for b in budgets]
    assert totals == sorted(totals) and totals[0] >= 1 and totals[-1] == SdkRetryPolicy().total_retries
    assert all(arm_retry_options(b)["timeout"] == b for b in budgets)
    # What the retries sleep (azure-core: at once, then factor * 2**n) stays within half the budget.
    sdk = SdkRetryPolicy()
    for budget in budgets:
        waits = [0.0] + [min(sdk.backoff_max, sdk.backoff_factor * 2 ** n) for n in range(1, arm_retry_options(budget)["retry_total"])]
        assert sum(waits) <= budget / 2
