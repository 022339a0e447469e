"""Every renderer the product has, for tests that must run them all (fuzzing, hostile input).

Each entry turns a ScanResult into text the way the CLI does: every `ReportFormat` (JSON v1,
SARIF, the HTML report, the Markdown summary), SARIF as one file per subscription, the terminal
summary (a rich Console writing to a string, as wide as a CI log) and the remediation script
with every block enabled. A module that does not exist (yet) is a test failure, not a skip.
"""
from __future__ import annotations

import importlib
import io
import json
import re
from typing import Callable, Iterator

from rich.console import Console

from aksaudit.run.engine import ScanResult
from aksaudit.reports.formats import ReportFormat


def terminal(result: ScanResult, width: int = 160, color: bool = True, output_format: str = "full") -> str:
    """The summary `aksaudit scan` prints, as a terminal (with colour) would receive it. The full
    layout by default: it is the one that shows every finding's whole message."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="truecolor" if color else None,
                      highlight=False, soft_wrap=False, legacy_windows=False)
    importlib.import_module("aksaudit.reports.terminal").render(result, console, output_format)
    return buffer.getvalue()


def remediation(result: ScanResult) -> str:
    """The script `scan --remediation --include-disruptive` writes for this result."""
    from aksaudit.run.registry import load_registry
    from aksaudit.reports.remediation import check_templates, render
    from aksaudit.cli.remediate import header_of

    checks = result.checks_run or load_registry().checks
    return render(result.findings, check_templates(checks), header_of(result), include_disruptive=True).text


def sarif_per_subscription(result: ScanResult) -> dict[str, str]:
    return importlib.import_module("aksaudit.reports.sarif").render_per_subscription(result)


EXTRA = (("sarif-per-subscription", sarif_per_subscription), ("terminal", terminal), ("remediation", remediation))


def all_renderers() -> Iterator[tuple[str, Callable[[ScanResult], object]]]:
    for report in ReportFormat:
        yield report.value, report.renderer
    yield from EXTRA


def html_text(page: str) -> str:
    """The HTML report as a reader of the file would search it: the page, then what it packs
    (each finding's evidence and fix, each path's boxes: deflated in the page) unpacked as JSON.
    Tests that look for a value, or for its absence, in the report read this, not the bare page."""
    from aksaudit.reports.embedded import unpack_groups

    found = re.search(r'<script id="report-packed" type="application/json">(.*?)</script>', page, re.S)
    assert found, "the page has no packed data"
    packed = json.loads(found.group(1))
    unpacked = {kind: unpack_groups(groups) for kind, groups in packed.items() if isinstance(groups, list)}
    return page + "\n" + json.dumps(unpacked, ensure_ascii=False)
