"""Who changed it: Resource Graph change records on new findings and DRIFT001, end to end.

The CLI runs as users run it (a subprocess, DefaultAzureCredential from the environment) against
the HTTPS emulator serving the drifted estate plus its `resourcechanges` rows. Offline scans say
the history is unavailable; a failed change query is a warning, never a gap.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from aksaudit.results.change_history import OFFLINE_REASON, lineage

from conftest import EXAMPLES, aksaudit_cmd
from emulator import Behaviour, Emulator, Fault
from emulator.scenarios import CHANGES, HUB, SCENARIOS, SPOKE
from renderers import html_text
from test_cli import SCHEMA
from test_live_cli import run

DATA = Path(__file__).parents[1] / "data"
APPROVED_ESTATE = EXAMPLES / "hub-spoke.json"
ROUTE = ("/subscriptions/e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64/resourceGroups/rg-spoke-payments-weu/providers/"
         "Microsoft.Network/routeTables/rt-spoke-payments-egress/routes/default-to-afw")
CHANGE_ROWS = json.loads(CHANGES.read_text())


def record_ids(targets) -> set[str]:
    """The change records (by id) whose target is one of these resources."""
    wanted = {t.lower() for t in targets}
    return {r["id"].lower() for r in CHANGE_ROWS if r["properties"]["targetResourceId"].lower() in wanted}


@pytest.fixture
def emulator():
    instance = Emulator(SCENARIOS["change_history"].tenant(), Behaviour()).start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def approved(tmp_path_factory):
    path = tmp_path_factory.mktemp("approval") / "egress-baseline.json"
    assert run_offline("baseline", "approve", "--snapshot", str(APPROVED_ESTATE), "-o", str(path)).returncode == 0
    return path


def run_offline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, timeout=120)


def live_scan(emulator, *args: str) -> tuple[int, dict, str]:
    proc = run(emulator, "scan", "--subscription", HUB, "--subscription", SPOKE, *args, "--json", "-", "--quiet")
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def by_check(document: dict, check_id: str) -> dict[str, dict]:
    return {f["resource_id"].rsplit("/", 1)[-1]: f for f in document["findings"] if f["check_id"] == check_id}


def history_ids(finding: dict) -> set[str]:
    history = finding["evidence"]["change_history"]
    assert history["available"] is True, history
    return {_record_id(change) for change in history["changes"]}


def _record_id(change: dict) -> str:
    """A change in evidence names its target and time; find the record it came from."""
    for row in CHANGE_ROWS:
        props = row["properties"]
        if (props["targetResourceId"].lower() == change["resource_id"].lower()
                and props["changeAttributes"]["timestamp"] == change["timestamp"]):
            return row["id"].lower()
    raise AssertionError(f"no change record for {change}")


def test_drift_and_new_findings_carry_who_and_when(emulator, approved):
    code, document, stderr = live_scan(emulator, "--approved", str(approved))
    assert code == 1 and document["scan"]["complete"] is True, document["scan"]["errors"]
    jsonschema.Draft202012Validator(SCHEMA).validate(document)

    udr004 = by_check(document, "UDR004")["default-to-afw"]
    assert history_ids(udr004) == record_ids(lineage(ROUTE))
    newest = udr004["evidence"]["change_history"]["changes"][0]
    assert newest["changed_by"] == "jordan.lee@contoso.com" and newest["client_type"] == "Azure Portal"
    assert newest["operation"] == "Microsoft.Network/routeTables/routes/write"
    assert newest["resource_id"].lower() == ROUTE.rsplit("/routes/", 1)[0].lower()  # the table's record, a second later
    assert {(p["path"], p["previous_value"], p["new_value"]) for p in newest["properties"]} == {
        ("properties.routes[0].properties.nextHopIpAddress", "10.0.1.4", "10.0.1.5")}
    route_change = udr004["evidence"]["change_history"]["changes"][1]
    assert route_change["resource_id"] == ROUTE and route_change["change_type"] == "Update"
    assert route_change["properties"] == [{"path": "properties.nextHopIpAddress", "previous_value": "10.0.1.4",
                                           "new_value": "10.0.1.5"}]
    times = [c["timestamp"] for c in udr004["evidence"]["change_history"]["changes"]]
    assert times == sorted(times, reverse=True)

    drift = by_check(document, "DRIFT001")
    assert set(drift) == {"aks-payments-prod", "aks-payments-staging", "aks-analytics-prod"}
    route_table = ROUTE.rsplit("/routes/", 1)[0]
    for name in ("aks-payments-prod", "aks-payments-staging"):
        assert record_ids([ROUTE, route_table]) <= history_ids(drift[name])
    analytics = history_ids(drift["aks-analytics-prod"])
    rcg_records = {r["id"].lower() for r in CHANGE_ROWS if "/rulecollectiongroups/" in r["id"].lower()}
    vnet_records = {r["id"].lower() for r in CHANGE_ROWS if "vnet-spoke-analytics-weu" in r["id"]}
    assert rcg_records and vnet_records and rcg_records | vnet_records <= analytics
    assert not any("vnet-hub-weu" in i for i in analytics)  # a change to an unrelated resource stays out

    fw003 = next(iter(by_check(document, "FW003").values()))
    assert history_ids(fw003) == rcg_records
    assert fw003["evidence"]["change_history"]["changes"][0]["changed_by"] == "sam.ortiz@contoso.com"

    sent = [r.body["query"] for r in emulator.graph_requests() if isinstance(r.body, dict)]
    change_queries = [q for q in sent if "changes |" in q]
    assert {q.split(" ", 1)[0] for q in change_queries} == {"resourcechanges", "networkresourcechanges"}
    assert all("/rulecollectiongroups/" in q for q in change_queries if q.startswith("networkresourcechanges"))
    assert not any("/rulecollectiongroups/" in q for q in change_queries if q.startswith("resourcechanges"))


def test_unchanged_findings_get_no_history_but_drift_still_does(emulator, approved, tmp_path):
    _, first, _ = live_scan(emulator)
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(first))
    _, document, _ = live_scan(emulator, "--baseline", str(previous), "--approved", str(approved))
    states = {(f["check_id"], f["baseline_state"], "change_history" in f["evidence"]) for f in document["findings"]}
    assert ("UDR004", "unchanged", False) in states
    assert {s for s in states if s[0] == "DRIFT001"} == {("DRIFT001", "new", True)}
    assert not [s for s in states if s[1] == "unchanged" and s[2]]


def test_failed_change_query_is_a_warning_and_says_unavailable(emulator, approved):
    emulator.add_fault(Fault("error", status=503, table="resourcechanges", times=-1))
    code, document, _ = live_scan(emulator, "--retry-budget", "0")
    assert code == 1 and document["scan"]["complete"] is True and document["scan"]["errors"] == []
    assert any(w.startswith("change history unavailable: resourcechanges (") and "HTTP 503" in w
               for w in document["scan"]["warnings"])
    history = by_check(document, "UDR004")["default-to-afw"]["evidence"]["change_history"]
    assert history["available"] is False and "HTTP 503" in history["reason"]
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    # The rule collection group's history comes from the other table, which answered.
    fw003 = next(iter(by_check(document, "FW003").values()))
    assert fw003["evidence"]["change_history"]["available"] is True


def test_offline_scan_says_history_is_unavailable(tmp_path):
    proc = run_offline("scan", "--snapshot", str(EXAMPLES / "hub-spoke-drifted.json"), "--json", "-", "--quiet")
    document = json.loads(proc.stdout)
    assert document["findings"]
    assert {json.dumps(f["evidence"]["change_history"], sort_keys=True) for f in document["findings"]} == {
        json.dumps({"available": False, "reason": OFFLINE_REASON}, sort_keys=True)}


def test_lineage_walks_up_to_the_top_level_resource():
    assert lineage(ROUTE) == [ROUTE, ROUTE.rsplit("/routes/", 1)[0]]
    top = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/azureFirewalls/afw"
    assert lineage(top) == [top]


def test_sarif_message_and_html_detail_say_who_and_when(emulator, approved, tmp_path):
    sarif_path, html_path = tmp_path / "scan.sarif", tmp_path / "report.html"
    proc = run(emulator, "scan", "--subscription", HUB, "--subscription", SPOKE, "--approved", str(approved),
               "--sarif", str(sarif_path), "--html", str(html_path), "--quiet")
    assert proc.returncode == 1, proc.stderr
    log = json.loads(sarif_path.read_text())
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    messages = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r["message"]["text"]
                for r in log["runs"][0]["results"]}
    assert messages[("UDR004", "default-to-afw")].endswith(
        "\nLast change: 2026-11-24T21:47:13.105Z by jordan.lee@contoso.com (Microsoft.Network/routeTables/routes/write)")
    assert "\nLast change: " in messages[("DRIFT001", "aks-analytics-prod")]

    browser_support = pytest.importorskip("browser_support")
    sync_api = pytest.importorskip("playwright.sync_api")
    from conftest import require_tool
    executable = require_tool(browser_support.chromium_path(), "chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = browser_support.launch(playwright, executable)
        try:
            page = browser_support.open_report(browser, html_path).page
            page.click("#rows tr[data-check=UDR004]")
            detail = " ".join(page.inner_text("#detail").split())
        finally:
            browser.close()
    assert "Who changed it".upper() in detail.upper()
    assert ("2026-11-24T21:47:12.339Z · Update by jordan.lee@contoso.com (Azure Portal, "
            "Microsoft.Network/routeTables/routes/write)") in detail
    assert "properties.nextHopIpAddress: 10.0.1.4 → 10.0.1.5" in detail
    assert "change_history" not in detail  # shown as prose, not as a raw evidence key


def test_offline_html_says_history_unavailable(tmp_path):
    html_path = tmp_path / "report.html"
    run_offline("scan", "--snapshot", str(EXAMPLES / "hub-spoke-drifted.json"), "--html", str(html_path), "--quiet")
    assert "change history needs a live scan" in html_text(html_path.read_text())


def test_refused_token_on_the_change_query_costs_the_history_not_the_scan(emulator):
    emulator.add_fault(Fault("error", status=401, code="InvalidAuthenticationToken", table="resourcechanges",
                             times=-1))
    code, document, stderr = live_scan(emulator)
    assert code == 1 and document["scan"]["complete"] is True and "Traceback" not in stderr
    history = by_check(document, "UDR004")["default-to-afw"]["evidence"]["change_history"]
    assert history["available"] is False and "HTTP 401" in history["reason"]
    assert any(w.startswith("change history unavailable: HTTP 401") for w in document["scan"]["warnings"])


def test_source_arm_sends_no_change_query_and_says_why(emulator):
    proc = run(emulator, "scan", "--source", "arm", "--subscription", HUB, "--subscription", SPOKE, "--json", "-",
               "--quiet")
    document = json.loads(proc.stdout)
    assert document["scan"]["complete"] is True, document["scan"]["errors"]
    assert emulator.graph_requests() == []
    history = by_check(document, "UDR004")["default-to-afw"]["evidence"]["change_history"]
    assert history["available"] is False and history["reason"].startswith("--source arm:")
