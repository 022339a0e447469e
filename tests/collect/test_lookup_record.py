"""Which ARM lookups a live scan makes, which it leaves out and why, and the result's record of them.

Through the emulator, on a generated hub-and-spoke estate where some hubs' firewalls lack AKS's
required egress and others let everything through, with every cluster's own dependency list
served by the AKS API (the documented categories plus names drawn per cluster, some of which
the firewalls deny). The property: leaving out the lookups the rules settle never changes a
finding, and the lookups left out are exactly the ones not sent. The result's `scan.lookups`
says so per kind, validates against the schema, and counts failures (each named in warnings).
"""
from __future__ import annotations

import json
import random
import sys

import pytest
from azure.identity import ClientSecretCredential

from aksaudit.collect.clients import connect
from aksaudit.collect.clouds import ARM_ENDPOINT_ENV, resolve_cloud
from aksaudit.collect.live import LiveOptions, ScopeRequest, collect_live
from aksaudit.collect.live_only import ENDPOINTS
from aksaudit.collect.rule_groups import RULE_GROUPS
from aksaudit.collect.snapshot import estate_of
from aksaudit.run.engine import run_scan
from aksaudit.run.registry import load_registry
from aksaudit.model.resources import T_CLUSTER, T_OUTBOUND_ENDPOINTS
from aksaudit.run.result_json import document
from aksaudit.run.result_schema import first_problem
from aksaudit.run.sources import required_types, settler
from conftest import ROOT

from emulator import Behaviour, Emulator, Fault, FakeClock, Tenant
from emulator.scenarios import CLIENT_ID, RECORDING_SECRET

sys.path.insert(0, str(ROOT / "benchmarks"))
from estate import Plan, write_estate  # noqa: E402

# Names a real list may hold beyond the documented ones (add-ons, OS updates), and names the
# generated firewalls deny or allow by pattern: a list drawing from them tests both directions.
EXTRA_NAMES = ("dc.services.visualstudio.com", "security.ubuntu.com", "api1.tools.contoso-platform.net",
               "blocked.example.com", "data.policy.core.windows.net", "nvidia.github.io")


def _lists(rows: list[dict], seed: int) -> list[dict]:
    """Each cluster's own dependency list, as the AKS API answers it, categories per AKS's docs."""
    draw = random.Random(seed)
    found = []
    for row in rows:
        if str(row.get("type", "")).lower() != T_CLUSTER:
            continue
        categories = {"azure-resource-management": ["management.azure.com", "login.microsoftonline.com"],
                      "images": ["mcr.microsoft.com", "*.data.mcr.microsoft.com"],
                      "artifacts": ["packages.microsoft.com", "acs-mirror.azureedge.net"],
                      "apiserver": [f"{row['name']}-dns.hcp.{row.get('location', 'westeurope')}.azmk8s.io"],
                      "extra": draw.sample(EXTRA_NAMES, draw.randint(0, 3))}
        for category, names in categories.items():
            found.append({"id": f"{row['id']}/outboundNetworkDependenciesEndpoints/{category}", "name": category,
                          "type": T_OUTBOUND_ENDPOINTS, "subscriptionId": row.get("subscriptionId", ""),
                          "properties": {"category": category, "endpoints": [
                              {"domainName": n, "endpointDetails": [{"port": 443, "protocol": "Https"}]}
                              for n in names]}})
    return found


@pytest.fixture(scope="module")
def estate_rows(tmp_path_factory):
    path = tmp_path_factory.mktemp("estate") / "estate.json"
    manifest = write_estate(Plan(clusters=24, spokes_per_hub=4, aks_egress_blocked=True, misconfig_rate=0.3), path)
    rows = json.loads(path.read_text(encoding="utf-8"))
    return rows, manifest


@pytest.fixture
def served(estate_rows, monkeypatch):
    rows, manifest = estate_rows
    clock = FakeClock()
    tenant = Tenant(rows=[*rows, *_lists(rows, seed=7)], subscription_names=dict(manifest.subscription_names),
                    management_groups={k: list(v) for k, v in manifest.management_groups.items()})
    emulator = Emulator(tenant, Behaviour(), clock=clock.now).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)
    credential = ClientSecretCredential(tenant.tenant_id, CLIENT_ID, RECORDING_SECRET, authority=emulator.url,
                                        disable_instance_discovery=True)
    clients = connect(resolve_cloud("AzureCloud", {ARM_ENDPOINT_ENV: emulator.url}), credential)
    yield clients, clock, emulator
    emulator.stop()


CHECKS = load_registry().checks


