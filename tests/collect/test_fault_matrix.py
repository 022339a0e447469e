"""The fault matrix: one test per fault a live scan must survive, each asserting its outcome.

Every row ends one of two ways, and the test says which: the scan completes with exactly the
findings a scan of the same estate file gives, or it exits 3 with `scan.complete` false and a
gap that names what is missing. Never exit 0 (or 1) with data missing, and never a failure that
only the missing data produced (the findings of an incomplete scan are a subset of the full
estate's). docs/reliability.md lists these tests by name, with their results from a real run
(scripts/reliability_report.py).

Most rows run the CLI in a subprocess, as users run it, against the HTTPS emulator on loopback
(DefaultAzureCredential with a client secret from the environment). Rows whose fault costs real
time in a subprocess (request timeouts) run the same collection in process with the emulator's
fake clock, and judge its snapshot through the same engine, JSON document and exit-code function
the CLI uses.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from aksaudit.run.exit_policy import exit_code
from aksaudit.collect.throttle import RetryPolicy
from aksaudit.run.engine import run_scan
from aksaudit.model.estate import build_estate
from aksaudit.reports import json_report
from aksaudit.testing import key

from conftest import aksaudit_cmd
from emulator import Behaviour, Emulator, Fault
from emulator.scenarios import ESTATE, HUB, MANAGEMENT_GROUP, SCENARIOS, SPOKE
from emulator.tenant import RCG_TYPE, subscription_of
from live_support import collected_checks, estate_rows

# The live CLI collects what every registered check needs; the reference scans the same estate
# file with the same checks, so the two finding sets must be equal.
BOTH = ("--subscription", HUB, "--subscription", SPOKE)
MG = ("--management-group", MANAGEMENT_GROUP)
FIREWALL_RULE_CHECKS = {"FW003", "FW004", "FW005"}


@pytest.fixture
def emulator():
    instance = Emulator(SCENARIOS["management_group"].tenant(), Behaviour()).start()
    yield instance
    instance.stop()


def environment(emulator: Emulator, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSAUDIT_"))}
    env.update(emulator.client_env(), **overrides)
    env["AZURE_CONFIG_DIR"] = os.environ.get("AZURE_CONFIG_DIR", "/nonexistent-az-config")
    return env


def scan(emulator: Emulator, *args: str) -> tuple[int, dict, str]:
    proc = subprocess.run([*aksaudit_cmd(), "scan", *args, "--json", "-", "--quiet"], capture_output=True, text=True,
                          env=environment(emulator), timeout=180)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def keys(document: dict) -> set:
    return {key(f["check_id"], f["resource_id"], f["locus"]) for f in document["findings"]}


def reference(path: Path) -> tuple[int, dict]:
    proc = subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(path), "--json", "-", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def full():
    """The whole estate scanned from its file: what a complete live scan must find."""
    return reference(ESTATE)


@pytest.fixture
def outcome(record_property):
    """Records what the row ended in, for docs/reliability.md (scripts/reliability_report.py)."""
    return lambda text: record_property("outcome", text)


def assert_complete(code: int, document: dict, full: tuple[int, dict], outcome=None) -> None:
    assert document["scan"]["complete"] is True, document["scan"]["errors"]
    assert keys(document) == keys(full[1]) and keys(document)
    assert code == full[0]
    if outcome:
        outcome(f"complete: exit {code}, the {len(keys(document))} findings of the snapshot scan, no gap")


def assert_incomplete(code: int, document: dict, full: tuple[int, dict], *gap_words: str, outcome=None) -> list[str]:
    """Exit 3, incomplete, a gap naming every word, and no failure the full estate lacks."""
    scan_part = document["scan"]
    assert code == 3 and scan_part["complete"] is False, (code, scan_part["errors"])
    named = [e for e in scan_part["errors"] if all(word in e for word in gap_words)]
    assert named, scan_part["errors"]
    assert keys(document) <= keys(full[1])
    if outcome:
        outcome(f"exit 3, scan.complete false, {len(keys(document))} findings (all true ones); gap: {named[0]}")
    return named


def graph_statuses(emulator: Emulator, table: str | None = None) -> list[int]:
    return [r.status for r in emulator.graph_requests()
            if table is None or (r.body or {}).get("query", "").startswith(table + " ")]


# --- throttling -------------------------------------------------------------------------------


def test_429_storm_with_retry_after_is_waited_out(emulator, full, outcome):
    """Three 429s in a row, each with Retry-After: 1 -> each wait honoured, complete results."""
    emulator.add_fault(Fault("throttle", table="resources", retry_after=1, quota_headers=False, times=3))
    code, document, _ = scan(emulator, *MG)
    assert_complete(code, document, full, outcome)
    resources = [r for r in emulator.graph_requests() if r.body["query"].startswith("resources ")]
    assert [r.status for r in resources[:4]] == [429, 429, 429, 200]
    gaps = [later.at - earlier.at for earlier, later in zip(resources, resources[1:4])]
    assert all(gap >= 0.95 for gap in gaps), gaps  # each Retry-After: 1 was honoured


def test_429_storm_without_retry_after_is_backed_off(emulator, full, outcome):
    """Three 429s with neither Retry-After nor quota headers -> exponential back-off, complete results."""
    emulator.add_fault(Fault("throttle", table="resources", quota_headers=False, times=3))
    code, document, _ = scan(emulator, *MG)
    assert_complete(code, document, full, outcome)
    assert graph_statuses(emulator, "resources")[:4] == [429, 429, 429, 200]


def test_429_storm_outlasting_the_retry_budget_is_a_named_gap(emulator, full, outcome):
    """429 on every try, --retry-budget 2 -> the scan ends in time, exit 3 naming the throttled query."""
    emulator.add_fault(Fault("throttle", table="resources", quota_headers=False, times=-1))
    code, document, _ = scan(emulator, *MG, "--retry-budget", "2")
    assert_incomplete(code, document, full, "resources (", "throttled (HTTP 429)", "retry budget", outcome=outcome)


# --- server errors ----------------------------------------------------------------------------


def test_500_is_retried_to_complete_results(emulator, full, outcome):
    """HTTP 500 twice on networkresources -> retried, complete results."""
    emulator.add_fault(Fault("error", status=500, code="InternalServerError", table="networkresources", times=2))
    code, document, _ = scan(emulator, *MG)
    assert_complete(code, document, full, outcome)
    assert graph_statuses(emulator, "networkresources")[:3] == [500, 500, 200]


def test_503_that_persists_is_a_named_gap_and_the_firewall_rule_checks_skip(emulator, full, outcome):
    """HTTP 503 on every try of networkresources -> exit 3 naming it; the rule checks skip, never pass."""
    emulator.add_fault(Fault("error", status=503, table="networkresources", times=-1))
    code, document, _ = scan(emulator, *MG, "--retry-budget", "2")
    assert_incomplete(code, document, full, "networkresources (", "HTTP 503", outcome=outcome)
    skipped = {s["check_id"] for s in document["scan"]["skipped"]}
    assert {"FW003", "FW004"} <= skipped
    assert not {f["check_id"] for f in document["findings"]} & FIREWALL_RULE_CHECKS


# --- the network ------------------------------------------------------------------------------


def test_connection_reset_mid_page_is_retried(emulator, full, outcome):
    """Page 2 cut off half-way by a TCP reset, twice -> retried, complete results."""
    emulator.behaviour.page_limit = 5
    emulator.add_fault(Fault("reset", table="resources", page=2, times=2))
    code, document, _ = scan(emulator, *BOTH)
    assert_complete(code, document, full, outcome)
    assert [r.status for r in emulator.graph_requests()].count(-200) == 2  # both resets did happen


def test_page_that_times_out_is_retried_then_named_when_it_never_answers(live_env, registry, outcome):
    """Page 2 answers after the client's timeout: once -> retried, complete; always -> exit 3 naming page 2."""
    env = live_env()
    env.emulator.add_fault(Fault("delay", seconds=1.5, table="resources", page=2, times=1))
    recovered = env.collect(page_size=3, timeout=0.4, concurrency=1)
    assert recovered.complete, recovered.gaps
    assert env.judge(registry, recovered) == env.judge(registry, env.reference_snapshot())

    env = live_env()
    env.emulator.add_fault(Fault("delay", seconds=1.5, table="resources", page=2, times=-1))
    lost = env.collect(page_size=3, timeout=0.4, concurrency=1, retry=RetryPolicy(max_attempts=2))
    code, document = env.outcome(registry, lost)
    assert code == 3 and document["scan"]["complete"] is False
    named = [e for e in document["scan"]["errors"]
             if "page 2 could not be read; rows after page 1 are missing" in e and "gave up after 2 attempts" in e]
    assert named, document["scan"]["errors"]
    assert keys(document) <= env.judge(registry, env.reference_snapshot())[0]
    outcome(f"once: complete; always: exit 3, scan.complete false; gap: {named[0]}")


