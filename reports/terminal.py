"""The human summary printed after a scan: totals, completeness, and the findings table."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aksaudit.run.engine import ScanResult

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
MAX_ROWS = 50


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


def _safe(text: str) -> Text:
    """Resource names are attacker-controlled: no markup, no control characters."""
    return Text(plain(text))


def render(result: ScanResult, console: Console) -> None:
    counts = result.by_severity()
    totals = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no failures"
    console.print(Text(f"aksaudit {result.tool_version}: {len(result.checks_run)} checks, "
                       f"{result.resources_evaluated} resources evaluated, {totals}"))
    console.print(Text(f"Clusters compliant: {result.clusters_compliant} of {result.clusters_total}"))
    if result.findings:
        table = Table(show_lines=False)
        for column in ("Severity", "Check", "Resource", "Where", "Message"):
            table.add_column(column, overflow="fold")
        for finding in result.findings[:MAX_ROWS]:
            table.add_row(Text(finding.severity.value, style=_STYLE[finding.severity.value]), finding.check_id,
                          _safe(short_id(finding.resource_id)), _safe(finding.locus), _safe(finding.message))
        console.print(table)
        if len(result.findings) > MAX_ROWS:
            console.print(Text(f"... and {len(result.findings) - MAX_ROWS} more (see the JSON output)"))
    expired = [n for n in result.suppression_notices if n.kind == "expired"]
    if expired:
        console.print(Text("EXPIRED SUPPRESSIONS — their findings are reported again:", style="bold yellow"))
        for notice in expired:
            console.print(_safe(f"  {notice.check} on {short_id(notice.resource)} expired {notice.expires}: {notice.reason}"))
    suppressed = sum(1 for f in result.findings if f.suppressed)
    if suppressed:
        console.print(Text(f"{suppressed} finding(s) suppressed by configuration (shown, not failing the run)"))
    for warning in result.warnings[:20]:
        console.print(_safe(f"warning: {warning}"), style="yellow")
    if not result.complete:
        console.print(Text("SCAN INCOMPLETE: some data could not be read; nothing below is reported as compliant.",
                           style="bold red"))
        for error in result.errors:
            console.print(_safe(f"  gap: {error}"))
        for item in result.skipped[:20]:
            console.print(_safe(f"  skipped {item.check_id} on {short_id(item.resource_id)}: {item.reason}"))
        if len(result.skipped) > 20:
            console.print(Text(f"  ... and {len(result.skipped) - 20} more skipped (see the JSON output)"))
