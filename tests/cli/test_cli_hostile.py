"""Every subcommand against a catalogue of hostile inputs and output paths (subprocess runs).

For each run: no traceback anywhere, the exit code the README documents for the case (2 for
input that cannot be used and outputs that cannot be written; the ordinary codes for hostile but
valid data), every file that was there before (earlier reports, the inputs) byte for byte
intact, no temporary file left behind, and nothing on stdout or stderr that a terminal or a CI
log would interpret: no control character, no line starting with `::`.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable

import pytest

from conftest import EXAMPLES
from hostile_estate import hostile_rows
from test_cli_outputs import run

TUTORIAL = EXAMPLES / "tutorial.json"
OSC52 = "\x1b]52;c;cHduZWQ=\x07"  # a clipboard write
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _hostile_estate() -> bytes:
    """Valid rows whose names carry every payload, lone surrogates, an OSC 52 clipboard write and
    a line that GitHub Actions would run as a workflow command; one row is unreadable, so its
    (hostile) id reaches the warnings too."""
    rows = hostile_rows()
    rows[0]["name"] = rows[0]["name"] + "\ud800\udfff\ud800" + OSC52 + "\n::error::pwned"
    broken = json.loads(json.dumps(next(r for r in rows if r["type"] == "microsoft.network/routetables")))
    broken["id"] += "x\ud800" + OSC52 + "\n::add-mask::x"
    broken["properties"] = "garbage"
    rows.append(broken)
    return json.dumps(rows).encode("ascii")  # \ud800 stays a JSON escape: a lone surrogate once parsed


# name -> (bytes of the file, or None for "does not exist", or "dir"); exit codes when used as each input kind.
BAD = 2
JSON_INPUTS: dict[str, bytes | str | None] = {
    "missing": None,
    "folder": "dir",
    "empty": b"",
    "not JSON": b"{not json",
    "az table output": b"Name    Type\n------  ------------------------------\naks1    microsoft.containerservice\n",
    "not UTF-8": b"\xff\xfe[\x00\x00garbage",
    "deeply nested": b"[" * 200_000 + b"]" * 200_000,
    "deeply nested result": b'{"schema_version": 1, "scan": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}",
    "odd types": b'{"schema_version": 1, "scan": "x", "findings": 5, "rows": 7, "format": [], "clusters": "x"}',
    "null": b"null",
    "escapes in keys": json.dumps({"schema_version": 1, OSC52 + "\ud800": "\n::error::x"}).encode(),
}
TOML_INPUTS: dict[str, bytes | str | None] = {
    "missing": None,
    "folder": "dir",
    "not UTF-8": b"\xff\xfe",
    "not TOML": b"select = [\n",
    "deeply nested": b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "wrong types": b'select = "UDR001"\nfail-on = 3\nseverity = 5\n',
    "escapes in keys": ('"' + "\\u001b]52;c;x\\u0007" + '" = 1\n').encode(),
    "tool not a table": b'tool = "aksaudit"\n',
}

# Each slot: how a command takes one input file, given a valid result and snapshot to fill the rest.
Slot = Callable[[str, "Context"], list[str]]


class Context:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.snapshot = folder / "estate.json"
        self.snapshot.write_bytes(TUTORIAL.read_bytes())
        self.result = folder / "result.json"
        assert run("scan", str(self.snapshot), "-q", "--json", str(self.result)).returncode == 1
        self.out = folder / "out"
        self.out.mkdir()
        self.previous = self.out / "previous.json"
        self.previous.write_text("a report written by an earlier run\n")

    def files(self) -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in self.folder.rglob("*") if p.is_file() and not p.is_fifo()}


SNAPSHOT_SLOTS: dict[str, Slot] = {
    "scan --snapshot": lambda p, c: ["scan", "--snapshot", p, "--json", str(c.out / "r.json")],
    "scan SNAPSHOT": lambda p, c: ["scan", p, "-q"],
    "diff OLD": lambda p, c: ["diff", p, str(c.snapshot)],
    "diff NEW --json": lambda p, c: ["diff", str(c.snapshot), p, "--json"],
    "baseline approve --snapshot": lambda p, c: ["baseline", "approve", "--snapshot", p, "-o", str(c.out / "a.json")],
    "remediate --snapshot": lambda p, c: ["remediate", "--from", str(c.result), "--snapshot", p, "-o", str(c.out / "f.sh")],
}
RESULT_SLOTS: dict[str, Slot] = {
    "scan --baseline": lambda p, c: ["scan", str(c.snapshot), "--baseline", p, "-q"],
    "scan --approved": lambda p, c: ["scan", str(c.snapshot), "--approved", p, "-q"],
    "remediate --from": lambda p, c: ["remediate", "--from", p, "-o", str(c.out / "f.sh")],
    "merge SHARD": lambda p, c: ["merge", str(c.result), p, "-o", str(c.out / "m.json")],
}
CONFIG_SLOTS: dict[str, Slot] = {
    "scan --config": lambda p, c: ["scan", str(c.snapshot), "--config", p, "-q"],
    "config show --config": lambda p, c: ["config", "show", "--config", p],
    "remediate --config": lambda p, c: ["remediate", "--from", str(c.result), "--snapshot", str(c.snapshot),
                                        "--config", p, "-o", str(c.out / "f.sh")],
}


def _materialise(folder: Path, name: str, content: bytes | str | None, suffix: str) -> str:
    path = folder / ("input-" + re.sub(r"\W+", "-", name) + suffix)
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)  # type: ignore[arg-type]
    return str(path)


def assert_clean_run(proc, expected: set[int], before: dict[Path, bytes], context: Context) -> None:
    shown = proc.stdout + proc.stderr
    assert "Traceback" not in shown, shown[-2000:]
    assert proc.returncode in expected, (proc.returncode, proc.stderr[-2000:])
    if proc.returncode == BAD:
        assert "aksaudit: error:" in proc.stderr or "error:" in proc.stderr, proc.stderr
    assert not CONTROL.search(shown), repr(CONTROL.search(shown))
    assert not [line for line in shown.splitlines() if line.lstrip().startswith("::")]
    after = context.files()
    assert {p: after.get(p) for p in before} == before  # earlier reports and the inputs untouched
    assert not [p for p in after if p.name.endswith(".tmp")]


def _cases(slots: dict[str, Slot], inputs: dict[str, bytes | str | None]):
    return [pytest.param(slot, name, id=f"{slot} <- {name}") for slot in slots for name in inputs]


@pytest.fixture
def context(tmp_path) -> Context:
    return Context(tmp_path)


@pytest.mark.parametrize("slot,name", _cases(SNAPSHOT_SLOTS, {**JSON_INPUTS, "hostile estate": b""})
                         + _cases(RESULT_SLOTS, JSON_INPUTS))
def test_json_inputs(context, slot, name):
    slots = {**SNAPSHOT_SLOTS, **RESULT_SLOTS}
    content = _hostile_estate() if name == "hostile estate" else JSON_INPUTS[name]
    path = _materialise(context.folder, name, content, ".json")
    before = context.files()
    proc = run(*slots[slot](path, context), cwd=context.folder)
    if name == "missing" and slot == "scan --baseline":
        expected = {1}  # a first scheduled run: no previous result yet, every finding is new
    elif name != "hostile estate":
        expected = {BAD}
    elif slot.startswith("remediate"):
        expected = {0}
    elif slot.startswith("baseline"):
        expected = {3}  # the unreadable row: no approval from incomplete data
    else:
        expected = {1, 3}  # findings, or the unreadable row's gap
    assert_clean_run(proc, expected, before, context)


@pytest.mark.parametrize("slot,name", _cases(CONFIG_SLOTS, TOML_INPUTS))
def test_configuration_inputs(context, slot, name):
    path = _materialise(context.folder, name, TOML_INPUTS[name], ".toml")
    before = context.files()
    proc = run(*CONFIG_SLOTS[slot](path, context), cwd=context.folder)
    assert_clean_run(proc, {BAD}, before, context)


def _read_only_folder(folder: Path) -> Path:
    """A folder this process cannot write into: root writes anywhere on a normal file system,
    but not into sysfs."""
    if os.geteuid() == 0:
        return Path("/sys/kernel")
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return locked


OUTPUTS: dict[str, Callable[[Context], str]] = {
    "read-only folder": lambda c: str(_read_only_folder(c.folder) / "report.out"),
    "parent is a file": lambda c: str(c.previous / "report.out"),
    "name too long": lambda c: str(c.out / ("n" * 300 + ".out")),
    "a folder": lambda c: str(c.out),
    "disk full": lambda c: "/dev/full",
    "the input": lambda c: str(c.snapshot),
    "the previous result": lambda c: str(c.result),
}
OUTPUT_SLOTS: dict[str, Slot] = {
    "scan --json": lambda p, c: ["scan", str(c.snapshot), "--baseline", str(c.result), "-q", "--json", p],
    "scan --html": lambda p, c: ["scan", str(c.snapshot), "--baseline", str(c.result), "-q", "--html", p],
    "scan --sarif-dir": lambda p, c: ["scan", str(c.snapshot), "--baseline", str(c.result), "-q", "--sarif-dir", p],
    "scan --remediation": lambda p, c: ["scan", str(c.snapshot), "--baseline", str(c.result), "-q", "--remediation", p],
    "remediate -o": lambda p, c: ["remediate", "--from", str(c.result), "--snapshot", str(c.snapshot), "-o", p],
    "merge -o": lambda p, c: ["merge", str(c.result), "-o", p],
    "baseline approve -o": lambda p, c: ["baseline", "approve", "--snapshot", str(c.snapshot), "-o", p],
    "snapshot -o": lambda p, c: ["snapshot", "--subscription", "00000000-0000-0000-0000-000000000000",
                                 "--management-group", "x", "-o", p],
}


# The outputs each command must refuse before it starts; the others it may only find unwritable
# once it writes. The live `snapshot` command is tried only with those refused up front.
READS_SNAPSHOT = {"scan --json", "scan --html", "scan --sarif-dir", "scan --remediation", "remediate -o",
                  "baseline approve -o"}
READS_RESULT = {"scan --json", "scan --html", "scan --sarif-dir", "scan --remediation", "remediate -o", "merge -o"}
UP_FRONT = {"parent is a file", "name too long", "a folder"}


def _output_cases():
    for slot in OUTPUT_SLOTS:
        for name in OUTPUTS:
            if name == "the input" and slot not in READS_SNAPSHOT:
                continue
            if name == "the previous result" and slot not in READS_RESULT:
                continue
            if slot == "snapshot -o" and name not in UP_FRONT:
                continue  # would start a live collection
            if slot == "scan --sarif-dir" and name == "a folder":
                continue  # a folder is what --sarif-dir wants
            yield pytest.param(slot, name, id=f"{slot} -> {name}")


@pytest.mark.parametrize("slot,name", list(_output_cases()))
def test_outputs_that_cannot_or_must_not_be_written(context, slot, name):
    path = OUTPUTS[name](context)
    before = context.files()
    proc = run(*OUTPUT_SLOTS[slot](path, context), cwd=context.folder)
    assert_clean_run(proc, {BAD}, before, context)
    assert path in proc.stderr or os.path.basename(path)[:50] in proc.stderr, proc.stderr


@pytest.mark.parametrize("argv", [
    ["checks", "explain", OSC52 + "\n::error::x"],
    ["completion", "fish" + OSC52],
    ["scan", "--fail-on", "sometimes" + OSC52],
    ["scan", "--as-of", "tomorrow" + OSC52],
    ["config", "show", "--select", "NOPE" + OSC52],
    ["scan", str(TUTORIAL), "--select", "UDR001", "--ignore", "UDR"],
    ["diff", str(TUTORIAL)],
    ["merge"],
    ["snapshot", "--subscription-batch", "0" + OSC52, "-o", "x.json"],
], ids=lambda argv: " ".join(argv[:2]))
def test_bad_arguments(tmp_path, argv):
    context = Context(tmp_path)
    before = context.files()
    assert_clean_run(run(*argv, cwd=tmp_path), {BAD}, before, context)


@pytest.mark.parametrize("argv", [
    ["diff", str(EXAMPLES / "hub-spoke.json"), str(EXAMPLES / "hub-spoke-drifted.json")],
    ["scan", str(TUTORIAL), "--json", "-"],
    ["checks", "list"],
], ids=lambda argv: argv[0])
def test_a_reader_that_goes_away_ends_the_command_quietly(argv):
    """`aksaudit diff ... | head`: the reader closes the pipe; no traceback, the SIGPIPE code."""
    import subprocess
    from conftest import aksaudit_cmd
    proc = subprocess.Popen([*aksaudit_cmd(), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command writes anything
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, stderr
    assert stderr == "", stderr


def test_lone_surrogates_reach_every_report_escaped(tmp_path):
    """Data is never trusted to be encodable: each report is written, and the JSON result reads
    back with the lone surrogate it was given (a JSON escape is the escaped form)."""
    estate = tmp_path / "estate.json"
    estate.write_bytes(_hostile_estate())
    out = tmp_path / "out"
    proc = run("scan", str(estate), "--json", str(out / "r.json"), "--sarif", str(out / "r.sarif"),
               "--html", str(out / "r.html"), "--markdown", str(out / "r.md"), "--remediation", str(out / "fix.sh"),
               "--sarif-dir", str(out / "sarif"))
    assert proc.returncode == 3, proc.stderr  # the unreadable row
    assert "Traceback" not in proc.stderr
    document = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert "\ud800" in json.dumps(document, ensure_ascii=False) or "\\ud800" in json.dumps(document)
    for report in ("r.sarif", "r.html", "r.md", "fix.sh"):
        (out / report).read_text(encoding="utf-8")  # valid UTF-8: the surrogate went out escaped


def test_an_internal_error_is_one_line_and_exit_2(capsys):
    from aksaudit.cli.app import guarded

    def bug() -> int:
        raise ZeroDivisionError("division by zero")
    assert guarded(bug) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: ZeroDivisionError" in err and "Traceback" not in err
