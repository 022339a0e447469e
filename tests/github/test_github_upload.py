"""Code scanning at tenant scale, end to end against a fake of GitHub's documented API
(tests/github_fake): scans written as per-subscription SARIF go up in batches GitHub accepts,
subscriptions with data gaps are held back and named, missing ones are reported and left open,
alerts show each finding's severity, and accepted risks are dismissed and reopened on expiry.

Findings are matched to alerts by the fingerprint the SARIF carries, and compared as sets.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aksaudit.github.batches import plan_batches, sarif_text
from aksaudit.github.client import ApiError, CodeScanning
from aksaudit.github.limits import MAX_GZIP_BYTES, MAX_RUNS_PER_UPLOAD
from aksaudit.github.runs import SarifDirError, category_key, sarif_run
from aksaudit.github.triage import MARKER
from aksaudit.reports.sarif import scope_name
from conftest import EXAMPLES, ROOT, aksaudit_cmd
from github_fake import running
from report_estates import DRIFTED, HUB_SUBSCRIPTION, SPOKE_SUBSCRIPTION
from test_github_action import ACTION, load_yaml

SHA = "0123456789abcdef0123456789abcdef01234567"
REF = "refs/heads/main"


# --- helpers ------------------------------------------------------------------------------------

def scan(tmp: Path, name: str, snapshot: Path | str, *, config: str = "", as_of: str = "") -> tuple[Path, dict]:
    """`aksaudit scan` as the action runs it: per-subscription SARIF and JSON results."""
    sarif_dir, results = tmp / f"{name}-sarif", tmp / f"{name}.json"
    args = [*aksaudit_cmd(), "scan", "--snapshot", str(snapshot), "--sarif-dir", str(sarif_dir), "--json", str(results),
            "--fail-on", "never", "--quiet"]
    if config:
        (tmp / f"{name}.toml").write_text(config, encoding="utf-8")
        args += ["--config", str(tmp / f"{name}.toml")]
    if as_of:
        args += ["--as-of", as_of]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=tmp)
    assert proc.returncode in (0, 3), proc.stderr
    return sarif_dir, json.loads(results.read_text(encoding="utf-8"))


def upload(url: str, fake, sarif_dir: Path, summary: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GITHUB_TOKEN": fake.token, "GITHUB_REPOSITORY": fake.repository, "GITHUB_SHA": SHA,
           "GITHUB_REF": REF, "GITHUB_API_URL": url}
    return subprocess.run([sys.executable, "-m", "aksaudit.github", "upload", "--sarif-dir", str(sarif_dir),
                           "--summary", str(summary), "--poll-interval", "0.01", *extra],
                          capture_output=True, text=True, env=env)


def alerts_by_fingerprint(fake) -> dict[str, dict]:
    return {key[4]: alert for key, alert in fake.alerts.items()}


def category(subscription: str) -> str:
    return f"aksaudit/{scope_name(subscription)}"


def analysed(fake) -> set[str]:
    return {category_key(a["category"]) for a in fake.analyses}


def shown_higher(sarif_dir: Path) -> set[str]:
    return {fp for path in sarif_dir.glob("*.sarif")
            for run in json.loads(path.read_text(encoding="utf-8"))["runs"] for fp in run["properties"]["shownHigher"]}


def assert_alerts_match_findings(fake, results: dict, sarif_dir: Path, held: set[str] = frozenset()) -> None:
    """Every finding of an uploaded subscription is an alert with the finding's severity (unless a
    more severe result of its check shares its run), dismissed exactly when it is suppressed."""
    alerts = alerts_by_fingerprint(fake)
    uploaded = [f for f in results["findings"] if f["subscription_id"] not in held]
    assert uploaded
    missing = {f["fingerprint"] for f in uploaded} - {a for a in (f["fingerprint"] for f in uploaded)
                                                        if f"{a[:16]}:1" in alerts}
    assert missing == set()
    higher = shown_higher(sarif_dir)
    wrong = {(f["check_id"], f["severity"], alerts[f"{f['fingerprint'][:16]}:1"]["rule"]["security_severity_level"])
             for f in uploaded if f["fingerprint"] not in higher
             and alerts[f"{f['fingerprint'][:16]}:1"]["rule"]["security_severity_level"] != f["severity"]}
    assert wrong == set()
    dismissed = {f["fingerprint"] for f in uploaded if alerts[f"{f['fingerprint'][:16]}:1"]["state"] == "dismissed"}
    assert dismissed == {f["fingerprint"] for f in uploaded if "suppression" in f}


# --- batches ------------------------------------------------------------------------------------

def synthetic_run(index: int, padding: int = 0) -> dict:
    noise = "".join(f"{(index * 7919 + i * 104729) % 1000003:x}" for i in range(padding))
    return {"tool": {"driver": {"name": "aksaudit", "rules": []}}, "automationDetails": {"id": f"aksaudit/s-{index:04d}/"},
            "invocations": [{"executionSuccessful": True}], "results": [], "properties": {"complete": True, "noise": noise}}


def test_batches_hold_every_run_once_within_the_run_and_size_limits():
    runs = [sarif_run(f"{i}.sarif", synthetic_run(i, padding=400)) for i in range(47)]
    batches = plan_batches(runs)
    assert all(len(b.runs) <= MAX_RUNS_PER_UPLOAD and len(b.gzipped) <= MAX_GZIP_BYTES for b in batches)
    assert [c for b in batches for c in b.categories] == [r.category for r in runs]
    small = plan_batches(runs, max_bytes=12_000)
    assert all(len(b.gzipped) <= 12_000 for b in small) and len(small) > len(batches)
    assert [c for b in small for c in b.categories] == [r.category for r in runs]
    assert json.loads(gzip.decompress(small[0].gzipped))["runs"][0]["automationDetails"]["id"] == runs[0].category


def test_a_run_too_large_for_any_upload_is_an_error_naming_it():
    run = sarif_run("big.sarif", synthetic_run(1, padding=4000))
    with pytest.raises(SarifDirError, match="big.sarif"):
        plan_batches([run], max_bytes=1000)


# --- the fake enforces what code scanning enforces ------------------------------------------------

def test_fake_rejects_over_limit_deliveries_and_invalid_alert_updates():
    with running() as (url, fake):
        client = CodeScanning(url, fake.repository, fake.token, sleep=lambda s: None)
        too_many = [sarif_run(f"{i}.sarif", synthetic_run(i)) for i in range(MAX_RUNS_PER_UPLOAD + 1)]
        sarif_id = client.upload(gzip.compress(sarif_text(too_many).encode()), SHA, REF)
        assert client.processing(sarif_id)["processing_status"] == "pending"
        status = client.processing(sarif_id)
        assert status["processing_status"] == "failed" and status["errors"][0].startswith("rejecting SARIF")
        twice = [sarif_run("a.sarif", synthetic_run(1)), sarif_run("b.sarif", synthetic_run(1))]
        sarif_id = client.upload(gzip.compress(sarif_text(twice).encode()), SHA, REF)
        client.processing(sarif_id)
        assert client.processing(sarif_id)["errors"] == ["A delivery cannot contain multiple runs with the same category"]
        with pytest.raises(ApiError) as too_large:
            client.upload(os.urandom(MAX_GZIP_BYTES + 1), SHA, REF)
        assert too_large.value.status == 413
        assert analysed(fake) == set()
        with pytest.raises(ApiError) as unauthorised:
            CodeScanning(url, fake.repository, "wrong", sleep=lambda s: None).upload(b"", SHA, REF)
        assert unauthorised.value.status == 401


def test_client_waits_out_rate_limits_and_server_errors_then_goes_on():
    waits = []
    with running() as (url, fake):
        fake.faults = [(502, {}, "Bad Gateway"),
                       (403, {"Retry-After": "7"}, "You have exceeded a secondary rate limit")]
        client = CodeScanning(url, fake.repository, fake.token, sleep=waits.append)
        sarif_id = client.upload(gzip.compress(sarif_text([sarif_run("a.sarif", synthetic_run(1))]).encode()), SHA, REF)
        assert sarif_id in fake.deliveries
        assert waits == [1.0, 7.0]
        fake.faults = [(422, {}, "Invalid request")]
        with pytest.raises(ApiError) as final:
            client.update_alert(1, "dismissed", "won't fix", "x")
        assert final.value.status == 422 and waits == [1.0, 7.0]


# --- triage decisions -------------------------------------------------------------------------------

def run_with(results: list[dict]) -> object:
    raw = synthetic_run(1)
    raw["results"] = results
    return sarif_run("a.sarif", raw)


def sarif_result(rule_id: str, path: str, message: str, suppression: dict | None = None) -> dict:
    properties = {"fingerprint": f"{rule_id}{path}{message}", "severity": "high"}
    if suppression:
        properties["suppression"] = suppression
    return {"ruleId": rule_id, "message": {"text": message}, "properties": properties,
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": path}}}]}


def alert(number: int, rule_id: str, path: str, message: str, state: str = "open", comment: str | None = None) -> dict:
    return {"number": number, "state": state, "rule": {"id": rule_id}, "dismissed_comment": comment,
            "dismissed_reason": "won't fix" if state == "dismissed" else None,
            "most_recent_instance": {"category": "aksaudit/s-0001/", "message": {"text": message},
                                     "location": {"path": path}}}


def test_triage_tells_results_of_one_rule_on_one_resource_apart_and_follows_changed_expiry():
    from aksaudit.github.triage import dismissal_comment, triage
    later = {"reason": "pilot", "expires": "2031-01-01", "source": "aksaudit.toml"}
    run = run_with([sarif_result("FW003", "azure/rcg", "rule a", later), sarif_result("FW003", "azure/rcg", "rule b")])
    old_comment = dismissal_comment({**later, "expires": "2030-01-01"})
    alerts = [alert(1, "FW003", "azure/rcg", "rule a", "dismissed", old_comment),
              alert(2, "FW003", "azure/rcg", "rule b", "dismissed", old_comment),
              alert(3, "FW003", "azure/other", "rule c", "dismissed", "a person's reason"),
              {**alert(4, "UDR001", "azure/gone", "x"), "most_recent_instance": {
                  "category": "aksaudit/s-9999/", "message": {"text": "x"}, "location": {"path": "azure/gone"}}}]
    decided = triage([run], [run], alerts, "won't fix")
    assert {(a.number, a.why) for a in decided.actions} == {(1, "update"), (2, "reopen")}
    assert next(a for a in decided.actions if a.number == 1).comment == dismissal_comment(later)
    assert dict(decided.absent) == {"aksaudit/s-9999": 1}
    assert len(dismissal_comment({"reason": "x" * 400, "expires": None})) == 280


# --- one subscription, through the action's own upload step ------------------------------------------

SUPPRESS_FW001 = """
[[suppress]]
check = "FW001"
resource-glob = "*"
reason = "migration to AzureFirewallSubnet planned <Q3>"
expires = 2030-01-31
"""


def run_action_upload_step(tmp: Path, url: str, fake, sarif_dir: Path) -> subprocess.CompletedProcess:
    """The action's upload step script, with the environment GitHub gives a composite step."""
    step = next(s for s in load_yaml(ACTION)["runs"]["steps"] if s.get("id") == "upload")
    env = {**os.environ, "GITHUB_TOKEN": fake.token, "SARIF_DIR": str(sarif_dir), "INPUT_DISMISS_REASON": "won't fix",
           "INPUT_PREVIOUS_RESULTS": "", "AKSAUDIT_PYTHON": sys.executable, "GITHUB_REPOSITORY": fake.repository,
           "GITHUB_SHA": SHA, "GITHUB_REF": REF, "GITHUB_API_URL": url, "GITHUB_STEP_SUMMARY": str(tmp / "summary.md")}
    return subprocess.run(["bash", "-c", step["run"]], cwd=tmp, env=env, capture_output=True, text=True)


