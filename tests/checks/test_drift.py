"""Drift: finding baselines (new/unchanged/reappeared/resolved), egress approval, snapshot diff."""
from __future__ import annotations

import json

from test_cli import SCHEMA, run
from conftest import EXAMPLES
import jsonschema

HUB = EXAMPLES / "hub-spoke.json"
DRIFTED = EXAMPLES / "hub-spoke-drifted.json"

# The default route's next hop moved; the /32 exception route beside it did not.
MOVED_DEFAULT_ROUTE = ("subnet 'snet-aks-prod' traffic to 0.0.0.0/0 except 20.103.42.17/32: "
                       "VirtualAppliance 10.0.1.4 → VirtualAppliance 10.0.1.5")

def scan(snapshot, tmp_path, name, *extra):
    out = tmp_path / name
    proc = run("scan", "--snapshot", str(snapshot), "--json", str(out), "--quiet", *extra)
    document = json.loads(out.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return proc.returncode, document


def states(document, field="findings"):
    return {(f["check_id"], f["resource_id"].lower(), f["locus"]): f["baseline_state"] for f in document.get(field, [])}


def test_baseline_state_transitions(tmp_path):
    _, clean = scan(HUB, tmp_path, "clean.json")
    code, drifted = scan(DRIFTED, tmp_path, "drifted.json", "--baseline", str(tmp_path / "clean.json"))
    assert code == 1 and set(states(drifted).values()) == {"new"}
    _, again = scan(DRIFTED, tmp_path, "again.json", "--baseline", str(tmp_path / "drifted.json"))
    assert states(again) == {k: "unchanged" for k in states(drifted)}
    _, fixed = scan(HUB, tmp_path, "fixed.json", "--baseline", str(tmp_path / "again.json"))
    assert fixed["findings"] == [] and states(fixed, "resolved") == {k: "resolved" for k in states(drifted)}
    _, back = scan(DRIFTED, tmp_path, "back.json", "--baseline", str(tmp_path / "fixed.json"))
    assert states(back) == {k: "reappeared" for k in states(drifted)}


def test_fail_on_new_ignores_known_debt(tmp_path):
    scan(DRIFTED, tmp_path, "debt.json")
    code, document = scan(DRIFTED, tmp_path, "now.json", "--baseline", str(tmp_path / "debt.json"), "--fail-on-new")
    assert code == 0 and document["findings"]
    assert run("scan", "--snapshot", str(DRIFTED), "--fail-on-new").returncode == 2  # needs --baseline


def test_fingerprints_survive_id_casing_and_rewording(tmp_path):
    _, first = scan(DRIFTED, tmp_path, "first.json")
    for finding in first["findings"]:
        finding["resource_id"] = finding["resource_id"].upper()
        finding["message"] = "reworded " + finding["message"]
    (tmp_path / "first.json").write_text(json.dumps(first))
    rows = json.loads(DRIFTED.read_text())
    for row in rows:  # Azure returns the same ids in other casings on another day
        row["id"] = row["id"].lower()
    (tmp_path / "lower.json").write_text(json.dumps(rows))
    _, second = scan(tmp_path / "lower.json", tmp_path, "second.json", "--baseline", str(tmp_path / "first.json"))
    assert second["findings"] and set(states(second).values()) == {"unchanged"}


def test_unjudged_baseline_findings_are_not_called_resolved(tmp_path):
    scan(DRIFTED, tmp_path, "old.json")
    code, document = scan(HUB, tmp_path, "partial.json", "--baseline", str(tmp_path / "old.json"), "--ignore", "FW003")
    resolved = {k[0] for k in states(document, "resolved")}
    assert "FW003" not in resolved and {"FW004", "UDR001", "UDR004"} <= resolved
    assert any("FW003" in w and "did not run" in w for w in document["scan"]["warnings"])


def test_approval_round_trip_and_drift_text(tmp_path):
    approved = tmp_path / "egress-baseline.json"
    assert run("baseline", "approve", "--snapshot", str(HUB), "-o", str(approved)).returncode == 0
    code, same = scan(HUB, tmp_path, "same.json", "--approved", str(approved))
    assert code == 0 and not [f for f in same["findings"] if f["check_id"] == "DRIFT001"]
    _, drifted = scan(DRIFTED, tmp_path, "drift.json", "--approved", str(approved), "--select", "DRIFT001")
    changes = {f["resource_id"].rsplit("/", 1)[-1]: f["evidence"]["changes"] for f in drifted["findings"]}
    assert set(changes) == {"aks-payments-prod", "aks-payments-staging", "aks-analytics-prod"}
    assert MOVED_DEFAULT_ROUTE in changes["aks-payments-prod"]
    assert "subnet 'snet-aks-nodes' via firewall 'afw-hub-weu' now also allows TCP any port to any IPv4 address" \
        in changes["aks-analytics-prod"]
    assert "subnet 'snet-aks-pods' route table 'rt-spoke-analytics-egress' → (none)" in changes["aks-analytics-prod"]


def test_approval_refuses_incomplete_snapshot(tmp_path):
    rows = json.loads(HUB.read_text())
    rows[0]["properties"] = []
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(rows))
    proc = run("baseline", "approve", "--snapshot", str(broken), "-o", str(tmp_path / "x.json"))
    assert proc.returncode == 3 and not (tmp_path / "x.json").exists()


def test_diff_reports_egress_changes_and_ignores_churn(tmp_path):
    proc = run("diff", str(HUB), str(DRIFTED), "--json")
    document = json.loads(proc.stdout)
    by_name = {c["name"]: c["changes"] for c in document["clusters"]}
    assert MOVED_DEFAULT_ROUTE in by_name["aks-payments-prod"]
    rows = json.loads(HUB.read_text())
    for row in rows:
        row["etag"] = 'W/"changed"'
        row.get("properties", {})["provisioningState"] = "Updating"
    churned = tmp_path / "churn.json"
    churned.write_text(json.dumps(rows))
    proc = run("diff", str(HUB), str(churned))
    assert proc.returncode == 0 and proc.stdout == "No egress-relevant changes.\n"
