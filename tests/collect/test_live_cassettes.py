"""Live collection replayed offline from cassettes, through the real SDKs (record_mode="none").

azure-identity's client-secret flow, ResourceGraphClient and NetworkManagementClient run for
real against recorded HTTP with their production endpoints; nothing of ours or the SDKs' is
patched. Each test also checks that every recorded request was sent, so a retry or a page the
collector skipped cannot go unnoticed. Finding sets are compared with the same estate scanned
from its file.
"""
from __future__ import annotations

import json

import pytest
import yaml
from azure.identity import ClientSecretCredential

from aksaudit.analysis.why import find_cluster, parse_destination, why
from aksaudit.collect.clients import connect
from aksaudit.collect.clouds import CLOUDS
from aksaudit.collect.snapshot import estate_of
from aksaudit.model.estate import build_estate

from emulator import FakeClock
from emulator.recording import make_vcr
from emulator.scenarios import CASSETTES, CHANGES, CLIENT_ID, HUB, MANAGEMENT_GROUP, NAMES, SCENARIOS, SPOKE
from emulator.tenant import FAKE_TENANT, subscription_of
from live_support import estate_rows, expected_findings, finding_set, ids_of, scan, scan_snapshot


def replay(name: str):
    """Collect as the scenario did when recorded; return the snapshot and the fake clock."""
    snapshot, _, clock = replay_all(name)
    return snapshot, clock


def replay_all(name: str):
    """The snapshot, the change history (None unless the scenario reads one) and the fake clock."""
    scenario = SCENARIOS[name]
    credential = ClientSecretCredential(FAKE_TENANT, CLIENT_ID, "not-the-recorded-secret",
                                        authority="login.microsoftonline.com", disable_instance_discovery=True)
    clients = connect(CLOUDS["AzureCloud"], credential)
    clock = FakeClock()
    with make_vcr(CASSETTES, record_mode="none").use_cassette(scenario.cassette.name) as cassette:
        snapshot, history = scenario.collect_all(clients, clock)
    unplayed = [request.uri for index, (request, _) in enumerate(cassette.data) if not cassette.play_counts[index]]
    assert not unplayed, f"recorded requests never sent: {unplayed}"
    return snapshot, history, clock


@pytest.fixture(scope="module")
def expected_drifted(registry, expected_examples):
    return expected_findings(registry, expected_examples)


def test_single_subscription_reads_exactly_that_subscription(registry):
    snapshot, _ = replay("single_subscription")
    assert snapshot.complete and snapshot.gaps == ()
    assert ids_of(snapshot.rows) == ids_of(estate_rows([SPOKE]))
    assert snapshot.scope_labels == (f"subscription:{SPOKE}",)
    assert finding_set(registry, snapshot.rows) == finding_set(registry, estate_rows([SPOKE]))


def test_queries_ask_only_for_needed_types_and_columns_in_stable_order():
    snapshot, _ = replay("single_subscription")
    queries = {q["table"]: q["query"] for q in snapshot.meta["queries"]}
    assert set(queries) == {"resourcecontainers", "resources", "networkresources"}
    assert "microsoft.network/firewallpolicies/rulecollectiongroups" in queries["networkresources"]
    assert "rulecollectiongroups" not in queries["resources"]
    for kql in queries.values():
        assert "| project id," in kql and kql.endswith("| order by id asc")


def test_management_group_scan_finds_what_the_snapshot_scan_finds(registry, expected_drifted):
    snapshot, _ = replay("management_group")
    assert snapshot.complete
    assert snapshot.scope_labels == (f"managementGroup:{MANAGEMENT_GROUP}",)
    assert ids_of(snapshot.rows) == ids_of(estate_rows())
    assert finding_set(registry, snapshot.rows) == expected_drifted == finding_set(registry, estate_rows())


def test_three_pages_are_followed_through_skip_tokens(registry, expected_drifted):
    snapshot, _ = replay("three_page_pagination")
    pages = {q["table"]: q["pages"] for q in snapshot.meta["queries"]}
    assert pages["resources"] == 3
    assert snapshot.complete and ids_of(snapshot.rows) == ids_of(estate_rows())
    assert finding_set(registry, snapshot.rows) == expected_drifted


