"""The human summary printed after a scan: a header that says what the scan could see, then the
findings, one line each at any terminal width.

A finding's line carries its severity, check id, subscription and resource group, resource and a
short message. When the line is wider than the terminal, the longest parts are elided in the
middle ('rg-netw…-prod'), never wrapped: a wrapped table at 80 columns (the width of pipes and
CI logs) broke ids mid-word and took a dozen lines per finding. Three layouts, as in ruff:

* `grouped` (the default, on a terminal and in logs): findings under one heading per check,
  with its count, at most `GROUP_ROWS` lines per check (`concise` or `full` list them all);
* `concise`: every finding on one line, nothing else between them;
* `full`: every finding's line followed by its full resource id, location, message and
  suppression, indented; long text is wrapped there, as it is read rather than scanned.

Everything drawn from scan data goes through `plain`: no control or bidi character reaches the
terminal.
"""
from __future__ import annotations

import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from aksaudit.run.engine import ScanResult
from aksaudit.results.findings import Finding

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
_SHORT_SEVERITY = {"critical": "crit", "high": "high", "medium": "med", "low": "low", "info": "info"}
ELLIPSIS = "…"
GROUP_ROWS = 20  # findings listed per check in the grouped layout
LISTED = 20  # warnings and skipped outcomes listed outside the full layout
WIDE = 120  # from this width severities are spelled out
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class OutputFormat(str, Enum):
    """How `aksaudit scan` lists findings on the terminal (`--output-format`)."""

    GROUPED = "grouped"
    CONCISE = "concise"
    FULL = "full"


DEFAULT_FORMAT = OutputFormat.GROUPED


def short_id(resource_id: str) -> str:
    """'<type>/<name>[/<child type>/<child>]' after the provider: enough to recognise a resource."""
    lowered = resource_id.lower()
    index = lowered.find("/providers/")
    tail = resource_id[index + len("/providers/"):] if index >= 0 else resource_id
    return "/".join(tail.split("/")[1:]) or resource_id


def plain(text: str, keep_newlines: bool = False) -> str:
    """Scan text fit for a terminal: every character that is not printable (ESC and the other
    controls, bidi overrides, line separators) becomes '?', so a resource name can neither
    drive the terminal nor reorder what is shown. Newlines stay when asked to (multi-line text)."""
    return "".join(ch if ch.isprintable() or (keep_newlines and ch == "\n") else "?" for ch in text)


# --- fitting text into cells ---------------------------------------------------------------------


def _head(text: str, cells: int) -> str:
    """The longest start of `text` that fits in `cells` terminal cells."""
    out, used = [], 0
    for ch in text:
        width = cell_len(ch)
        if used + width > cells:
            break
        out.append(ch)
        used += width
    return "".join(out)


def _tail(text: str, cells: int) -> str:
    return _head(text[::-1], cells)[::-1]