def test_one_subscription_uploads_dismisses_accepted_risk_and_reopens_it_on_expiry(tmp_path):
    with running() as (url, fake):
        sarif_dir, results = scan(tmp_path, "before", EXAMPLES / "tutorial.json", config=SUPPRESS_FW001, as_of="2030-01-01")
        proc = run_action_upload_step(tmp_path, url, fake, sarif_dir)
        assert proc.returncode == 0, proc.stderr
        assert analysed(fake) == {category(f["subscription_id"]) for f in results["findings"]}
        assert_alerts_match_findings(fake, results, sarif_dir)
        fw001 = {a["number"]: a for a in fake.alerts.values() if a["rule"]["id"] == "FW001"}
        assert fw001 and all(a["dismissed_reason"] == "won't fix" for a in fw001.values())
        assert all(a["dismissed_comment"].startswith(MARKER) and "2030-01-31" in a["dismissed_comment"]
                   and "<Q3>" in a["dismissed_comment"] for a in fw001.values())
        # A dismissal someone made on GitHub is theirs: aksaudit leaves it alone.
        human = next(a for a in fake.alerts.values() if a["rule"]["id"] == "AKS004")
        human.update(state="dismissed", dismissed_reason="false positive", dismissed_comment="lab cluster")

        sarif_dir, results = scan(tmp_path, "after", EXAMPLES / "tutorial.json", config=SUPPRESS_FW001, as_of="2030-02-01")
        proc = run_action_upload_step(tmp_path, url, fake, sarif_dir)
        assert proc.returncode == 0, proc.stderr
        assert {n: a["state"] for n, a in fake.alerts_numbered().items() if n in fw001} == {n: "open" for n in fw001}
        assert human["state"] == "dismissed" and human["dismissed_comment"] == "lab cluster"
        summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
        assert re.search(r"dismissed / updated / reopened \| \d+ / 0 / 0", summary)
        assert re.search(rf"dismissed / updated / reopened \| 0 / 0 / {len(fw001)} \|", summary)


