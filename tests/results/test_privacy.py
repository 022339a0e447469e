"""Secrets and privacy: no token or secret in any artifact, and `--redact-subscriptions`.

A full live scan against the emulator (client-secret credential from the environment, `-vv`
so the SDKs log every request) writes every output there is; then every artifact, the captured
stdout and stderr, and every cassette is searched for the access tokens the emulator issued,
the client secret, and anything shaped like a credential (a bearer token, a JWT, a
`client_secret=` form field that is not the scrubbed placeholder).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from aksaudit.results.redaction import pseudonym, redact_result
from aksaudit.reports import html, json_report, markdown, sarif

from conftest import ROOT, aksaudit_cmd
from emulator import Behaviour, Emulator
from emulator.scenarios import ESTATE, HUB, MANAGEMENT_GROUP, SCENARIOS, SPOKE
from renderers import html_text, terminal
from report_estates import DRIFTED, scan_example

SECRET = "s3cr3t~Client.Secret_for-the-emulator"
CREDENTIAL_SHAPES = {
    "bearer token": re.compile(r"Bearer\s+(?!REDACTED\b)[A-Za-z0-9._~+/=-]{8,}"),
    # A JWT's header and payload are base64url JSON: 'eyJ' then a '.' (skip tokens are base64 JSON
    # too, 'eyJ...', but have no dot: they are paging cursors, not credentials).
    "JWT": re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+"),
    "client_secret form field": re.compile(r"client_secret=(?!REDACTED\b)[^&\s\"']+"),
    "authorization header": re.compile(r"['\"]?authorization['\"]?\s*[:=]\s*['\"]?(?!REDACTED\b)[A-Za-z]+ [^\s'\"]{8,}",
                                       re.IGNORECASE),
}


def _leaks(text: str, literals: set[str]) -> list[str]:
    found = [f"literal {value[:6]}..." for value in literals if value and value in text]
    found += [f"{name}: {match.group(0)[:24]}" for name, pattern in CREDENTIAL_SHAPES.items()
              for match in pattern.finditer(text)]
    return found


def _run(emulator: Emulator, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSAUDIT_"))}
    env.update(emulator.client_env())
    env["AZURE_CONFIG_DIR"] = "/nonexistent-az-config"
    return subprocess.run([*aksaudit_cmd(), "-vv", *args], capture_output=True, text=True, env=env, timeout=180)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """Every output of a live scan and a snapshot, with -vv logging; the tokens the emulator issued."""
    out = tmp_path_factory.mktemp("artifacts")
    tenant = SCENARIOS["management_group"].tenant()
    tenant.client_secret = SECRET
    with Emulator(tenant, Behaviour()) as emulator:
        scan = _run(emulator, "scan", "--management-group", MANAGEMENT_GROUP, "--json", str(out / "result.json"),
                    "--sarif", str(out / "result.sarif"), "--sarif-dir", str(out / "sarif"),
                    "--html", str(out / "report.html"), "--markdown", str(out / "summary.md"),
                    "--remediation", str(out / "fix.sh"), "--include-disruptive")
        snapshot = _run(emulator, "snapshot", "--management-group", MANAGEMENT_GROUP, "-o", str(out / "snapshot.json"))
        tokens = emulator.issued_tokens()
    (out / "scan.stdout").write_text(scan.stdout)
    (out / "scan.stderr").write_text(scan.stderr)
    (out / "snapshot.stdout").write_text(snapshot.stdout)
    (out / "snapshot.stderr").write_text(snapshot.stderr)
    return out, scan, snapshot, tokens


def test_the_run_authenticated_and_logged_its_requests(full_run):
    out, scan, snapshot, tokens = full_run
    assert scan.returncode == 1 and snapshot.returncode == 0, scan.stderr[-2000:]
    assert tokens, "the emulator issued no token"
    assert "Authorization" in scan.stderr and "REDACTED" in scan.stderr  # -vv logged the headers, redacted
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"result.json", "result.sarif", "report.html", "summary.md", "fix.sh", "snapshot.json"} <= written
    assert any(name.startswith("sarif/") for name in written)


def _readable(path: Path) -> str:
    """A file's text; an HTML report's with its packed data unpacked."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return html_text(text) if path.suffix == ".html" else text


def test_no_artifact_holds_a_token_or_the_secret(full_run):
    out, _, _, tokens = full_run
    literals = set(tokens) | {SECRET}
    leaks = {p.name: _leaks(_readable(p), literals) for p in out.rglob("*") if p.is_file()}
    assert {name: found for name, found in leaks.items() if found} == {}