def elide_middle(text: str, cells: int) -> str:
    """`text` in at most `cells` cells: kept whole if it fits, else its start and end around '…'.
    Ids differ at both ends (a resource group prefix, a name suffix), so both are kept."""
    if cell_len(text) <= cells:
        return text
    if cells <= 1:
        return ELLIPSIS[:cells]
    room = cells - 1
    head = _head(text, (room + 1) // 2)
    return head + ELLIPSIS + _tail(text, room - cell_len(head))


def elide_end(text: str, cells: int) -> str:
    """`text` in at most `cells` cells, cut at the end: for prose, whose start says the most."""
    if cell_len(text) <= cells:
        return text
    if cells <= 1:
        return ELLIPSIS[:cells]
    return _head(text, cells - 1) + ELLIPSIS


# --- the parts of a finding's line ---------------------------------------------------------------


def resource_group(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "resourcegroups" in lowered:
        index = lowered.index("resourcegroups")
        if index + 1 < len(parts):
            return parts[index + 1]
    return ""


def short_subscription(subscription_id: str) -> str:
    """A GUID's first block (as a short commit hash); anything else (a pseudonym) whole."""
    return subscription_id[:8] if _GUID.fullmatch(subscription_id) else subscription_id


def where(finding: Finding, cells: int | None = None) -> str:
    """'<subscription>/<resource group>': where to look for the resource in the portal. Fitted
    into `cells`, the resource group is what gets elided: the short subscription stays whole."""
    group = plain(resource_group(finding.resource_id))
    subscription = plain(short_subscription(finding.subscription_id))
    if not group:
        return elide_middle(subscription or "-", cells if cells is not None else 1 << 16)
    if cells is None or cell_len(subscription) + 1 + cell_len(group) <= cells:
        return f"{subscription}/{group}"
    if cells < cell_len(subscription) + 4:
        return elide_middle(f"{subscription}/{group}", cells)
    return f"{subscription}/{elide_middle(group, cells - cell_len(subscription) - 1)}"


def what(finding: Finding) -> str:
    """The resource as '<parent name>/<type>/<name>' (a route in its table, a rule in its
    collection: the finding's place inside the resource counts as a child), or '<type>/<name>'
    for a top-level resource. The full id is in the `full` layout and every report."""
    parts = [p for p in short_id(finding.resource_id).split("/") if p]
    parts += [p for p in finding.locus.split("/") if p] if "/" in finding.locus else []
    if len(parts) >= 3 and len(parts) % 2 == 0:
        name = "/".join(parts[-3:])
    else:
        name = "/".join(parts[-2:]) or finding.resource_id
    return f"{name} [{finding.locus}]" if finding.locus and "/" not in finding.locus else name


def marks(finding: Finding) -> str:
    found = []
    if finding.suppressed:
        found.append("suppressed")
    if finding.baseline_state in ("new", "reappeared"):
        found.append(finding.baseline_state)
    return "".join(f"[{mark}] " for mark in found)


@dataclass(frozen=True)
class Columns:
    """Cells given to each part of a finding's line at one terminal width. The location and
    resource columns are as wide as the widest entry needs, up to a share of the line, so lines
    align like a table; the message takes what is left and is the first to be cut."""

    width: int
    severity: int
    check: int
    location: int  # natural widths of the widest entries
    resource: int

    @classmethod
    def fit(cls, width: int, findings: Sequence[Finding]) -> "Columns":
        severity = 8 if width >= WIDE else 4
        longest = max((cell_len(plain(f.check_id)) for f in findings), default=6)
        return cls(width, severity, max(3, min(longest, 12, width // 3)),
                   max((cell_len(where(f)) for f in findings), default=0),
                   max((cell_len(plain(what(f))) for f in findings), default=0))

    def severity_text(self, severity: str) -> str:
        text = severity if self.severity >= 8 else _SHORT_SEVERITY.get(severity, severity)
        return elide_end(text, self.severity).ljust(self.severity)

    def widths(self, indent: int) -> tuple[int, int]:
        """(location, resource) column widths for lines indented by `indent`."""
        room = self.width - indent - self.severity - 1 - self.check - 1
        location = min(self.location, max(room * 3 // 10, 1))
        resource = min(self.resource, max(room * 2 // 3 - location - 1, 1))
        return location, resource

    def line(self, finding: Finding, indent: int = 0) -> tuple[str, str]:
        """(severity cell, the rest of the line); together at most `width - indent` cells."""
        sev = self.severity_text(finding.severity.value)
        check = elide_middle(plain(finding.check_id), self.check)
        location_cells, resource_cells = self.widths(indent)
        location = where(finding, location_cells)
        resource = elide_middle(plain(what(finding)), resource_cells)
        text = (f"{check}{' ' * (self.check - cell_len(check))} {location}{' ' * (location_cells - cell_len(location))}"
                f" {resource}{' ' * (resource_cells - cell_len(resource))}")
        room = self.width - indent - self.severity - 1
        left = room - cell_len(text) - 2
        if left > 0:
            text += "  " + elide_end(plain(marks(finding) + finding.message), left)
        return sev, elide_end(text.rstrip(), room)


# --- header --------------------------------------------------------------------------------------


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def header_lines(result: ScanResult) -> list[tuple[str, str]]:
    """(text, style) lines that say what the scan saw before any finding is shown."""
    active = [f for f in result.findings if not f.suppressed]
    suppressed = len(result.findings) - len(active)
    by_severity = Counter(f.severity.value for f in active)
    counts = ", ".join(f"{by_severity[s]} {s}" for s in _STYLE if by_severity[s])
    lines = []
    state = ("scan complete" if result.complete
             else f"SCAN INCOMPLETE ({_plural(len(result.errors), 'gap')}, "
                  f"{_plural(len(result.skipped), 'skipped outcome')})")
    lines.append((f"aksaudit {result.tool_version}: {state}; {_plural(len(result.checks_run), 'check')}, "
                  f"{result.resources_evaluated} resources evaluated",
                  "bold green" if result.complete else "bold red"))
    findings = f"Findings: {len(active)}" + (f" ({counts})" if counts else "")
    if suppressed:
        findings += f"; {suppressed} suppressed, not counted"
    lines.append((findings, ""))
    lines.append((f"Clusters compliant: {result.clusters_compliant} of {result.clusters_total}"
                  + ("" if result.complete else " (of those that could be read)"), ""))
    if result.resolved is not None:
        states = Counter(f.baseline_state for f in result.findings)
        reappeared = f" ({states['reappeared']} reappeared)" if states["reappeared"] else ""
        lines.append((f"Since the baseline: {states['new'] + states['reappeared']} new{reappeared}, "
                      f"{states['unchanged']} unchanged, {len(result.resolved)} resolved", ""))
    return lines


# --- the summary -----------------------------------------------------------------------------------


def _print(console: Console, text: str, style: str = "") -> None:
    """One line, never wider than the terminal: whatever laid it out, this is the last word
    (below the width a layout was designed for, what does not fit is cut with '…')."""
    console.print(Text(elide_end(text, max(console.width, 1)), style=style), no_wrap=True, overflow="ignore",
                  crop=False, soft_wrap=True)


def _print_fitted(console: Console, text: str, width: int, style: str = "") -> None:
    _print(console, elide_end(plain(text), width), style)


def _print_wrapped(console: Console, text: str, width: int, indent: str, style: str = "") -> None:
    """Prose in the full layout: wrapped at the width, every piece indented, none too wide."""
    room = max(width - cell_len(indent), 1)
    for piece in textwrap.wrap(plain(text), room, break_on_hyphens=False) or [""]:
        _print(console, indent + elide_end(piece, room), style)


def _finding_line(console: Console, columns: Columns, finding: Finding, indent: str) -> None:
    sev, rest = columns.line(finding, len(indent))
    # The columns need about 15 cells; a narrower terminal gets the start of the line, cut.
    text = elide_end(f"{indent}{sev} {rest}", max(console.width, 1))
    line = Text(text)
    line.stylize(_STYLE.get(finding.severity.value, ""), len(indent), len(indent) + len(sev))
    if finding.suppressed:
        line.stylize("dim", len(indent) + len(sev))
    console.print(line, no_wrap=True, overflow="ignore", crop=False, soft_wrap=True)


def _details(console: Console, finding: Finding, width: int) -> None:
    indent = "    "
    facts = [("resource", finding.resource_id), ("where", finding.locus), ("subscription", finding.subscription_id),
             ("since baseline", finding.baseline_state)]
    for label, value in facts:
        if value:
            _print(console, indent + elide_middle(plain(f"{label}: {value}"), max(width - len(indent), 1)), "dim")
    _print_wrapped(console, finding.message, width, indent)
    if finding.suppression:
        reason = finding.suppression.get("reason", "accepted risk")
        expires = finding.suppression.get("expires")
        _print_wrapped(console, f"suppressed: {reason}" + (f" (until {expires})" if expires else ""), width, indent,
                       "yellow")


def _grouped(findings: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.check_id, []).append(finding)
    rank = {check: max(f.severity.rank for f in members) for check, members in groups.items()}
    return sorted(groups.items(), key=lambda item: (-rank[item[0]], item[0]))


def _findings(console: Console, result: ScanResult, columns: Columns, layout: OutputFormat) -> None:
    width = columns.width
    if layout is OutputFormat.GROUPED:
        for check_id, members in _grouped(result.findings):
            suppressed = sum(1 for f in members if f.suppressed)
            count = _plural(len(members), "finding") + (f", {suppressed} suppressed" if suppressed else "")
            _print(console, "", "")
            _print_fitted(console, f"{check_id} · {count} · {members[0].title}", width, "bold")
            for finding in members[:GROUP_ROWS]:
                _finding_line(console, columns, finding, "  ")
            if len(members) > GROUP_ROWS:
                _print_fitted(console, f"  … and {len(members) - GROUP_ROWS} more {check_id} findings "
                                       "(--output-format concise lists every finding)", width, "dim")
        return
    _print(console, "", "")
    for finding in result.findings:
        _finding_line(console, columns, finding, "")
        if layout is OutputFormat.FULL:
            _details(console, finding, width)
            _print(console, "", "")


def _notices(console: Console, result: ScanResult, width: int) -> list[str]:
    """Expired suppressions, loudly: their findings count again. Returns the warnings they are."""
    expired = [n for n in result.suppression_notices if n.kind == "expired"]
    if expired:
        _print_fitted(console, "EXPIRED SUPPRESSIONS: their findings are reported again", width, "bold yellow")
        for notice in expired:
            _print_fitted(console, f"  {notice.check} EXPIRED on {notice.expires}: {notice.reason} "
                                   f"({short_id(notice.resource)})", width, "yellow")
    return [n.message for n in expired]


def render_notices(result: ScanResult, console: Console) -> None:
    """What `--quiet` still prints: expired suppressions change what fails the run."""
    _notices(console, result, console.width)


def render(result: ScanResult, console: Console, output_format: OutputFormat | str = DEFAULT_FORMAT) -> None:
    layout = OutputFormat(output_format)
    width = max(console.width, 1)
    for text, style in header_lines(result):
        _print_fitted(console, text, width, style)
    columns = Columns.fit(width, result.findings)
    _findings(console, result, columns, layout)
    if result.findings or result.suppression_notices or result.warnings or not result.complete:
        _print(console, "", "")
    shown = set(_notices(console, result, width))
    warnings = [w for w in result.warnings if w not in shown]
    limit = len(warnings) if layout is OutputFormat.FULL else LISTED
    for warning in warnings[:limit]:
        _emit(console, f"warning: {warning}", width, layout, "yellow")
    if len(warnings) > limit:
        _print_fitted(console, f"… and {len(warnings) - limit} more warnings (--output-format full lists them all)",
                      width, "yellow")
    if not result.complete:
        _print_fitted(console, "SCAN INCOMPLETE: some data could not be read; nothing it hides is reported as "
                               "compliant.", width, "bold red")
        for error in result.errors:
            _emit(console, f"  gap: {error}", width, layout)
        limit = len(result.skipped) if layout is OutputFormat.FULL else LISTED
        for item in result.skipped[:limit]:
            _emit(console, f"  skipped {item.check_id} on {short_id(item.resource_id)}: {item.reason}", width, layout)
        if len(result.skipped) > limit:
            _print_fitted(console, f"  … and {len(result.skipped) - limit} more skipped "
                                   "(--output-format full lists them all)", width)


def _emit(console: Console, text: str, width: int, layout: OutputFormat, style: str = "") -> None:
    """A free-text line: whole and wrapped in the full layout, one elided line otherwise."""
    if layout is OutputFormat.FULL:
        indent = " " * (len(text) - len(text.lstrip(" ")) + 2)
        pieces = textwrap.wrap(plain(text), max(width, 1), subsequent_indent=indent, break_on_hyphens=False)
        for piece in pieces:
            _print(console, elide_end(piece, width), style)
    else:
        _print_fitted(console, text, width, style)