def test_429_with_quota_headers_waits_for_the_quota_reset_then_succeeds(registry, expected_drifted):
    snapshot, clock = replay("throttled_quota_headers")
    assert snapshot.complete
    assert any(wait >= 3.0 for wait in clock.sleeps), clock.sleeps  # resets-after 00:00:03
    assert finding_set(registry, snapshot.rows) == expected_drifted


def test_429_without_retry_after_is_retried_by_our_own_back_off(registry, expected_drifted):
    snapshot, clock = replay("throttled_no_retry_after")
    assert snapshot.complete
    assert clock.sleeps and all(0 < wait <= 1.0 for wait in clock.sleeps)  # first back-off step: 0.5-1 s
    assert finding_set(registry, snapshot.rows) == expected_drifted


def test_forbidden_subscription_is_a_named_gap_and_the_rest_is_audited(registry):
    snapshot, _ = replay("forbidden_subscription")
    assert not snapshot.complete
    assert snapshot.unreadable_scopes == (SPOKE,)
    assert any(SPOKE in gap and "not readable" in gap for gap in snapshot.gaps)
    assert {subscription_of(r["id"]) for r in snapshot.rows} == {HUB}
    result = scan(registry, snapshot.rows, snapshot.unreadable_scopes, snapshot.gaps)
    assert not result.complete
    assert finding_set(registry, snapshot.rows) == finding_set(registry, estate_rows([HUB]))


def test_truncated_result_makes_the_snapshot_incomplete(registry):
    snapshot, _ = replay("result_truncated")
    assert not snapshot.complete
    assert any("resultTruncated" in gap and gap.startswith("resources") for gap in snapshot.gaps)
    assert ids_of(snapshot.rows) < ids_of(estate_rows())
    assert not scan(registry, snapshot.rows, snapshot.unreadable_scopes, snapshot.gaps).complete


def test_rule_collection_groups_without_rules_are_completed_through_arm(registry):
    snapshot, _ = replay("rule_group_fallback")
    assert snapshot.complete
    groups = [r for r in snapshot.rows if r["type"] == "microsoft.network/firewallpolicies/rulecollectiongroups"]
    assert groups and all("ruleCollections" in g["properties"] for g in groups)
    assert {i.lower() for i in snapshot.meta["rule_collection_groups_from_arm"]} == ids_of(groups)
    result = scan(registry, snapshot.rows)
    assert result.skipped == ()
    assert finding_set(registry, snapshot.rows) == finding_set(registry, estate_rows([HUB]))
    assert {f[0] for f in finding_set(registry, snapshot.rows)} >= {"FW003", "FW004"}


def test_subscription_display_names_resolve_to_ids(registry, expected_drifted):
    snapshot, _ = replay("subscription_name_resolution")
    assert snapshot.complete
    assert snapshot.meta["subscription_names"] == NAMES
    assert snapshot.scope_labels == (f"subscription:{HUB}", f"subscription:{SPOKE}")
    assert finding_set(registry, snapshot.rows) == expected_drifted


def test_change_history_comes_from_both_change_tables_newest_first(registry, expected_drifted):
    snapshot, history, _ = replay_all("change_history")
    assert snapshot.complete and finding_set(registry, snapshot.rows) == expected_drifted
    assert history.errors == () and dict(history.unavailable) == {}
    rows = json.loads(CHANGES.read_text())
    wanted = {i.lower() for i in SCENARIOS["change_history"].change_ids}
    expected = {(r["properties"]["targetResourceId"].lower(), r["properties"]["changeAttributes"]["timestamp"])
                for r in rows if r["properties"]["targetResourceId"].lower() in wanted}
    got = {(target, c.timestamp) for target, changes in history.changes.items() for c in changes}
    assert got == expected and any("/rulecollectiongroups/" in target for target, _ in got)
    route = next(i for i in SCENARIOS["change_history"].change_ids if i.endswith("/routes/default-to-afw"))
    changes, reasons = history.of([route, route.rsplit("/routes/", 1)[0]])
    assert reasons == [] and [c.timestamp for c in changes] == sorted((c.timestamp for c in changes), reverse=True)
    latest = changes[0]
    assert (latest.changed_by, latest.client_type, latest.operation) == (
        "jordan.lee@contoso.com", "Azure Portal", "Microsoft.Network/routeTables/routes/write")
    assert {c.record_id.rsplit("/", 1)[-1] for c in changes} == {
        r["name"] for r in rows if r["properties"]["targetResourceId"].lower() in {route.lower(),
                                                                                  route.rsplit("/routes/", 1)[0].lower()}}