# --- gaps hold back their subscription; missing scopes are reported, not closed ---------------------

def test_gap_holds_back_its_subscription_and_a_missing_one_is_reported_not_closed(tmp_path):
    rows = json.loads((EXAMPLES / DRIFTED).read_text(encoding="utf-8"))
    gap = f"subscription {SPOKE_SUBSCRIPTION} could not be read: AuthorizationFailed"
    unreadable = tmp_path / "unreadable.json"
    unreadable.write_text(json.dumps({"meta": {"complete": False, "errors": [gap],
                                               "unreadable_subscriptions": [SPOKE_SUBSCRIPTION]},
                                      "rows": rows}), encoding="utf-8")
    hub_only = tmp_path / "hub-only-rows.json"  # the scan below writes hub-only.json
    hub_only.write_text(json.dumps([r for r in rows if SPOKE_SUBSCRIPTION not in r["id"].lower()]), encoding="utf-8")
    with running() as (url, fake):
        sarif_dir, results = scan(tmp_path, "complete", EXAMPLES / DRIFTED)
        assert upload(url, fake, sarif_dir, tmp_path / "s1.md").returncode == 0
        assert analysed(fake) == {category(HUB_SUBSCRIPTION), category(SPOKE_SUBSCRIPTION)}
        spoke_alerts = {n: a["state"] for n, a in fake.alerts_numbered().items()
                        if a["most_recent_instance"]["category"] == category(SPOKE_SUBSCRIPTION) + "/"}
        assert spoke_alerts and set(spoke_alerts.values()) == {"open"}

        sarif_dir, _ = scan(tmp_path, "gap", unreadable)
        before = len(fake.analyses)
        proc = upload(url, fake, sarif_dir, tmp_path / "s2.md")
        assert proc.returncode == 0, proc.stderr
        assert {category_key(a["category"]) for a in fake.analyses[before:]} == {category(HUB_SUBSCRIPTION)}
        assert {n: fake.alerts_numbered()[n]["state"] for n in spoke_alerts} == spoke_alerts
        summary = (tmp_path / "s2.md").read_text(encoding="utf-8")
        held = summary.split("### Held back", 1)[1]
        assert scope_name(SPOKE_SUBSCRIPTION) in held and "could not be read" in held
        assert scope_name(HUB_SUBSCRIPTION) not in held

        sarif_dir, _ = scan(tmp_path, "hub-only", hub_only)
        proc = upload(url, fake, sarif_dir, tmp_path / "s3.md", "--previous", str(tmp_path / "complete.json"))
        assert proc.returncode == 0, proc.stderr
        assert {n: fake.alerts_numbered()[n]["state"] for n in spoke_alerts} == spoke_alerts
        absent = (tmp_path / "s3.md").read_text(encoding="utf-8").split("### Absent from this scan", 1)[1]
        assert f"`{category(SPOKE_SUBSCRIPTION)}` | {len(spoke_alerts)} |" in absent


