"""`scan --remediation`, `--include-disruptive` and `remediate --from [--snapshot]`, run as users
run them."""
from __future__ import annotations

import json
import os
import subprocess

from conftest import aksaudit_cmd
from remediation_harness import copy_estate, run_script, write_rows


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def _blocks(text: str) -> list[str]:
    """The script without its header (which names where it came from)."""
    return text.split("\nset -euo pipefail\n", 1)[1].split("\n")


def test_scan_writes_an_executable_script_and_remediate_writes_the_same_from_the_json(tmp_path):
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    scanned = _cli("scan", "--snapshot", str(estate), "--json", "out/result.json", "--remediation", "out/fix.sh",
                   "--quiet", cwd=tmp_path)
    assert scanned.returncode == 1, scanned.stderr  # findings
    script = tmp_path / "out" / "fix.sh"
    assert os.access(script, os.X_OK)
    assert "# fix_" in script.read_text()  # disruptive blocks commented out by default

    again = _cli("remediate", "--from", "out/result.json", "-o", "out/again.sh", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "wrote out/again.sh" in again.stderr
    assert _blocks((tmp_path / "out" / "again.sh").read_text()) == _blocks(script.read_text())

    disruptive = _cli("remediate", "--from", "out/result.json", "-o", "out/all.sh", "--include-disruptive",
                      cwd=tmp_path)
    assert disruptive.returncode == 0
    assert "# fix_" not in (tmp_path / "out" / "all.sh").read_text()


def test_remediate_with_a_snapshot_covers_only_what_is_still_there(tmp_path):
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    assert _cli("scan", "--snapshot", str(estate), "--json", "result.json", "--quiet", cwd=tmp_path).returncode == 1
    rows = json.loads(estate.read_text())
    table = next(r for r in rows if r["name"] == "rt-spoke-payments-egress")
    table["properties"]["routes"][0]["properties"]["nextHopIpAddress"] = "10.0.1.4"  # fixed by hand meanwhile
    write_rows(rows, estate)

    done = _cli("remediate", "--from", "result.json", "--snapshot", str(estate), "-o", "fix.sh", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "fix.sh").read_text()
    assert "not covered, no longer reported in" in text and "UDR004" in text.split("set -euo pipefail")[0]
    assert not [line for line in text.splitlines() if line.lstrip().startswith("set_next_hop ")]
    run = run_script(tmp_path / "fix.sh", estate, "--apply")
    assert run.returncode == 0, run.stderr


def test_remediate_refuses_what_is_not_a_json_v1_result(tmp_path):
    (tmp_path / "rows.json").write_text("[]")
    done = _cli("remediate", "--from", "rows.json", "-o", "fix.sh", cwd=tmp_path)
    assert done.returncode == 2
    assert "rows.json: not an aksaudit JSON v1 result" in done.stderr
    assert not (tmp_path / "fix.sh").exists()


PAYMENTS_ROUTE = ("/subscriptions/e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64/resourceGroups/rg-spoke-payments-weu/providers/"
                  "Microsoft.Network/routeTables/rt-spoke-payments-egress/routes/default-to-afw")


def _fix_calls(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.lstrip().startswith("set_next_hop ")]


def test_remediate_with_a_snapshot_writes_no_fix_for_a_finding_the_configuration_accepts(tmp_path):
    """The re-scan of `remediate --snapshot` uses the configuration `scan` used: a finding the
    user suppressed as an accepted risk gets no fix block, only a note naming it."""
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    (tmp_path / "aksaudit.toml").write_text(
        f'[[suppress]]\ncheck = "UDR004"\nresource = "{PAYMENTS_ROUTE}"\nreason = "migration window"\n')
    (tmp_path / "nothing-accepted.toml").write_text("")
    scanned = _cli("scan", "--snapshot", str(estate), "--json", "result.json", "--quiet", cwd=tmp_path)
    assert scanned.returncode == 1, scanned.stderr  # the other findings still fail the run
    saved = json.loads((tmp_path / "result.json").read_text())
    assert [f["suppression"]["reason"] for f in saved["findings"] if f["check_id"] == "UDR004"] == ["migration window"]

    done = _cli("remediate", "--from", "result.json", "--snapshot", str(estate), "-o", "fix.sh",
                "--include-disruptive", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "fix.sh").read_text()
    assert not [call for call in _fix_calls(text) if "default-to-afw" in call], text
    assert f"accepted risk (suppressed): UDR004 {PAYMENTS_ROUTE}" in text

    # The same saved result with a configuration that accepts nothing: the fix is written.
    unaccepted = _cli("remediate", "--from", "result.json", "--snapshot", str(estate), "-o", "all.sh",
                      "--include-disruptive", "--config", "nothing-accepted.toml", cwd=tmp_path)
    assert unaccepted.returncode == 0, unaccepted.stderr
    assert [call for call in _fix_calls((tmp_path / "all.sh").read_text()) if "default-to-afw" in call]