def test_every_scenario_has_a_cassette_without_secrets():
    for scenario in SCENARIOS.values():
        text = scenario.cassette.read_text()
        interactions = yaml.safe_load(text)["interactions"]
        for interaction in interactions:
            assert {h.lower() for h in interaction["request"]["headers"]} <= {"content-type", "accept"}
        assert "Bearer " not in text and "emulator-recording-secret" not in text
        assert "client_secret=REDACTED" in text and "127.0.0.1" not in text


def _vwan_rows(types):
    from emulator.scenarios import VWAN_ESTATE
    return [r for r in json.loads(VWAN_ESTATE.read_text()) if r["type"] in types]


def test_routing_intent_and_hub_connections_are_listed_per_hub_through_arm(registry):
    from emulator.scenarios import VWAN_TYPES
    snapshot, _ = replay("vwan_hub_lookups")
    assert snapshot.complete and snapshot.gaps == ()
    expected = _vwan_rows(VWAN_TYPES)
    assert ids_of(snapshot.rows) == ids_of(expected)
    hub_rows = [r for r in snapshot.rows if r["type"].startswith("microsoft.network/virtualhubs/")]
    assert {r["type"] for r in hub_rows} == {"microsoft.network/virtualhubs/routingintent",
                                             "microsoft.network/virtualhubs/hubvirtualnetworkconnections"}
    by_id = {r["id"].lower(): r for r in expected}
    assert all(r["properties"] == by_id[r["id"].lower()]["properties"] for r in hub_rows)
    assert {d.split(" of ")[0] for d in snapshot.meta["read_from_arm"]} == {
        "routing intent", "hub route tables", "hub virtual network connections"}
    assert set(snapshot.meta["virtual_hub_lookups"].values()) == {""}
    assert finding_set(registry, snapshot.rows) == finding_set(registry, expected)
    assert "UDR001" not in {f[0] for f in finding_set(registry, snapshot.rows)}


def test_unreadable_routing_intent_is_a_named_gap(registry):
    snapshot, _ = replay("vwan_routing_intent_forbidden")
    assert not snapshot.complete
    assert any("its routing intent could not be read" in g and "AuthorizationFailed" in g for g in snapshot.gaps)
    assert any("its hub virtual network connections could not be read" in g for g in snapshot.gaps)
    assert any("its hub route tables could not be read" in g for g in snapshot.gaps)
    assert not any(r["type"].startswith("microsoft.network/virtualhubs/") for r in snapshot.rows)
    assert not scan(registry, snapshot.rows, snapshot.unreadable_scopes, snapshot.gaps).complete
    # The spokes the hub may steer are not judged unsteered: their verdicts wait for the hub.
    hub = next(r["id"] for r in snapshot.rows if r["type"] == "microsoft.network/virtualhubs")
    assert "AuthorizationFailed" in snapshot.meta["virtual_hub_lookups"][hub]
    result = scan_snapshot([registry.by_id()[c] for c in ("UDR001", "UDR002", "AKS003")], snapshot)
    assert not {f.check_id for f in result.findings} & {"UDR001", "UDR002"}
    spoke_subnets = {s["id"].lower() for r in snapshot.rows if r["type"] == "microsoft.network/virtualnetworks"
                     and "spoke" in r["name"] for s in r["properties"]["subnets"]
                     if "aks" in s["name"]}
    skipped_udr001 = {s.resource_id.lower() for s in result.skipped if s.check_id == "UDR001"}
    assert skipped_udr001 and skipped_udr001 <= spoke_subnets
    assert all("AuthorizationFailed" in s.reason for s in result.skipped if s.check_id == "UDR001")
    clusters = {r["id"].lower() for r in snapshot.rows if r["type"] == "microsoft.containerservice/managedclusters"}
    assert {s.resource_id.lower() for s in result.skipped if s.check_id == "AKS003"} == clusters