# --- paging -----------------------------------------------------------------------------------


def test_rejected_skip_token_restarts_the_query(live_env, registry, outcome):
    """$skipToken refused (expired) on page 3, once -> the query starts over from page 1, complete results."""
    env = live_env()
    env.emulator.add_fault(Fault("reject_skip_token", table="resources", page=3, times=1))
    snapshot = env.collect(page_size=3, concurrency=1)  # one worker pages by $skipToken, as the cassettes replay
    assert snapshot.complete, snapshot.gaps
    assert env.judge(registry, snapshot) == env.judge(registry, env.reference_snapshot())
    resources = [r for r in env.emulator.graph_requests() if r.body["query"].startswith("resources ")]
    statuses = [r.status for r in resources]
    assert 400 in statuses
    restarted = resources[statuses.index(400) + 1]
    assert not (restarted.body.get("options") or {}).get("$skipToken")  # page 1 again
    outcome(f"complete: the query restarted once, {len(env.judge(registry, snapshot)[0])} findings as the "
            f"snapshot scan, no gap")


def test_rejected_skip_token_that_keeps_failing_is_a_named_gap(live_env, registry, outcome):
    """$skipToken refused on every try -> exit 3 naming the query, the page and InvalidSkipToken."""
    env = live_env()
    env.emulator.add_fault(Fault("reject_skip_token", table="resources", page=2, times=-1))
    snapshot = env.collect(page_size=3, concurrency=1)
    code, document = env.outcome(registry, snapshot)
    assert code == 3 and document["scan"]["complete"] is False
    named = [e for e in document["scan"]["errors"]
             if e.startswith("resources (") and "InvalidSkipToken" in e and "page 2 could not be read" in e]
    assert named, document["scan"]["errors"]
    outcome(f"exit 3, scan.complete false; gap: {named[0]}")


