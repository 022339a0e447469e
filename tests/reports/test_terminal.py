"""The terminal summary at the widths people and CI logs have: one line per finding, nothing
wider than the terminal, ids elided in the middle (never broken across lines), and a header
that says what the scan could see.

Lines are checked against the findings of real scans (the drifted example, and the same estate
with every name made very long and spread over two subscriptions): each finding must have
exactly one line whose parts are faithful to it, i.e. each part is either the whole value or its
start and end around one '…'.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from aksaudit.collect.progress import LARGE_SNAPSHOT, counted_rows
from aksaudit.results.findings import Finding, Severity
from aksaudit.run.engine import ScanResult
from aksaudit.reports.terminal import GROUP_ROWS, OutputFormat, short_subscription, what, where
from renderers import terminal
from report_estates import (
    EXAMPLES, DRIFTED, cloned_spokes, example_rows, renamed, scan, scan_example, suppressed, with_unreadable_row,
)

WIDTHS = (40, 80, 200)
ELLIPSIS = "…"
SEVERITY = {"critical": ("critical", "crit"), "high": ("high",), "medium": ("medium", "med"), "low": ("low",),
            "info": ("info",)}
# Every name of the drifted example made long, with distinct starts and ends, so an elided
# part still tells findings apart.
LONG = {name: f"{name}-{'x' * 70}-{name[::-1]}" for name in (
    "rg-spoke-payments-weu", "rg-spoke-analytics-weu", "rg-hub-fwpolicy-weu", "rt-spoke-payments-egress",
    "default-to-afw", "vnet-spoke-analytics-weu", "snet-aks-pods", "temp-debug", "allow-all-web", "net-temp")}
_LINE = re.compile(r"^\s*(?P<sev>\S+)\s+(?P<check>\S+)\s+(?P<where>\S+)\s+(?P<what>\S+)(?:\s{2,}(?P<message>\S.*))?$")
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def faithful(shown: str, value: str) -> bool:
    """`shown` is `value`, or its start and end around one '…' (a cut at the end when `tail_ok`)."""
    if shown == value:
        return True
    if shown.count(ELLIPSIS) != 1:
        return False
    head, tail = shown.split(ELLIPSIS)
    return len(head) + len(tail) < len(value) and value.startswith(head) and value.endswith(tail)


def cut(shown: str, value: str) -> bool:
    return shown == value or (shown.endswith(ELLIPSIS) and value.startswith(shown[:-1]))


def line_of(line: str, finding: Finding) -> bool:
    match = _LINE.match(line)
    if not match:
        return False
    message = match["message"]
    return (match["sev"] in SEVERITY[finding.severity.value] and faithful(match["check"], finding.check_id)
            and faithful(match["where"], where(finding)) and faithful(match["what"], what(finding))
            and (message is None or cut(message.replace("[suppressed] ", "").replace("[new] ", ""), finding.message)
                 or message.startswith("[")))


def assert_fits(text: str, width: int) -> list[str]:
    lines = _SGR.sub("", text).splitlines()
    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide, too_wide
    return lines


def assert_one_line_each(lines: list[str], findings, width: int) -> None:
    for finding in findings:
        matching = [line for line in lines if line_of(line, finding)]
        assert len(matching) == 1, (width, finding.key, matching)
        if width >= 80:  # room for the subscription and a part of the resource group
            subscription, group = where(finding).split("/", 1)
            assert short_subscription(finding.subscription_id) in matching[0] and group[:3] in matching[0]


@pytest.fixture(scope="module")
def long_names():
    rows = renamed(example_rows(), LONG)
    result = scan(rows)
    assert {len(f.resource_id) > 150 for f in result.findings} == {True}
    assert len({f.subscription_id for f in result.findings}) == 2
    return result


@pytest.fixture(scope="module")
def drifted():
    return scan_example(DRIFTED)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("layout", ["concise", "grouped", "full"])
@pytest.mark.parametrize("estate", ["drifted", "long_names"])
def test_every_finding_is_one_faithful_line_no_wider_than_the_terminal(request, estate, layout, width):
    result = request.getfixturevalue(estate)
    lines = assert_fits(terminal(result, width=width, color=True, output_format=layout), width)
    assert_one_line_each(lines, result.findings, width)
    if layout == "grouped":
        for check in {f.check_id for f in result.findings}:
            count = sum(1 for f in result.findings if f.check_id == check)
            noun = "finding" if count == 1 else "findings"
            assert any(line.startswith(f"{check} · {count} {noun}") for line in lines), check


def test_the_longest_ids_are_elided_in_the_middle_not_dropped(long_names):
    lines = assert_fits(terminal(long_names, width=80, color=False, output_format="concise"), 80)
    route = next(f for f in long_names.findings if f.check_id == "UDR004")
    (line,) = [line for line in lines if line_of(line, route)]
    shown = _LINE.match(line)["what"]
    assert ELLIPSIS in shown and shown.startswith("rt-spoke") and shown.endswith("ot-tluafed")


def test_the_header_says_complete_counts_and_clusters(drifted):
    out = terminal(drifted, width=80, color=False, output_format="concise")
    head = out.splitlines()[:3]
    counts = {s: n for s, n in drifted.by_severity().items() if n}
    assert "scan complete" in head[0]
    assert head[1] == f"Findings: {len(drifted.findings)} (" + ", ".join(f"{n} {s}" for s, n in counts.items()) + ")"
    assert head[2] == f"Clusters compliant: {drifted.clusters_compliant} of {drifted.clusters_total}"
    assert "JSON" not in out


def test_suppressed_findings_are_counted_apart_and_marked(drifted):
    result = suppressed(drifted, "FW004")
    accepted = [f for f in result.findings if f.suppressed]
    assert accepted
    lines = terminal(result, width=200, color=False, output_format="concise").splitlines()
    assert f"{len(accepted)} suppressed, not counted" in lines[1]
    assert lines[1].startswith(f"Findings: {len(result.findings) - len(accepted)} ")
    for finding in result.findings:
        (line,) = [line for line in lines if line_of(line, finding)]
        assert ("[suppressed]" in line) == finding.suppressed


def test_an_incomplete_scan_says_so_first():
    result = scan(with_unreadable_row(example_rows()))
    out = terminal(result, width=80, color=False, output_format="grouped")
    assert "SCAN INCOMPLETE" in out.splitlines()[0]
    assert "see the JSON" not in out


def test_grouped_lists_a_bounded_number_per_check_and_says_where_the_rest_are():
    result = scan(cloned_spokes(GROUP_ROWS + 5, 0), select=("UDR004",))
    members = [f for f in result.findings if f.check_id == "UDR004"]
    assert len(members) > GROUP_ROWS
    lines = assert_fits(terminal(result, width=200, color=False, output_format="grouped"), 200)  # names whole
    shown = [f for f in members if any(line_of(line, f) for line in lines)]
    assert len(shown) == GROUP_ROWS
    assert any(f"and {len(members) - GROUP_ROWS} more UDR004 findings (--output-format concise" in line
               for line in lines)
    lines = assert_fits(terminal(result, width=200, color=False, output_format="concise"), 200)
    assert_one_line_each(lines, members, 200)


# --- through the command line ----------------------------------------------------------------------


def _cli(*args: str, cwd: Path, columns: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    return subprocess.run([sys.executable, "-m", "aksaudit.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("layout", [None, "concise", "full"])
def test_the_cli_fits_its_summary_into_columns(tmp_path, width, layout):
    snapshot = tmp_path / "long.json"
    snapshot.write_text(json.dumps(renamed(example_rows(), LONG)))
    args = ["scan", "--snapshot", str(snapshot)] + (["--output-format", layout] if layout else [])
    proc = _cli(*args, cwd=tmp_path, columns=width)
    assert proc.returncode == 1, proc.stderr
    expected = scan(renamed(example_rows(), LONG)).findings
    lines = assert_fits(proc.stdout, width)
    assert_one_line_each(lines, expected, width)
    if layout is None:  # grouped is the default
        assert any(line.startswith("UDR004 · 1 finding") for line in lines)


def test_the_cli_reports_new_unchanged_and_resolved_against_a_baseline(tmp_path):
    previous = tmp_path / "previous.json"
    proc = _cli("scan", "--snapshot", str(EXAMPLES / DRIFTED), "--select", "UDR004,FW003,AKS004", "--json",
                str(previous), "--quiet", cwd=tmp_path, columns=80)
    assert proc.returncode == 1, proc.stderr
    old = {(f["check_id"], f["resource_id"].lower(), f["locus"]) for f in json.loads(previous.read_text())["findings"]}
    document = json.loads(previous.read_text())
    document["findings"].append({**document["findings"][0], "fingerprint": "0" * 64, "locus": "gone"})
    previous.write_text(json.dumps(document))
    proc = _cli("scan", "--snapshot", str(EXAMPLES / DRIFTED), "--baseline", str(previous), cwd=tmp_path, columns=80)
    now = {f.key for f in scan_example(DRIFTED).findings}
    line = next(line for line in proc.stdout.splitlines() if line.startswith("Since the baseline"))
    assert line == f"Since the baseline: {len(now - old)} new, {len(now & old)} unchanged, 1 resolved"


def test_quiet_still_names_expired_suppressions(tmp_path):
    (tmp_path / "aksaudit.toml").write_text('[[suppress]]\ncheck = "FW003"\nresource-glob = "*"\n'
                                            'reason = "debugging"\nexpires = 2026-01-01\n')
    proc = _cli("scan", "--snapshot", str(EXAMPLES / DRIFTED), "--quiet", "--as-of", "2026-06-01", cwd=tmp_path,
                columns=80)
    assert proc.returncode == 1
    assert "EXPIRED SUPPRESSIONS" in proc.stdout and "FW003 EXPIRED on 2026-01-01: debugging (*)" in proc.stdout
    assert "Findings:" not in proc.stdout


def test_output_format_is_case_insensitive_and_checked(tmp_path):
    ok = _cli("scan", "--snapshot", str(EXAMPLES / DRIFTED), "--output-format", "CONCISE", cwd=tmp_path, columns=80)
    assert ok.returncode == 1 and "UDR004 ·" not in ok.stdout
    bad = _cli("scan", "--snapshot", str(EXAMPLES / DRIFTED), "--output-format", "table", cwd=tmp_path, columns=80)
    assert bad.returncode == 2 and "--output-format" in bad.stderr
    assert {f.value for f in OutputFormat} == {"concise", "full", "grouped"}


# --- progress while reading a large snapshot ------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_reading_progress_shows_on_a_terminal_only_and_passes_every_row_through():
    rows = [{"n": i} for i in range(5000)]
    pipe = io.StringIO()
    assert counted_rows(rows, "reading big.json", LARGE_SNAPSHOT, stream=pipe) is rows and pipe.getvalue() == ""
    small = _Terminal()
    assert counted_rows(rows, "reading small.json", LARGE_SNAPSHOT - 1, stream=small) is rows
    screen = _Terminal()
    counted = counted_rows(rows, "reading big.json", LARGE_SNAPSHOT, stream=screen)
    assert list(counted) == rows and list(counted) == rows  # re-iterable, as streamed rows are
    assert "reading big.json" in screen.getvalue()


# --- any width, any name ---------------------------------------------------------------------------

# Text a scan can carry in names and messages: anything, with extra weight on what is wide in a
# terminal (CJK, emoji, an emoji sequence), of no width (combining marks, zero-width space) or not
# text at all (escape sequences, controls, a bidi override, a lone surrogate).
_AWKWARD = ["界", "ｱ", "😀", "👩‍💻", "e\u0301", "\u200b", "\x1b[31m", "\x1b]8;;x\x07", "\u202e", "\t", "\n", "\r",
            "\x00", "\ud800", "…", " ", "/", "-"]
HOSTILE_TEXT = st.lists(st.one_of(st.characters(), st.sampled_from(_AWKWARD)), max_size=30).map("".join)


@functools.lru_cache(maxsize=1)
def _drifted() -> ScanResult:
    return scan_example(DRIFTED)


@st.composite
def hostile_findings(draw) -> Finding:
    base = draw(st.sampled_from(_drifted().findings))
    segment = st.lists(st.one_of(st.characters(blacklist_characters="/"), st.sampled_from(_AWKWARD[:-2])),
                       max_size=20).map("".join)
    resource_id = draw(st.one_of(
        HOSTILE_TEXT,
        st.builds("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/{}/{}/{}/{}".format,
                  segment, segment, segment, segment, segment, segment)))
    suppression = draw(st.one_of(st.none(), st.fixed_dictionaries({"reason": HOSTILE_TEXT, "expires": HOSTILE_TEXT})))
    return dataclasses.replace(
        base, check_id=draw(HOSTILE_TEXT), title=draw(HOSTILE_TEXT), severity=draw(st.sampled_from(Severity)),
        resource_id=resource_id, locus=draw(HOSTILE_TEXT), subscription_id=draw(HOSTILE_TEXT),
        message=draw(HOSTILE_TEXT), baseline_state=draw(st.sampled_from(["", "new", "unchanged", "reappeared"])),
        suppression=suppression)


@settings(max_examples=300, deadline=None)
@given(width=st.integers(1, 200), layout=st.sampled_from(OutputFormat), color=st.booleans(),
       findings=st.lists(hostile_findings(), max_size=5), warnings=st.lists(HOSTILE_TEXT, max_size=3),
       errors=st.lists(HOSTILE_TEXT, max_size=2), version=HOSTILE_TEXT)
def test_no_line_is_wider_than_the_terminal_at_any_width_whatever_the_names(width, layout, color, findings, warnings,
                                                                             errors, version):
    result = dataclasses.replace(_drifted(), findings=tuple(findings), warnings=tuple(warnings), errors=tuple(errors),
                                 tool_version=version)
    lines = assert_fits(terminal(result, width=width, color=color, output_format=layout.value), width)
    assert len(lines) >= 3  # the header is there at any width