def _scan(clients, clock, settle):
    snapshot = collect_live(required_types(CHECKS), ScopeRequest(), clients, clock=clock, rand=lambda: 1.0,
                            options=LiveOptions(settle=settle))
    return snapshot, run_scan(estate_of(snapshot), CHECKS, meta=snapshot.meta)


def _endpoint_requests(emulator) -> set[str]:
    return {r.path.lower().split("/outbound")[0] for r in emulator.records
            if "outboundnetworkdependenciesendpoints" in r.path.lower()}


def test_lookups_the_rules_settle_are_not_sent_and_change_no_finding(served):
    clients, clock, emulator = served
    every_snapshot, every = _scan(clients, clock, None)
    asked_every = _endpoint_requests(emulator)
    emulator.records.clear()
    settled_snapshot, settled = _scan(clients, clock, settler(CHECKS))
    asked_settled = _endpoint_requests(emulator)
    assert every.complete and settled.complete, (every.errors, settled.errors)
    assert {f.key for f in settled.findings} == {f.key for f in every.findings}
    assert {f.key for f in every.findings if f.check_id == "AKS003"}  # the estate does fail AKS003 somewhere
    record = settled_snapshot.meta["arm_lookups"][ENDPOINTS]
    left_out = sum(record.get("skipped", {}).values())
    assert asked_settled < asked_every and len(asked_every - asked_settled) == left_out
    assert record["made"] == len(asked_settled) and record["failed"] == 0
    assert any("cannot change AKS003's verdict" in reason for reason in record["skipped"])


def test_the_result_records_each_kind_made_skipped_and_failed(served):
    clients, clock, emulator = served
    emulator.tenant.rule_groups_without_rules = True  # rule collection groups come without rules: ARM fills them in
    emulator.add_fault(Fault("error", route="arm", table="outboundnetworkdependenciesendpoints", times=2, status=404,
                             code="ResourceNotFound"))
    snapshot, result = _scan(clients, clock, settler(CHECKS))
    doc = document(result)
    assert first_problem(doc) is None
    lookups = {item["kind"]: item for item in doc["scan"]["lookups"]}
    endpoints = lookups[ENDPOINTS]
    assert endpoints["failed"] == 2 and endpoints["made"] == len(_endpoint_requests(emulator))
    warned = [w for w in snapshot.meta.get("warnings", []) if "outbound network dependencies could not be read" in w]
    assert len(warned) == 2
    assert {s["reason"] for s in endpoints["skipped"]} and all(s["count"] > 0 for s in endpoints["skipped"])
    groups = lookups[RULE_GROUPS]
    assert groups["made"] > 0 and groups["failed"] == 0 and "without their rules" in groups["why"]
    sent_lists = [r for r in emulator.records if "rulecollectiongroups" in r.path.lower()]
    assert len({r.path.lower() for r in sent_lists}) == groups["made"]


def test_a_broken_record_is_refused_by_the_schema(served):
    clients, clock, _ = served
    doc = document(_scan(clients, clock, settler(CHECKS))[1])
    for breakage in (lambda item: item.update(made=-1), lambda item: item.pop("skipped"),
                     lambda item: item.update(skipped=[{"reason": "x", "count": "1"}])):
        broken = document(_scan(clients, clock, settler(CHECKS))[1])
        breakage(broken["scan"]["lookups"][0])
        assert first_problem(broken) is not None
    assert first_problem(doc) is None


def test_without_dependency_lists_no_cluster_list_is_asked_for_and_aks003_judges_the_documented_one(served):
    clients, clock, emulator = served
    snapshot = collect_live(required_types(CHECKS, dependency_lists=False), ScopeRequest(), clients, clock=clock,
                            rand=lambda: 1.0, options=LiveOptions(settle=settler(CHECKS)))
    assert not _endpoint_requests(emulator)
    assert ENDPOINTS not in snapshot.meta.get("arm_lookups", {})
    result = run_scan(estate_of(snapshot), CHECKS, meta=snapshot.meta)
    sources = {f.evidence.get("source") for f in result.findings if f.check_id == "AKS003"}
    assert result.complete and sources == {"documented"}


def test_excluding_the_always_listed_categories_takes_the_failing_direction_away(estate_rows):
    from aksaudit.checks.cluster.aks003_required_egress_blocked import META
    from aksaudit.checks.cluster.aks003_required_egress_blocked.settled import REASON, settled_lookups
    from aksaudit.model.estate import build_estate

    estate = build_estate(estate_rows[0])
    assert REASON in settled_lookups(estate, META.options).values()
    excluded = {**META.options, "excluded_endpoint_categories": ("images", "azure-resource-management")}
    assert REASON not in settled_lookups(estate, excluded).values()
