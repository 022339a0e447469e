"""A remediation script acts only where its findings' resource ids say, and only on values az
takes as they are.

* Plan mode changes nothing anywhere: not the estate, not the CLI's default subscription.
* Every az command names `--subscription`, taken from the resource id; `az account set` never
  runs. A findings file whose `subscription_id` disagrees with the resource id is not trusted.
* No az argument value starts with `@` (az would send the content of the file it names): such a
  value makes its block manual when the script is generated, and the script itself refuses to run
  a command holding one (say, after a hand edit).

The scripts run against the fake az (tests/tools/fake_az), which records every command line;
test_remediation_real_az.py runs the recorded command lines through the real azure-cli parser.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from aksaudit.results.findings import subscription_of
from aksaudit.reports.remediation import ScanHeader, render
from aksaudit.reports.remediation.shell import FileReference, UnquotedValue, azarg, shq
from aksaudit.testing import load_fixture
from conftest import aksaudit_cmd
from remediation_harness import (
    CATALOG_RENAMES, EXAMPLE_ESTATES, EXAMPLES, REGISTRY, RENAMES, TEMPLATES, WITH_TEMPLATES, copy_estate, generate,
    run_script, scan, write_rows, write_script,
)

PAYMENTS = "e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64"
HUB = "2d8f6a13-9c4e-4b7a-8e25-6f1c0d3b9a72"
DEFAULT_ACCOUNT = "00000000-0000-0000-0000-000000000000"  # what run_script leaves as the CLI's default


def _sources() -> list[str]:
    return [*EXAMPLE_ESTATES, *(f"{check_id}/bad.json" for check_id in WITH_TEMPLATES)]


def _estate(source: str, tmp_path: Path) -> Path:
    if source in EXAMPLE_ESTATES:
        return copy_estate(source, tmp_path)
    fixture = load_fixture(REGISTRY.by_id()[source.split("/")[0]].folder / "bad.json")
    return write_rows(fixture.rows, tmp_path / "estate.json")


def file_reference(arg: str) -> bool:
    """Whether az would read a file for this argv word (azure-cli's `_expand_file_prefixed_files`:
    the text after the first `=`, or the whole word without one, starts with `@`)."""
    value = arg.split("=", 1)[1] if "=" in arg else arg
    return value.startswith("@") and len(value) > 1


def _own_body(arg: str) -> bool:
    """The PUT body the script wrote itself (the fake az records a copy of it)."""
    return arg.startswith("--body=@") and arg.endswith(".json") and ".bodies/" in arg


def _subscriptions(estate: Path) -> set[str]:
    return {str(r.get("subscriptionId", "")).lower() for r in json.loads(estate.read_text())}


@pytest.mark.parametrize("source", _sources())
def test_every_az_call_names_the_subscription_of_its_resource_and_plan_changes_nothing(source, tmp_path):
    estate = _estate(source, tmp_path)
    script = write_script(generate(scan(estate), include_disruptive=True), tmp_path / "fix.sh")
    assert not [line for line in script.read_text().splitlines() if "account" in line and not line.lstrip().startswith("#")]
    before = estate.read_bytes()
    account = estate.with_name(estate.name + ".account")

    plan = run_script(script, estate)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert estate.read_bytes() == before
    assert account.read_text() == DEFAULT_ACCOUNT
    assert not plan.mutating_calls

    applied = run_script(script, estate, "--apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert account.read_text() == DEFAULT_ACCOUNT
    known = _subscriptions(estate)
    for call in (*plan.calls, *applied.calls):
        argv = call["argv"]
        assert argv[0] != "account", argv
        named = [a.split("=", 1)[1] for a in argv if a.startswith("--subscription=")]
        assert len(named) == 1 and named[0].lower() in known, argv
        for arg in argv:  # a call by id acts in the subscription of that id
            if arg.startswith(("--ids=", "--url=")):
                assert subscription_of(arg.split("=", 1)[1]) == named[0].lower(), argv


def _at_estate(path: Path, source: str, renames: dict[str, str]) -> Path:
    """The estate with the names the injection tests rename given a leading `@` instead."""
    text = (EXAMPLES / source).read_text(encoding="utf-8") if source in EXAMPLE_ESTATES else json.dumps(
        load_fixture(REGISTRY.by_id()[source.split("/")[0]].folder / "bad.json").rows)
    for name in renames:
        text = text.replace(f'"{name}"', f'"@{name}"').replace(f"/{name}", f"/@{name}")
    path.write_text(text, encoding="utf-8")
    return path


# Sources whose fixes pass names on their own (all but FW006, which passes whole ids: an `@`
# inside an id is no file reference, and that fix is still made).
AT_SOURCES = {"hub-spoke-drifted.json": True, "UDR006/bad.json": True, "UDR007/bad.json": True,
              "AKS001/bad.json": True, "FW006/bad.json": False}


@pytest.mark.parametrize("source", AT_SOURCES)
def test_no_az_argument_starts_with_at_and_the_fixes_that_would_pass_one_are_manual(source, tmp_path):
    renames = RENAMES if source in EXAMPLE_ESTATES else CATALOG_RENAMES
    estate = _at_estate(tmp_path / "estate.json", source, renames)
    result = scan(estate)
    script = generate(result, include_disruptive=True)
    refused = [b for b in script.blocks if "starts with '@'" in b.summary]
    assert bool(refused) == AT_SOURCES[source], [b.summary for b in script.blocks]
    assert all(not b.resolves for b in refused)
    path = write_script(script, tmp_path / "fix.sh")
    for args in ((), ("--apply",)):
        run = run_script(path, estate, *args)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "REFUSED" not in run.stderr
        assert run.calls or not [b for b in script.blocks if b.resolves]
        passed = [a for c in run.calls for a in c["argv"] if file_reference(a) and not _own_body(a)]
        assert not passed, passed


def _with_call(script_text: str, call: str) -> str:
    """A generated script with one more block, as a hand edit would add it."""
    head, tail = script_text.rsplit("\nsay ''\nif [ -e \"$WORK/refused\" ]", 1)
    return f"{head}\n{call}\nsay ''\nif [ -e \"$WORK/refused\" ]{tail}"


ROUTE_STATE = '["0.0.0.0/0","VirtualAppliance","10.0.1.5"]'


@pytest.mark.parametrize("call", [
    f"set_next_hop {PAYMENTS} '@/etc/passwd' rt-spoke-payments-egress default-to-afw '{ROUTE_STATE}' "
    "'\"0.0.0.0/0\"' 10.0.1.4",
    f"set_next_hop {PAYMENTS} rg-spoke-payments-weu rt-spoke-payments-egress '@default-to-afw' '{ROUTE_STATE}' "
    "'\"0.0.0.0/0\"' 10.0.1.4",
    f"set_next_hop '' rg-spoke-payments-weu rt-spoke-payments-egress default-to-afw '{ROUTE_STATE}' "
    "'\"0.0.0.0/0\"' 10.0.1.4",
    f"if route_unchanged {PAYMENTS} '@rg' rt-spoke-payments-egress default-to-afw '{ROUTE_STATE}'; then :; fi",
], ids=["at-group", "at-name", "no-subscription", "inside-if"])
@pytest.mark.parametrize("mode", [(), ("--apply",)], ids=["plan", "apply"])
def test_the_script_refuses_an_az_command_with_an_at_value_or_without_a_subscription(call, mode, tmp_path):
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    before = estate.read_bytes()
    text = _with_call(generate(scan(estate), include_disruptive=False).text, call)
    path = tmp_path / "edited.sh"
    path.write_text(text, encoding="utf-8")
    run = run_script(path, estate, *mode)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "aksaudit: REFUSED" in run.stderr
    assert not [a for c in run.calls for a in c["argv"] if file_reference(a) and not _own_body(a)]
    assert not [c for c in run.calls if not [a for a in c["argv"] if a.startswith("--subscription=") and a[15:]]]
    if not mode:
        assert estate.read_bytes() == before


@pytest.mark.parametrize("value", ["@x", "@/etc/passwd", "@-"])
def test_azarg_refuses_a_value_az_would_read_a_file_for(value):
    with pytest.raises(FileReference, match="starts with '@'"):
        azarg(value)


@pytest.mark.parametrize("value", ["a@b", "x=@y", "", "rg-@", "$(touch x)"])
def test_azarg_quotes_other_values_as_shq_does(value):
    assert azarg(value) == shq(value)
    with pytest.raises(UnquotedValue):
        azarg(None)


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_remediate_from_a_file_uses_the_resource_ids_subscription_and_warns_when_the_finding_disagrees(tmp_path):
    estate = copy_estate("hub-spoke-drifted.json", tmp_path)
    scanned = _cli("scan", "--snapshot", str(estate), "--json", "result.json", "--quiet", cwd=tmp_path)
    assert scanned.returncode == 1, scanned.stderr
    saved = json.loads((tmp_path / "result.json").read_text())
    udr004 = next(f for f in saved["findings"] if f["check_id"] == "UDR004")
    assert subscription_of(udr004["resource_id"]) == PAYMENTS
    udr004["subscription_id"] = HUB  # a tampered or hand-edited file
    (tmp_path / "tampered.json").write_text(json.dumps(saved))

    done = _cli("remediate", "--from", "tampered.json", "-o", "fix.sh", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and HUB in warnings[0] and udr004["resource_id"] in warnings[0], done.stderr
    text = (tmp_path / "fix.sh").read_text()
    calls = [line.split() for line in text.splitlines() if line.lstrip().startswith("set_next_hop ")]
    assert [call[1] for call in calls] == [PAYMENTS]
    assert f"the fix uses '{PAYMENTS}'" in text.split("\nset -euo pipefail\n", 1)[0]

    applied = run_script(tmp_path / "fix.sh", estate, "--apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "UDR004" not in {f.check_id for f in scan(estate).findings}


def test_a_finding_whose_resource_id_names_no_subscription_gets_no_command(tmp_path):
    result = scan(copy_estate("hub-spoke-drifted.json", tmp_path))
    finding = next(f for f in result.findings if f.check_id == "UDR004")
    stripped = finding.resource_id.replace(f"/subscriptions/{PAYMENTS}", "/subscriptions/")
    script = render([replace(finding, resource_id=stripped)], TEMPLATES, ScanHeader("v", "t"))
    (block,) = script.blocks
    assert not block.resolves and "names no subscription" in block.summary
    assert not [line for line in script.text.splitlines() if line.lstrip().startswith("set_next_hop ")]