def test_a_rejected_upload_fails_loudly_with_githubs_error(tmp_path):
    sarif_dir, _ = scan(tmp_path, "scan", EXAMPLES / DRIFTED)
    for path in sarif_dir.glob("*.sarif"):
        log = json.loads(path.read_text(encoding="utf-8"))
        for result in log["runs"][0]["results"]:
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "azure://" + result["ruleId"]
        path.write_text(json.dumps(log), encoding="utf-8")
    with running() as (url, fake):
        proc = upload(url, fake, sarif_dir, tmp_path / "summary.md")
    assert proc.returncode == 1
    assert 'SARIF URI scheme "azure" did not match the checkout URI scheme "file"' in proc.stderr
    assert "### Rejected uploads" in (tmp_path / "summary.md").read_text(encoding="utf-8")


# --- 2,000 subscriptions --------------------------------------------------------------------------

TENANT_CONFIG = """
[severity]
FW003 = "low"

[[suppress]]
check = "FW004"
resource-glob = "*"
reason = "partner API egress reviewed"
expires = 2030-01-31
"""


@pytest.fixture(scope="module")
def tenant(tmp_path_factory) -> tuple[Path, str]:
    """2,000 landing-zone subscriptions (one cluster each) plus their hubs' connectivity ones, one
    of them unreadable."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from estate import Plan, write_estate
    folder = tmp_path_factory.mktemp("tenant")
    manifest = write_estate(Plan(2000, clusters_per_subscription=1, workload_rules=10, base_rules=10,
                                 spokes_per_hub=100), folder / "rows.json")
    rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
    lost = sorted(manifest.subscription_names)[7].lower()
    snapshot = folder / "tenant.json"
    snapshot.write_text(json.dumps({"meta": {"complete": False, "unreadable_subscriptions": [lost],
                                             "errors": [f"subscription {lost} could not be read: AuthorizationFailed"]},
                                    "rows": rows}), encoding="utf-8")
    assert len(manifest.subscription_names) >= 2000
    return snapshot, lost


def test_two_thousand_subscriptions_upload_completely_with_their_severities_and_accepted_risks(tmp_path, tenant):
    snapshot, lost = tenant
    with running() as (url, fake):
        sarif_dir, results = scan(tmp_path, "day1", snapshot, config=TENANT_CONFIG, as_of="2030-01-01")
        proc = upload(url, fake, sarif_dir, tmp_path / "day1.md")
        assert proc.returncode == 0, proc.stderr
        scopes = {category_key(json.loads(p.read_text())["runs"][0]["automationDetails"]["id"])
                  for p in sarif_dir.glob("*.sarif")}
        assert len(scopes) >= 2000 and category(lost) in scopes
        assert analysed(fake) == scopes - {category(lost)}
        assert len(fake.analyses) == len(scopes) - 1, "every category uploaded once, none rejected"
        assert max(len(d.categories) for d in fake.deliveries.values()) <= MAX_RUNS_PER_UPLOAD
        assert all(not d.errors for d in fake.deliveries.values())
        assert {f["check_id"] for f in results["findings"]} >= {"FW003", "FW004"}
        assert {f["severity"] for f in results["findings"] if f["check_id"] == "FW003"} == {"low"}
        assert_alerts_match_findings(fake, results, sarif_dir, held={lost})
        assert category(lost).split("/")[1] in (tmp_path / "day1.md").read_text(encoding="utf-8").split("### Held back")[1]

        sarif_dir, results = scan(tmp_path, "day2", snapshot, config=TENANT_CONFIG, as_of="2030-02-01")
        proc = upload(url, fake, sarif_dir, tmp_path / "day2.md")
        assert proc.returncode == 0, proc.stderr
        fw004 = [a for a in fake.alerts.values() if a["rule"]["id"] == "FW004"]
        assert fw004 and {a["state"] for a in fw004} == {"open"}
        assert_alerts_match_findings(fake, results, sarif_dir, held={lost})