def test_lost_skip_token_is_a_named_gap(emulator, full, outcome):
    """Page 1 comes back without its $skipToken although totalRecords says there is more -> exit 3."""
    emulator.behaviour.page_limit = 5
    emulator.add_fault(Fault("drop_skip_token", table="resources", page=1, times=-1))
    code, document, _ = scan(emulator, *BOTH)
    assert_incomplete(code, document, full, "resources (", "totalRecords", outcome=outcome)


def test_truncated_result_is_a_named_gap(emulator, full, outcome):
    """resultTruncated: "true" -> exit 3 naming the query."""
    emulator.add_fault(Fault("truncate", table="resources"))
    code, document, _ = scan(emulator, *MG)
    assert_incomplete(code, document, full, "resources (", "resultTruncated=true", outcome=outcome)


# --- access -----------------------------------------------------------------------------------


def _row_sizes() -> list[int]:
    return sorted(len(json.dumps(r, separators=(",", ":")).encode()) for r in json.loads(ESTATE.read_text()))


def test_answer_over_the_response_size_limit_is_read_again_in_smaller_pages(full, outcome):
    """Resource Graph refuses answers over its size limit (16 MiB; here just above the largest row)
    with 400 ResponsePayloadTooLarge -> the query is read again with half the rows a page until
    its pages fit; complete results."""
    limit = _row_sizes()[-1] + 2_000  # one row always fits, a few do not
    with Emulator(SCENARIOS["management_group"].tenant(), Behaviour(quota=10_000, response_limit=limit)) as emulator:
        code, document, _ = scan(emulator, *BOTH)
        refused = [r for r in emulator.graph_requests() if r.status == 400]
        tops = {int(((r.body or {}).get("options") or {}).get("$top") or 1000)
                for r in emulator.graph_requests() if r.status == 200}
    assert refused, "no answer was over the limit: the test estate outgrew it"
    assert min(tops) < 1000
    assert_complete(code, document, full)
    outcome(f"complete: exit {code}, the {len(keys(document))} findings of the snapshot scan, no gap; "
            f"{len(refused)} answer(s) refused as too large, pages shrunk to {min(tops)} rows")


