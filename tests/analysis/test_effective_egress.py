"""The effective-egress section: in the JSON result (valid against the schema), in the HTML report
(one collapsible block per cluster), and with --approved, what changed since the approval in the
same words DRIFT001 uses."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA = json.loads((ROOT / "reports/aksaudit-v1.schema.json").read_text())


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aksaudit.cli", *args], capture_output=True, text=True, timeout=180)


def test_json_and_html_carry_each_clusters_egress_and_changes_since_approval(tmp_path):
    approval = tmp_path / "approved.json"
    assert _run("baseline", "approve", "--snapshot", str(ROOT / "examples/hub-spoke.json"), "-o", str(approval)).returncode == 0
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    done = _run("scan", "--snapshot", str(ROOT / "examples/hub-spoke-drifted.json"), "--approved", str(approval),
                "--json", str(out), "--html", str(html), "--quiet")
    assert done.returncode == 1, done.stderr
    document = json.loads(out.read_text())
    jsonschema.validate(document, SCHEMA)
    egress = {entry["name"]: entry for entry in document["egress"]["clusters"]}
    allowed = document["egress"]["allowed"]
    assert set(egress) == {"aks-analytics-prod", "aks-payments-prod", "aks-payments-staging"}
    nodes, pods = egress["aks-analytics-prod"]["subnets"]
    assert (nodes["name"], pods["name"]) == ("snet-aks-nodes", "snet-aks-pods")
    assert pods["unfiltered"] == "Azure's default route to the Internet" and pods["firewalls"] == []
    [firewall] = nodes["firewalls"]
    traffic = allowed[firewall["allowed"]]
    assert "TCP any port to any IPv4 address" in traffic["addresses"]  # the temp-debug Any/*/* rule
    assert "HTTPS:443 ghcr.io" in traffic["fqdns"]
    # Changes since approval are DRIFT001's changes, and only drifted clusters have them.
    drift = {f["resource_id"].lower(): f["evidence"]["changes"] for f in document["findings"] if f["check_id"] == "DRIFT001"}
    for entry in document["egress"]["clusters"]:
        assert entry["changes"] == drift.get(entry["cluster"].lower(), [])
    assert any("now also allows TCP any port to any IPv4 address" in c for c in egress["aks-analytics-prod"]["changes"])
    page = html.read_text()
    assert page.count('<details class="egress-cluster">') == 3
    assert "now also allows TCP any port to any IPv4 address" in page and "Changed since the approved baseline" in page


def test_without_approval_there_are_no_changes_and_a_clean_estate_lists_its_allowed_traffic(tmp_path):
    out = tmp_path / "r.json"
    assert _run("scan", "--snapshot", str(ROOT / "examples/hub-spoke.json"), "--json", str(out), "--quiet").returncode == 0
    document = json.loads(out.read_text())
    jsonschema.validate(document, SCHEMA)
    clusters, allowed = document["egress"]["clusters"], document["egress"]["allowed"]
    payments = next(e for e in clusters if e["name"] == "aks-payments-prod")
    assert "changes" not in payments
    [subnet] = payments["subnets"]
    [firewall] = subnet["firewalls"]
    traffic = allowed[firewall["allowed"]]
    assert "TCP 443 to 203.0.113.32/28" in traffic["addresses"]
    # The route table's /32 to the firewall's public IP lets that one address out unfiltered.
    assert subnet["unfiltered"] == "20.103.42.17/32 via route 'afw-public-ip-direct' to the Internet"
    analytics = next(e for e in clusters if e["name"] == "aks-analytics-prod")
    assert [s["unfiltered"] for s in analytics["subnets"]] == ["", ""]
    assert "HTTPS:443 stpaymentsprodweu.blob.core.windows.net" in traffic["fqdns"]
    # Staging meets other rules than prod (payments-psp, payments-storage): a set of its own.
    staging = next(e for e in clusters if e["name"] == "aks-payments-staging")["subnets"][0]["firewalls"][0]
    assert staging["allowed"] != firewall["allowed"]
    assert "HTTPS:443 stpaymentsprodweu.blob.core.windows.net" in allowed[staging["allowed"]]["fqdns"]
