"""Run the reliability tests and write docs/reliability.md from what they did.

    python scripts/reliability_report.py            # the fault matrix, hostile input, privacy, limits, fuzz (ci profile)
    python scripts/reliability_report.py --long     # the same with the long fuzz profile (tens of thousands of examples)
    python scripts/reliability_report.py --check    # run, but only say whether the doc's tables would change

Every figure in the document comes from this run: pytest writes JUnit XML (each fault-matrix
test records the outcome it saw, e.g. the gap a scan named, as a property) and Hypothesis prints
its statistics (examples run, passing, failing, invalid). Fault descriptions are the matrix
tests' own docstrings; the hostile payloads are those tests/hostile_estate.py puts in the estate.
The exit status is pytest's: a failing row fails the script, and the document says so.
"""
from __future__ import annotations

import argparse
import ast
import platform
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
SUITES = {  # file -> section of the document
    "tests/collect/test_fault_matrix.py": "faults",
    "tests/reports/test_hostile_outputs.py": "hostile",
    "tests/results/test_privacy.py": "privacy",
    "tests/model/test_input_limits.py": "limits",
    "tests/model/test_fuzz.py": "fuzz",
}
_STATS_TEST = re.compile(r"^(tests/\S+\.py)::(\S+):\s*$")
_STATS_COUNTS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")
_STATS_STOP = re.compile(r"Stopped because (.+)$")


@dataclass
class Case:
    file: str
    name: str
    seconds: float
    status: str  # passed | failed | skipped
    detail: str = ""
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class Fuzz:
    passing: int = 0
    failing: int = 0
    invalid: int = 0
    stopped: str = ""


