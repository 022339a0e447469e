"""A Markdown summary for `$GITHUB_STEP_SUMMARY`: totals, the top findings, per-framework control
results, where to look next.

GitHub caps a step summary at 1 MiB, so the summary lists at most `TOP` findings, at most
`MAX_FRAMEWORKS` frameworks of at most `MAX_CONTROLS` controls each, all with clipped cells, and
stays well under 100 KiB whatever the scan size. Resource names, messages and other
scan text are attacker-controlled: they go into code spans, where Markdown, HTML, autolinks
and @mentions are all inert, with pipes escaped so they cannot break the table.
"""
from __future__ import annotations

import re

from aksaudit.run.engine import ScanResult

from .controls_view import STATUS_LABELS, FrameworkView, framework_views
from .terminal import short_id

TOP = 25
MAX_CELL = 240
MAX_LISTED = 10
MAX_FRAMEWORKS = 6
MAX_CONTROLS = 60  # per framework
MAX_TITLE = 120
_BACKTICKS = re.compile(r"`+")
# Controls, line separators and the bidi controls that would reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def code(text: str, limit: int = MAX_CELL) -> str:
    """Untrusted text as an inline code span that is safe inside a table cell."""
    flat = _CONTROL.sub(" ", text).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    if not flat:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat.replace('|', chr(92) + '|')}{pad}{fence}"


def _totals(result: ScanResult) -> list[str]:
    counts = result.by_severity()
    lines = ["| Severity | Findings |", "| --- | ---: |"]
    lines += [f"| {severity} | {count} |" for severity, count in counts.items()]
    lines.append(f"| **total** | **{len(result.findings)}** |")
    return lines


def _status(result: ScanResult) -> str:
    if not result.complete:
        return (f"**Scan incomplete**: {len(result.errors)} error(s), {len(result.skipped)} skipped outcome(s). "
                "Nothing that could not be read is reported as compliant.")
    if not result.findings:
        return "**No failures**: every check passed on readable data."
    suppressed = sum(1 for f in result.findings if f.suppressed)
    accepted = f" ({suppressed} suppressed as accepted risks)" if suppressed else ""
    return f"**{len(result.findings)} failure(s)** found on readable data{accepted}."


def _marks(finding) -> str:
    """Severity, plus whether the finding is an accepted risk or new since the baseline."""
    marks = [finding.severity.value]
    if finding.suppressed:
        marks.append("suppressed")
    if finding.baseline_state in ("new", "reappeared"):
        marks.append(finding.baseline_state)
    return " · ".join(marks)


def _top(result: ScanResult) -> list[str]:
    if not result.findings:
        return []
    lines = [f"### Top findings ({min(TOP, len(result.findings))} of {len(result.findings)})", "",
             "| Severity | Check | Resource | Message |", "| --- | --- | --- | --- |"]
    for finding in result.findings[:TOP]:
        resource = code(short_id(finding.resource_id) + (f" {finding.locus}" if finding.locus else ""))
        lines.append(f"| {_marks(finding)} | {code(finding.check_id, 40)} | {resource} | {code(finding.message)} |")
    if len(result.findings) > TOP:
        lines += ["", f"… and {len(result.findings) - TOP} more in the full reports."]
    return lines


def _framework(framework: FrameworkView) -> list[str]:
    """One framework's controls as a table. Ids, titles and names are data (they may come from a
    JSON file read back), so they are code spans like any other scan text; statuses and counts
    are this module's own words and numbers."""
    counts = " · ".join(f"{count} {STATUS_LABELS[status]}" for status, count in framework.counts.items() if count)
    controls = framework.controls
    lines = [f"### Controls: {code(framework.title, MAX_TITLE)}", "",
             f"{len(controls)} control(s){': ' + counts if counts else ''}."]
    if not controls:
        return lines
    lines += ["", "| Control | Title | Status | Clusters satisfied |", "| --- | --- | --- | ---: |"]
    for control in controls[:MAX_CONTROLS]:
        status = f"**{control.label}**" if control.status != "satisfied" else control.label
        if control.evidence != "sufficient":  # the checks see only part of what the control asks
            status += f" ({control.evidence} evidence)"
        lines.append(f"| {code(control.id, 40)} | {code(control.title, MAX_TITLE)} | {status} | "
                     f"{control.satisfied_of_total} |")
    if len(controls) > MAX_CONTROLS:
        lines += ["", f"… and {len(controls) - MAX_CONTROLS} more control(s) in the JSON report."]
    return lines


def _controls(result: ScanResult) -> list[list[str]]:
    frameworks = framework_views(result.controls)
    blocks = [_framework(framework) for framework in frameworks[:MAX_FRAMEWORKS]]
    if len(frameworks) > MAX_FRAMEWORKS:
        blocks.append([f"… and {len(frameworks) - MAX_FRAMEWORKS} more framework(s) in the JSON report."])
    return blocks


def _gaps(result: ScanResult) -> list[str]:
    if result.complete:
        return []
    lines = ["### Gaps", ""]
    lines += [f"- {code(error)}" for error in result.errors[:MAX_LISTED]]
    lines += [f"- skipped {code(s.check_id, 40)} on {code(short_id(s.resource_id))}: {code(s.reason)}"
              for s in result.skipped[:MAX_LISTED]]
    hidden = max(0, len(result.errors) - MAX_LISTED) + max(0, len(result.skipped) - MAX_LISTED)
    if hidden:
        lines.append(f"- … and {hidden} more in the JSON report")
    return lines


def _hints(result: ScanResult) -> list[str]:
    checks = sorted({f.check_id for f in result.findings})[:3]
    lines = ["### Where to look next", "",
             "- Code scanning alerts: the repository's **Security** tab, tool `aksaudit` (from the SARIF upload).",
             "- The interactive HTML report (`--html`) shows each cluster's egress path with the broken hop; "
             "attach it as a workflow artifact.",
             "- The JSON report (`--json`) holds every finding with its evidence and fingerprint."]
    if checks:
        lines.append("- Why and how to fix: " + ", ".join(code(f"aksaudit checks explain {c}", 80) for c in checks))
    return lines


def render(result: ScanResult) -> str:
    blocks = [
        ["## aksaudit: AKS egress audit", "", _status(result), "",
         f"Clusters compliant: **{result.clusters_compliant} of {result.clusters_total}** · "
         f"resources evaluated: {result.resources_evaluated} · checks run: {len(result.checks_run)} · "
         f"aksaudit {code(result.tool_version, 40)}"],
        _totals(result), _top(result), *_controls(result), _gaps(result), _hints(result),
    ]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"