def test_hub_route_tables_are_listed_per_hub_and_steer_the_classic_secured_hub(registry):
    """Routing intent off: the hub's defaultRouteTable (0.0.0.0/0 -> hub firewall) comes from ARM's
    hubRouteTables list through the real SDK, and steers the spokes as the snapshot file does."""
    from emulator.scenarios import VWAN_CLASSIC_ESTATE, VWAN_TYPES
    snapshot, _ = replay("vwan_classic_hub_route_tables")
    assert snapshot.complete and snapshot.gaps == ()
    expected = [r for r in json.loads(VWAN_CLASSIC_ESTATE.read_text()) if r["type"] in VWAN_TYPES]
    assert ids_of(snapshot.rows) == ids_of(expected)
    tables = {r["id"].lower(): r for r in snapshot.rows if r["type"] == "microsoft.network/virtualhubs/hubroutetables"}
    assert {i.rsplit("/", 1)[-1] for i in tables} == {"defaultroutetable", "noneroutetable"}
    by_id = {r["id"].lower(): r for r in expected}
    assert all(r["properties"] == by_id[i]["properties"] for i, r in tables.items())
    assert finding_set(registry, snapshot.rows) == finding_set(registry, expected) == set()


def test_unreadable_hub_route_tables_are_a_named_gap_and_the_spokes_wait(registry):
    snapshot, _ = replay("vwan_hub_route_tables_forbidden")
    assert not snapshot.complete
    assert [g for g in snapshot.gaps if "hub route tables could not be read" in g and "AuthorizationFailed" in g]
    assert not [g for g in snapshot.gaps if "routing intent could not" in g or "connections could not" in g]
    hub = next(r["id"] for r in snapshot.rows if r["type"] == "microsoft.network/virtualhubs")
    assert "hub route tables" in snapshot.meta["virtual_hub_lookups"][hub]
    result = scan_snapshot([registry.by_id()[c] for c in ("UDR001", "UDR002")], snapshot)
    assert not {f.check_id for f in result.findings} & {"UDR001", "UDR002"}
    assert {s.check_id for s in result.skipped} == {"UDR001", "UDR002"}
    assert all("hub route tables could not be read" in s.reason for s in result.skipped)


def test_outbound_endpoints_come_from_the_aks_api_as_rows_per_category():
    from emulator.scenarios import ENDPOINT_ROWS
    snapshot, _ = replay("outbound_endpoints")
    assert snapshot.complete
    got = {r["id"].lower(): r for r in snapshot.rows
           if r["type"] == "microsoft.containerservice/managedclusters/outboundnetworkdependenciesendpoints"}
    assert set(got) == {r["id"].lower() for r in ENDPOINT_ROWS}
    assert all(got[r["id"].lower()]["properties"] == r["properties"] for r in ENDPOINT_ROWS)
    assert len([d for d in snapshot.meta["read_from_arm"] if d.startswith("outbound")]) == 2  # both clusters answered


def test_outbound_endpoints_unavailable_is_a_warning_not_a_gap(registry):
    snapshot, _ = replay("outbound_endpoints_unavailable")
    assert snapshot.complete and snapshot.gaps == ()
    warnings = snapshot.meta["warnings"]
    assert len(warnings) == 2 and all("documented list of required FQDNs" in w for w in warnings)
    from emulator.scenarios import ENDPOINT_TYPES
    assert finding_set(registry, snapshot.rows) == finding_set(registry, _vwan_rows(ENDPOINT_TYPES))


# --- effective routes (--effective-routes) ----------------------------------------------------------

def _routes_estate():
    from emulator.scenarios import ROUTES_ESTATE
    return json.loads(ROUTES_ESTATE.read_text())


def _subnet_of(rows, name):
    return next(s["id"] for r in rows if r["type"] == "microsoft.network/virtualnetworks"
                for s in r["properties"]["subnets"] if s["name"] == name)