def test_no_cassette_holds_a_token_or_a_secret():
    cassettes = sorted((ROOT / "cassettes").glob("*.yaml"))
    assert cassettes
    leaks = {p.name: _leaks(p.read_text(encoding="utf-8"), {"emulator-recording-secret"}) for p in cassettes}
    assert {name: found for name, found in leaks.items() if found} == {}


def test_the_patterns_do_find_what_they_look_for():
    assert _leaks("Authorization: Bearer abcdefgh12345678", set())
    assert _leaks('{"access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.e30.sig"}', set())
    assert _leaks("client_id=x&client_secret=hunter2&scope=y", set())
    assert not _leaks("client_secret=REDACTED&scope=y 'Authorization': 'REDACTED'", set())


# --- --redact-subscriptions --------------------------------------------------------------------


def test_pseudonyms_are_stable_and_distinct():
    assert pseudonym(HUB) == pseudonym(HUB.upper()) == pseudonym(f" {HUB} ")
    assert re.fullmatch(r"sub-[0-9a-f]{8}", pseudonym(HUB)) and pseudonym(HUB) != pseudonym(SPOKE)


def test_redacted_reports_hold_pseudonyms_only_and_the_same_fingerprints():
    result = scan_example(DRIFTED)
    redacted = redact_result(result)
    assert [f.fingerprint for f in redacted.findings] == [f.fingerprint for f in result.findings]
    assert [(f.check_id, f.locus) for f in redacted.findings] == [(f.check_id, f.locus) for f in result.findings]
    outputs = {"sarif": sarif.render(redacted), "html": html_text(html.render(redacted)), "markdown": markdown.render(redacted),
               "terminal": terminal(redacted, color=False),
               **{f"sarif-dir/{name}": text for name, text in sarif.render_per_subscription(redacted).items()}}
    for name, text in outputs.items():
        assert HUB not in text.lower() and SPOKE not in text.lower(), name
    assert pseudonym(HUB) in outputs["sarif"] and pseudonym(SPOKE) in outputs["html"]
    assert sorted(sarif.render_per_subscription(redacted)) == sorted(
        f"subscription-{pseudonym(s)}.sarif" for s in result.subscriptions)
    fingerprints = {r["properties"]["fingerprint"] for r in json.loads(outputs["sarif"])["runs"][0]["results"]}
    assert fingerprints == {f.fingerprint for f in result.findings}


def test_cli_redacts_reports_but_not_json_or_the_remediation_script(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(ESTATE), "--redact-subscriptions",
                           "--json", str(out / "r.json"), "--sarif", str(out / "r.sarif"), "--sarif-dir",
                           str(out / "sarif"), "--html", str(out / "r.html"), "--markdown", str(out / "s.md"),
                           "--remediation", str(out / "fix.sh")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    for path in [out / "r.sarif", out / "r.html", out / "s.md", *(out / "sarif").iterdir()]:
        text = _readable(path).lower()
        assert HUB not in text and SPOKE not in text, path.name
    assert HUB not in proc.stdout.lower() and SPOKE not in proc.stdout.lower()  # the terminal summary
    document = json.loads((out / "r.json").read_text())
    assert {f["subscription_id"] for f in document["findings"]} == {HUB, SPOKE}
    assert SPOKE in (out / "fix.sh").read_text().lower()
    plain = json_report.document(scan_example(DRIFTED))
    assert {f["fingerprint"] for f in document["findings"]} == {f["fingerprint"] for f in plain["findings"]}
    sarif_prints = {r["properties"]["fingerprint"]
                    for r in json.loads((out / "r.sarif").read_text())["runs"][0]["results"]}
    assert sarif_prints == {f["fingerprint"] for f in document["findings"]}


def test_redaction_reaches_gaps_and_unreadable_subscriptions(tmp_path):
    rows = json.loads(ESTATE.read_text())
    path = Path(tmp_path / "partial.json")
    path.write_text(json.dumps({"meta": {"complete": False, "unreadable_subscriptions": [SPOKE],
                                         "errors": [f"subscription {SPOKE}: not readable by this identity"],
                                         "subscription_names": {SPOKE: "Contoso Landing Zone Workloads"}},
                                "rows": [r for r in rows if HUB in r["id"].lower()]}))
    proc = subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(path), "--redact-subscriptions",
                           "--markdown", "-", "--html", str(tmp_path / "r.html")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    for text in (proc.stdout, proc.stderr, _readable(tmp_path / "r.html")):
        assert SPOKE not in text.lower() and HUB not in text.lower()
        assert "Contoso Landing Zone Workloads" not in text
    assert pseudonym(SPOKE) in proc.stdout
