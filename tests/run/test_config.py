"""Configuration files and suppressions with expiry, through the real CLI (clock set by --as-of)."""
from __future__ import annotations

import json
import textwrap

import pytest

from aksaudit.testing import key
from test_cli import run
from conftest import EXAMPLES

DRIFTED = EXAMPLES / "hub-spoke-drifted.json"
RCG = ("/subscriptions/2d8f6a13-9c4e-4b7a-8e25-6f1c0d3b9a72/resourceGroups/rg-hub-fwpolicy-weu/providers/"
       "Microsoft.Network/firewallPolicies/afwp-hub-weu/ruleCollectionGroups/rcg-aks-workloads")
ROUTE = ("/subscriptions/e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64/resourceGroups/rg-spoke-payments-weu/providers/"
         "Microsoft.Network/routeTables/rt-spoke-payments-egress/routes/default-to-afw")


def scan_with(tmp_path, config: str, *extra: str, name: str = "aksaudit.toml"):
    (tmp_path / name).write_text(textwrap.dedent(config))
    proc = run("scan", "--snapshot", str(DRIFTED), "--json", "-", *extra, cwd=tmp_path)
    return proc, (json.loads(proc.stdout) if proc.stdout.strip() else None)


def keys(document, suppressed=None):
    return {key(f["check_id"], f["resource_id"], f["locus"]) for f in document["findings"]
            if suppressed is None or ("suppression" in f) == suppressed}


SUPPRESS_ALL = f"""
    [[suppress]]
    check = "FW003"
    resource = "{RCG.upper()}"
    locus = "ruleCollections/net-temp/rules/temp-debug"
    reason = "debugging INC-4711, removal tracked"
    expires = 2026-12-31

    [[suppress]]
    check = "FW005"
    resource = "{RCG}"
    locus = "ruleCollections/net-temp/rules/temp-debug"
    reason = "debugging INC-4711, removal tracked"
    expires = 2026-12-31

    [[suppress]]
    check = "application-rule-wildcard-fqdn"
    resource-glob = "*/firewallpolicies/afwp-hub-weu/*"
    reason = "accepted until the proxy migration"

    [[suppress]]
    check = "UDR004"
    resource = "{ROUTE}"
    reason = "firewall being redeployed"
    expires = 2026-12-01

    [[suppress]]
    check = "UDR001"
    resource-glob = "*/snet-aks-pods"
    reason = "pods egress via node subnet"
"""


def test_active_suppressions_keep_findings_visible_but_do_not_fail(tmp_path):
    proc, document = scan_with(tmp_path, SUPPRESS_ALL, "--as-of", "2026-11-30")
    assert proc.returncode == 0
    assert keys(document, suppressed=True) == keys(document) and len(keys(document)) == 5
    fw003 = next(f for f in document["findings"] if f["check_id"] == "FW003")
    assert fw003["suppression"]["reason"] == "debugging INC-4711, removal tracked"
    assert fw003["suppression"]["expires"] == "2026-12-31"


def test_expired_suppression_stops_suppressing_and_says_so(tmp_path):
    proc, document = scan_with(tmp_path, SUPPRESS_ALL, "--as-of", "2026-12-02")
    assert proc.returncode == 1
    assert keys(document, suppressed=False) == {key("UDR004", ROUTE, "")}
    expired = document["suppressions"]["expired"]
    assert [(e["check"], e["expires"]) for e in expired] == [("UDR004", "2026-12-01")]
    assert any("EXPIRED on 2026-12-01" in w for w in document["scan"]["warnings"])
    assert "EXPIRED on 2026-12-01" in proc.stderr  # the terminal summary (on stderr with --json -) says it too


def test_stale_suppression_is_reported(tmp_path):
    config = SUPPRESS_ALL + """
    [[suppress]]
    check = "UDR005"
    resource = "/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/routeTables/z/routes/gone"
    reason = "old"
    """
    _, document = scan_with(tmp_path, config, "--as-of", "2026-11-30")
    assert [s["check"] for s in document["suppressions"]["stale"]] == ["UDR005"]


def test_check_options_severity_and_selection_from_pyproject(tmp_path):
    config = """
    [tool.aksaudit]
    ignore = ["FW004"]

    [tool.aksaudit.severity]
    FW003 = "critical"

    [tool.aksaudit.checks.UDR004]
    approved_appliances = ["10.0.1.5"]
    """
    nested = tmp_path / "deeper" / "still"
    nested.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(config))
    proc = run("scan", "--snapshot", str(DRIFTED), "--json", "-", cwd=nested)
    document = json.loads(proc.stdout)
    checks = {f["check_id"]: f["severity"] for f in document["findings"]}
    assert "FW004" not in checks and "UDR004" not in checks
    assert checks["FW003"] == "critical"


def test_cli_flags_override_the_file(tmp_path):
    proc, document = scan_with(tmp_path, 'fail-on = "never"\nselect = ["UDR001"]\n', "--select", "FW003",
                               "--fail-on", "high")
    assert {f["check_id"] for f in document["findings"]} == {"FW003"} and proc.returncode == 1


@pytest.mark.parametrize("config,needle", [
    ('selct = ["UDR001"]\n', "unknown key(s) selct"),
    ('[severity]\nFW003 = "urgent"\n', "severity.FW003: expected one of critical"),
    ('[checks.UDR004]\napproved = ["10.0.0.1"]\n', "checks.UDR004.approved: unknown option"),
    ('[checks.UDR004]\napproved_appliances = "10.0.0.1"\n', "checks.UDR004.approved_appliances: expected an array of strings, found string '10.0.0.1'"),
    ('[[suppress]]\ncheck = "FW003"\nresource = "/x"\n', "suppress[0].reason: required"),
    ('[[suppress]]\ncheck = "FW003"\nreason = "r"\n', "exactly one of 'resource'"),
    ('[[suppress]]\ncheck = "NOPE1"\nresource = "/x"\nreason = "r"\n', "unknown check 'NOPE1'"),
    ('[[suppress]]\ncheck = "FW003"\nresource = "/x"\nreason = "r"\nexpires = "soon"\n', "suppress[0].expires: expected a date such as 2026-12-31 (quoted or not), found string 'soon'"),
    ('fail-on = "sometimes"\n', "fail-on: expected one of critical, high, medium, low, info, never, found string 'sometimes'"),
    ('select = [\n', "is not valid TOML"),
])
def test_bad_configuration_exits_2_naming_file_and_key(tmp_path, config, needle):
    proc, _ = scan_with(tmp_path, config)
    assert proc.returncode == 2
    assert "aksaudit.toml" in proc.stderr and needle in proc.stderr


def test_explicit_config_path(tmp_path):
    other = tmp_path / "elsewhere.toml"
    other.write_text('ignore = ["UDR004", "UDR001", "FW003", "FW004"]\n')
    proc = run("scan", "--snapshot", str(DRIFTED), "--config", str(other), "--json", "-", cwd=tmp_path)
    document = json.loads(proc.stdout)
    assert not {"UDR004", "UDR001", "FW003", "FW004"} & set(document["summary"]["checks_run"])
    assert not {f["check_id"] for f in document["findings"]} & {"UDR004", "UDR001", "FW003", "FW004"}