def run_pytest(long: bool, junit: Path) -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", f"--junitxml={junit}",
               "-o", "junit_family=xunit1", "--hypothesis-show-statistics",
               f"--hypothesis-profile={'long' if long else 'ci'}", *SUITES]
    print("running:", " ".join(["python -m pytest", *command[3:]]), file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    print(f"pytest exited {done.returncode}", file=sys.stderr)
    return done.returncode, done.stdout


def read_junit(path: Path) -> list[Case]:
    cases = []
    for element in ET.parse(path).iter("testcase"):
        file = element.get("file") or element.get("classname", "").replace(".", "/") + ".py"
        status, detail = "passed", ""
        for kind in ("failure", "error", "skipped"):
            found = element.find(kind)
            if found is not None:
                status = "skipped" if kind == "skipped" else "failed"
                detail = (found.get("message") or "").splitlines()[0][:300] if found.get("message") else ""
        properties = {p.get("name"): p.get("value") for p in element.iter("property")}
        cases.append(Case(file, element.get("name", ""), float(element.get("time") or 0), status, detail, properties))
    return cases


def read_statistics(output: str) -> dict[str, Fuzz]:
    stats: dict[str, Fuzz] = {}
    current = None
    for line in output.splitlines():
        head = _STATS_TEST.match(line.strip())
        if head:
            current = stats.setdefault(head.group(2), Fuzz())
            continue
        if current is None:
            continue
        counts = _STATS_COUNTS.search(line)
        if counts:
            current.passing += int(counts.group(1))
            current.failing += int(counts.group(2))
            current.invalid += int(counts.group(3))
        stop = _STATS_STOP.search(line)
        if stop:
            current.stopped = stop.group(1).strip()
    return stats


def docstrings(path: Path) -> dict[str, str]:
    """Test function -> the first paragraph of its docstring, on one line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            text = ast.get_docstring(node) or ""
            found[node.name] = " ".join(text.split("\n\n")[0].split())
    return found


def cell(text: str) -> str:
    """Table-safe: one line, pipes escaped, control characters shown escaped."""
    text = text.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 or
                                                                  0x202a <= ord(c) <= 0x202e or
                                                                  0x2066 <= ord(c) <= 0x2069 for c in text) else text
    return " ".join(text.split()).replace("|", "\\|")


def mark(case: Case) -> str:
    return {"passed": "✅ passed", "failed": "❌ FAILED", "skipped": "⚠️ skipped"}[case.status]


def name_of(case: Case) -> str:
    return f"`{case.name}`"


def section(cases: list[Case], file: str) -> list[Case]:
    return [c for c in cases if c.file == file]


def results(title: str, intro: str, cases: list[Case]) -> list[str]:
    """A section listing each test of one file with its result."""
    return ["", f"## {title}", "", intro, "", "| Test | Result |", "| --- | --- |",
            *(f"| {name_of(c)} | {mark(c)} |" for c in cases)]


def render(cases: list[Case], fuzz: dict[str, Fuzz], long: bool, code: int) -> str:
    from hostile_estate import PAYLOADS  # tests/ is on sys.path (see main)

    from aksaudit.reports.markdown import code as code_span

    faults_doc = docstrings(ROOT / "tests/collect/test_fault_matrix.py")
    failed = [c for c in cases if c.status == "failed"]
    skipped = [c for c in cases if c.status == "skipped"]
    examples = sum(f.passing for f in fuzz.values())
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    import hypothesis  # the version this run used
    lines = [
        "# Reliability: faults survived, hostile inputs tried, fuzzing",
        "",
        "<!-- Generated by scripts/reliability_report.py from a test run; do not edit by hand. -->",
        "",
        "aksaudit must never report \"compliant\" for what it could not read, must not turn hostile resource "
        "names into markup, links, terminal control or shell, and must not leak credentials. This page is "
        "written by `scripts/reliability_report.py` from one run of the tests that check exactly that: every "
        "figure below is what that run saw.",
        "",
        f"- Run: {now}, Python {platform.python_version()}, Hypothesis {hypothesis.__version__}, "
        f"fuzz profile `{'long' if long else 'ci'}` (`python scripts/reliability_report.py{' --long' if long else ''}`)",
        f"- Tests: {len(cases)} run, {len(cases) - len(failed) - len(skipped)} passed, {len(failed)} failed, "
        f"{len(skipped)} skipped; {examples:,} fuzz examples passed, "
        f"{sum(f.failing for f in fuzz.values())} failed",
        f"- Verdict: {verdict(code, failed)}",
        "",
        "## Fault matrix (live scans against the HTTPS Resource Graph emulator)",
        "",
        "One test per fault, in `tests/collect/test_fault_matrix.py`. Each asserts the outcome: complete results equal "
        "to a scan of the same estate file, or exit 3 with `scan.complete = false`, a gap naming what is missing "
        "and no finding the full estate lacks. Never exit 0 or 1 with data missing.",
        "",
        "| Fault | Test | Result | Outcome seen |",
        "| --- | --- | --- | --- |",
    ]
    for case in section(cases, "tests/collect/test_fault_matrix.py"):
        fault = faults_doc.get(case.name.split("[")[0], "")
        seen = case.properties.get("outcome") or case.detail
        lines.append(f"| {cell(fault)} | {name_of(case)} | {mark(case)} ({case.seconds:.1f} s) | {cell(seen)} |")
    lines += [
        "",
        "## Hostile inputs",
        "",
        "`tests/hostile_estate.py` puts every payload below into every free-text field of the drifted example "
        "estate (resource and resource group names, subnet and route names, rule collection group, collection "
        "and rule names, descriptions, tags; the payloads without `/` into names inside ARM ids too). The "
        "estate still gives exactly the example's findings, renamed, so every output below carries them.",
        "",
        "| Payload | Text |",
        "| --- | --- |",
    ]
    for label, payload in PAYLOADS:  # control characters spelled out, then a table-safe code span
        lines.append(f"| {label} | {code_span(payload.encode('unicode_escape').decode('ascii'))} |")
    lines += ["", "| Output | Test | Result |", "| --- | --- | --- |"]
    for case in section(cases, "tests/reports/test_hostile_outputs.py"):
        lines.append(f"| {cell(case.name.replace('test_', '', 1).replace('_', ' '))} | {name_of(case)} | {mark(case)} |")
    lines += results(
        "Secrets and privacy",
        "A full live scan (client-secret credential, `-vv` SDK logging) writes every output; every artifact, "
        "its stdout and stderr, and every cassette are searched for the tokens the emulator issued, the client "
        "secret, bearer tokens, JWTs (`eyJ…`.`…`) and `client_secret=` form fields other than the scrubbed "
        "`REDACTED`. `--redact-subscriptions` shows each subscription id as `sub-` + 8 hex digits of an "
        "HMAC-SHA256 of the id under a fixed product key in SARIF, HTML, Markdown and the terminal summary. "
        "The JSON result, snapshots and remediation scripts keep the real ids (they feed `--baseline`, "
        "`remediate --from` and `az`, which need them), and fingerprints never change, so turning redaction "
        "on or off does not open or close a code-scanning alert.",
        section(cases, "tests/results/test_privacy.py"))
    lines += results(
        "Input limits and partial inputs",
        "A snapshot too large for the memory aksaudit may use (half the physical memory, or of a lower cgroup "
        "limit; "
        "`AKSAUDIT_MAX_SNAPSHOT_BYTES` sets it) is refused before it is read (exit 2, the file named). A row "
        "with a list of more than 100,000 items is rejected and named in a warning, and the scan is "
        "incomplete. JSON nested deeper than the parser allows is an error naming the file. A snapshot whose "
        "own record says it is incomplete (or is anything but plainly complete), and a saved query result that "
        "says more rows exist (truncated, a skip token, a total above its count), scan incomplete (exit 3). "
        "A findings file whose evidence the fixes cannot use gives manual remediation blocks, not a traceback.",
        section(cases, "tests/model/test_input_limits.py"))
    lines += [
        "",
        "## Fuzzing",
        "",
        "`tests/model/test_fuzz.py`: Hypothesis mutates the example estates' rows (missing keys, nulls, wrong types, "
        "lists of thousands, nesting 60 deep, odd Unicode, changed case, duplicated rows, rows that are not "
        "objects, CIDRs like `10.0.0.0/33` and IPv6 prefixes), builds whole snapshot documents and damaged "
        "snapshot files, and runs each through load, model, every check and every renderer (JSON, SARIF, "
        "per-subscription SARIF, HTML, Markdown, terminal, remediation script). The property: nothing raises, "
        "and every rejected row is named in a warning.",
        "",
        "| Test | Result | Examples passed | Failing | Invalid (discarded) | Stopped because |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for case in section(cases, "tests/model/test_fuzz.py"):
        stats = fuzz.get(case.name, Fuzz())
        lines.append(f"| {name_of(case)} | {mark(case)} ({case.seconds:.0f} s) | {stats.passing:,} | "
                     f"{stats.failing} | {stats.invalid:,} | {cell(stats.stopped)} |")
    if failed or skipped:
        lines += ["", "## Not passed", ""]
        lines += [f"- {name_of(c)}: {c.status}: {cell(c.detail)}" for c in failed + skipped]
    return "\n".join(lines) + "\n"


def verdict(code: int, failed: list[Case]) -> str:
    if failed:
        return f"**FAILURES**: {len(failed)} test(s), see the rows marked FAILED"
    if code != 0:
        return f"**not a clean run**: pytest exited {code} (see its output)"
    return "**nothing lost**: every fault ended in complete results or a named gap with exit 3"


def _tables(text: str) -> list[str]:
    """The rows that hold results, without timings: what --check compares."""
    return [re.sub(r"\(\d+(\.\d+)? s\)|exit 130 [\d.]+s", "", line) for line in text.splitlines()
            if line.startswith("| `")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--long", action="store_true", help="the long fuzz profile (tens of thousands of examples)")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the result tables differ")
    parser.add_argument("-o", "--output", type=Path, default=DOC)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="also keep the run's JUnit XML and pytest output here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests"))
    with tempfile.TemporaryDirectory() as folder:
        raw = args.keep or Path(folder)
        raw.mkdir(parents=True, exist_ok=True)
        junit = raw / "junit.xml"
        code, output = run_pytest(args.long, junit)
        (raw / "pytest-output.txt").write_text(output, encoding="utf-8")
        if not junit.exists():
            print("pytest wrote no JUnit XML; see its output above", file=sys.stderr)
            return code or 1
        cases = read_junit(junit)
    text = render(cases, read_statistics(output), args.long, code)
    if args.check:
        same = args.output.exists() and _tables(args.output.read_text(encoding="utf-8")) == _tables(text)
        print("docs/reliability.md is current" if same else "docs/reliability.md would change", file=sys.stderr)
        return code or (0 if same else 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}",
          file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
