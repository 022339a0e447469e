"""Safe channels: what reaches stdout and stderr is escaped, never a GitHub Actions workflow
command, and pseudonymised under --redact-subscriptions."""
from __future__ import annotations

import io
import json
import re

from aksaudit.cli.channels import GuardedStream
from aksaudit.results.redaction import pseudonym
from conftest import EXAMPLES
from test_cli_outputs import run

OSC52 = "\x1b]52;c;cHduZWQ=\x07"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _estate(tmp_path, name_suffix: str, broken: bool = False):
    rows = json.loads((EXAMPLES / "hub-spoke-drifted.json").read_text())
    for row in rows:
        row["name"] = row["name"] + name_suffix
    if broken:
        table = next(r for r in rows if r["type"] == "microsoft.network/routetables")
        table["properties"] = "garbage"
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(rows))
    return path, rows


def workflow_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("::")]


def test_no_data_line_starts_with_a_workflow_command_at_any_wrap(tmp_path):
    """Names of every length before '::', so that the 80-column summary wraps at every offset."""
    for pad in range(0, 80, 7):
        path, _ = _estate(tmp_path, " " + "x" * pad + "::error::pwned" + OSC52)
        proc = run("scan", str(path))
        assert proc.returncode in (1, 3), proc.stderr
        assert workflow_lines(proc.stdout + proc.stderr) == [], pad
        assert not CONTROL.search(proc.stdout + proc.stderr)


def test_errors_are_escaped_too(tmp_path):
    hostile = tmp_path / ("snap" + OSC52 + "\n::error::x.json")
    proc = run("scan", str(hostile))
    assert proc.returncode == 2
    assert not CONTROL.search(proc.stderr) and workflow_lines(proc.stderr) == []
    assert len(proc.stderr.splitlines()) == 1


def test_redact_subscriptions_covers_stderr(tmp_path):
    path, rows = _estate(tmp_path, "", broken=True)
    subscriptions = {r["subscriptionId"] for r in rows if r.get("subscriptionId")}
    assert subscriptions
    # The summary names each finding's subscription by its first eight characters; gaps name it whole.
    plain = run("scan", str(path), "--json", "-")  # the summary and the gaps on stderr
    assert any(s[:8].lower() in plain.stderr.lower() for s in subscriptions)
    proc = run("scan", str(path), "--redact-subscriptions", "--json", "-")
    assert proc.returncode == 3
    assert any(s in proc.stdout for s in subscriptions)  # JSON keeps the real ids
    assert not [s for s in subscriptions if s[:8].lower() in proc.stderr.lower()], proc.stderr
    assert "sub-" in proc.stderr


def test_the_stream_filter_holds_lines_until_complete():
    inner = io.StringIO()
    stream = GuardedStream(inner)
    stream.redact = True
    for piece in ("aksaudit: scope /subscriptions/", "00000000-1111-2222-3333-444444444444 ok\n:", ":set-output x\n  ::x", "\n"):
        stream.write(piece)
    stream.flush()
    text = inner.getvalue()
    assert "00000000-1111" not in text and pseudonym("00000000-1111-2222-3333-444444444444") in text
    assert workflow_lines(text) == [] and "\\::set-output" in text