def test_a_single_row_over_the_response_size_limit_is_a_named_gap(full, outcome):
    """Even one row a page is over the limit -> exit 3 naming the query and ResponsePayloadTooLarge."""
    limit = _row_sizes()[0] - 1  # no row fits
    with Emulator(SCENARIOS["management_group"].tenant(), Behaviour(quota=10_000, response_limit=limit)) as emulator:
        code, document, _ = scan(emulator, *BOTH)
        ones = [r for r in emulator.graph_requests()
                if int(((r.body or {}).get("options") or {}).get("$top") or 1000) == 1]
    assert ones, "the page size never came down to one row"
    assert_incomplete(code, document, full, "ResponsePayloadTooLarge", outcome=outcome)


def test_403_on_one_of_two_subscriptions_is_a_named_gap_with_the_other_audited(emulator, full, outcome, tmp_path):
    """The spoke subscription forbidden (403) -> exit 3 naming it; the hub's findings exactly as from its rows."""
    emulator.tenant.forbidden.add(SPOKE)
    code, document, _ = scan(emulator, *BOTH)
    assert_incomplete(code, document, full, SPOKE, "not readable", outcome=outcome)
    partial = tmp_path / "hub-only.json"
    hub_rows = [r for r in json.loads(ESTATE.read_text()) if subscription_of(r["id"]) == HUB]
    partial.write_text(json.dumps({"meta": {"complete": False, "errors": [f"subscription {SPOKE}: not readable"],
                                            "unreadable_subscriptions": [SPOKE]}, "rows": hub_rows}))
    assert keys(document) == keys(reference(partial)[1])
    assert all(f["subscription_id"].lower() == HUB for f in document["findings"])


def test_unreadable_subscription_inside_a_management_group_is_a_named_gap(emulator, full, outcome):
    """The spoke forbidden, scanned through the management group (Resource Graph silently leaves it
    out) -> exit 3 naming it, from the group's members listed through ARM."""
    emulator.tenant.forbidden.add(SPOKE)
    code, document, _ = scan(emulator, *MG)
    assert_incomplete(code, document, full, SPOKE, MANAGEMENT_GROUP, "not readable", outcome=outcome)
    assert all(f["subscription_id"].lower() == HUB for f in document["findings"])


def test_token_expiry_mid_scan_is_refreshed_to_complete_results(emulator, full, outcome):
    """The access token is refused as expired (401) mid-scan -> a fresh token, the request again, complete."""
    emulator.add_fault(Fault("expire_token", table="networkresources", times=1))
    code, document, stderr = scan(emulator, *MG)
    assert_complete(code, document, full, outcome)
    assert 401 in graph_statuses(emulator, "networkresources")
    tokens = [r for r in emulator.records if "/oauth2/v2.0/token" in r.path and r.status == 200]
    assert len(tokens) >= 2, "no fresh token was fetched after the 401"


def test_rule_collection_group_fallback_500_is_a_named_gap(full, outcome):
    """Rule collection groups come without rules and the ARM list (SDK fallback) answers 500 -> exit 3 naming
    each group; the rule checks skip them."""
    tenant = SCENARIOS["management_group"].tenant()
    tenant.rule_groups_without_rules = True
    with Emulator(tenant, Behaviour()) as emulator:
        emulator.add_fault(Fault("error", route="arm", status=500, code="InternalServerError", times=-1))
        # Only checks that read firewall rules alone: the fault fails every ARM read (a cluster's
        # outbound endpoints too), and the SDK's own retries of each would only cost time here.
        code, document, _ = scan(emulator, *BOTH, "--retry-budget", "3", "--select", "FW003,FW004")
    groups = {r["id"].lower() for r in estate_rows() if r["type"] == RCG_TYPE}
    named = assert_incomplete(code, document, full, "rule collection group", "HTTP 500", outcome=outcome)
    assert {g for g in groups if any(g in e.lower() for e in named)} == groups
    assert {s["resource_id"].lower() for s in document["scan"]["skipped"] if s["check_id"] in ("FW003", "FW004")} \
        == groups