def test_effective_routes_are_read_per_aks_subnet_through_the_sdk_poller(registry):
    """The LRO (202, Azure-AsyncOperation polled until Succeeded, result from Location) through the
    real SDK: one row per AKS node subnet, the routes as the network API gave them, and UDR009 fails
    exactly the subnet where a gateway-learned 0.0.0.0/0 wins over the table's routes."""
    snapshot, _ = replay("effective_routes")
    assert snapshot.complete and snapshot.gaps == ()
    estate = _routes_estate()
    expected = {r["id"].lower(): r for r in estate if r["type"] == "microsoft.network/networkinterfaces/effectiveroutetable"}
    got = {r["id"].lower(): r for r in snapshot.rows if r["type"] == "microsoft.network/networkinterfaces/effectiveroutetable"}
    assert set(got) == set(expected)
    assert all(got[i]["properties"]["routes"] == expected[i]["properties"]["routes"] for i in got)
    assert all(got[i]["properties"]["subnetId"].lower() == expected[i]["properties"]["subnetId"].lower() for i in got)
    assert set(snapshot.meta["effective_route_lookups"].values()) == {""}
    assert snapshot.meta["arm_lookups"]["effective route tables"]["made"] == 2
    result = scan_snapshot([registry.by_id()[c] for c in ("UDR009", "UDR010")], snapshot)
    hybrid = _subnet_of(estate, "snet-hybrid")
    assert {(f.check_id, f.resource_id.lower()) for f in result.findings} == {("UDR009", hybrid.lower())}
    finding = result.findings[0]
    assert {d["azure"]["source"] for d in finding.evidence["disagreements"]} == {"VirtualNetworkGateway"}
    assert finding.evidence["disagreements"][0]["model"]["steered_to"] == ""
    # The agreeing subnet fails neither check (UDR010's risk is settled by the routes read), and
    # nothing is left unjudged.
    assert not result.skipped and result.complete


def test_a_role_without_the_effective_route_permission_is_a_named_gap(registry):
    snapshot, _ = replay("effective_routes_forbidden")
    assert not snapshot.complete
    permission = "Microsoft.Network/networkInterfaces/effectiveRouteTable/action"
    gaps = [g for g in snapshot.gaps if "effective routes could not be read" in g]
    assert len(gaps) == 2 and all(permission in g and "AuthorizationFailed" in g for g in gaps)
    assert not [r for r in snapshot.rows if r["type"] == "microsoft.network/networkinterfaces/effectiveroutetable"]
    result = scan_snapshot([registry.by_id()["UDR009"]], snapshot)
    assert not result.complete and not result.findings
    estate = _routes_estate()
    assert {s.resource_id.lower() for s in result.skipped} == {
        _subnet_of(estate, n).lower() for n in ("snet-nodes", "snet-hybrid")}
    assert all(permission in s.reason for s in result.skipped)


WHY_QUESTIONS = [("aks-analytics-prod", "20.1.2.3:22", None), ("aks-analytics-prod", "mcr.microsoft.com", None),
                 ("aks-analytics-prod", "ghcr.io", "140.82.121.34"), ("aks-payments-prod", "8.8.8.8:53/udp", None),
                 ("aks-payments-staging", "security.ubuntu.com:80", None)]


@pytest.mark.parametrize("cluster, to, ip", WHY_QUESTIONS)
def test_why_on_a_replayed_collection_answers_as_on_the_estate_file(cluster, to, ip):
    """`aksaudit why` over a live collection (recorded, replayed through the real SDKs) gives the
    answer it gives over the same rows read from the file: verdict, hops, deciding rule, notes."""
    snapshot, _ = replay("management_group")
    assert snapshot.complete
    destination = parse_destination(to, ip, None)
    live_estate = estate_of(snapshot)
    live = why(live_estate, find_cluster(live_estate, cluster), destination)
    offline_estate = build_estate(estate_rows())
    offline = why(offline_estate, find_cluster(offline_estate, cluster), destination)
    assert live.as_dict() == offline.as_dict()