def test_arm_reads_that_keep_failing_stop_within_the_retry_budget(outcome):
    """Every ARM read answers 500 (rule collection groups, outbound endpoints, management group
    descendants): the SDK's own retries of each stop once the request has used the retry budget
    (a few attempts, not azure-core's default of 11 over minutes), and the scan ends incomplete
    with every check run, the groups named."""
    tenant = SCENARIOS["management_group"].tenant()
    tenant.rule_groups_without_rules = True
    with Emulator(tenant, Behaviour()) as emulator:
        emulator.add_fault(Fault("error", route="arm", status=500, code="InternalServerError", times=-1))
        code, document, _ = scan(emulator, *BOTH, "--retry-budget", "2")
        arm = [r for r in emulator.records if r.method == "GET" and "/providers/microsoft.resourcegraph/"
               not in r.path.lower() and "/oauth2/" not in r.path and not r.path.startswith("/emulator/")]
    failed = [r for r in arm if r.status == 500]
    assert failed, "no ARM read was made"
    attempts: dict[str, int] = {}
    for record in failed:
        attempts[record.path.split("?")[0].lower()] = attempts.get(record.path.split("?")[0].lower(), 0) + 1
    # azure-core retries at once, then after 1.6 s: only the first retry fits in half of 2 s.
    assert max(attempts.values()) <= 2, attempts
    named = [e for e in document["scan"]["errors"] if "rule collection group" in e and "HTTP 500" in e]
    assert code == 3 and document["scan"]["complete"] is False and named, document["scan"]["errors"]
    assert keys(document) <= keys(full_scan := reference(ESTATE)[1]) and full_scan
    outcome(f"exit 3, scan.complete false; {len(failed)} ARM attempts for {len(attempts)} reads "
            f"(at most {max(attempts.values())} each); gap: {named[0]}")


# --- the user -----------------------------------------------------------------------------------


def test_ctrl_c_mid_scan_exits_130_leaving_no_output_files(tmp_path, outcome):
    """SIGINT while queries are in flight (each takes 5 s) -> exit 130 at once, no report, no temporary file."""
    tenant = SCENARIOS["management_group"].tenant()
    out = tmp_path / "out"
    out.mkdir()
    outputs = {"--json": out / "report.json", "--sarif": out / "report.sarif", "--html": out / "report.html",
               "--markdown": out / "summary.md", "--remediation": out / "fix.sh"}
    with Emulator(tenant, Behaviour(latency=5.0, arm_latency=0.0)) as emulator:  # Resource Graph is slow
        args = [*aksaudit_cmd(), "scan", *MG, "--sarif-dir", str(out / "sarif")]
        for flag, path in outputs.items():
            args += [flag, str(path)]
        # As a terminal starts it: a shell's background job inherits SIGINT ignored, and a scan
        # started so ignores Ctrl-C by design.
        proc = subprocess.Popen(args, env=environment(emulator), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 60
        while emulator.in_flight == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert emulator.in_flight, "the scan never had a query in flight"
        began = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        stopped = time.monotonic() - began
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert list(out.rglob("*")) == [], list(out.rglob("*"))  # no reports, no temporary files, no folders
    assert stopped < 3, f"took {stopped:.1f}s to stop: it waited for the requests in flight"
    outcome(f"exit 130 {stopped:.1f}s after SIGINT; no report, no temporary file, no folder written")


# --- helpers for the in-process rows ------------------------------------------------------------


class _InProcess:
    """The emulator with a fake clock and SDK clients pointed at it (see test_live_collect.py)."""

    def __init__(self, live) -> None:
        self._live = live
        self.emulator = live.emulator

    def collect(self, **options):
        from aksaudit.collect.live import ScopeRequest
        return self._live.collect(ScopeRequest((HUB, SPOKE)), **options)

    def reference_snapshot(self):
        from aksaudit.collect.snapshot import Snapshot
        return Snapshot(estate_rows(), {}, "reference")

    def outcome(self, registry, snapshot) -> tuple[int, dict]:
        """What `aksaudit scan` would exit with and write as JSON for this snapshot."""
        estate = build_estate(snapshot.rows, source=snapshot.source, unreadable_scopes=snapshot.unreadable_scopes)
        result = run_scan(estate, collected_checks(registry), scopes=snapshot.scope_labels,
                          errors=snapshot.gaps if not snapshot.complete else (), meta=snapshot.meta)
        return exit_code(result, "low"), json_report.document(result)

    def judge(self, registry, snapshot) -> tuple[frozenset, bool]:
        code, document = self.outcome(registry, snapshot)
        return frozenset(keys(document)), document["scan"]["complete"]


@pytest.fixture
def live_env(monkeypatch):
    from test_live_collect import Live

    started: list = []

    def start(behaviour: Behaviour | None = None) -> _InProcess:
        instance = Live(behaviour)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", instance.emulator.ca_path)
        started.append(instance)
        return _InProcess(instance)

    yield start
    for instance in started:
        instance.emulator.stop()
