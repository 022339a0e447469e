"""Regenerate docs/report-screenshot.png: the drifted example's HTML report, one finding open.

    python scripts/screenshot_report.py [--output docs/report-screenshot.png]

Runs the real scan on examples/hub-spoke-drifted.json, renders the HTML report and photographs
it in the system Chromium (the same way the browser tests open it), so the README shows what
the current code produces.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import chromium_for_script, launch, open_report  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from report_estates import scan_example  # noqa: E402

from aksaudit.reports import html  # noqa: E402

SHOWN_FINDING = "UDR004"  # the broken next hop: open in the detail view


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    parser.add_argument("--width", type=int, default=1360)
    args = parser.parse_args()
    executable = chromium_for_script()
    if executable is None:
        return 2
    page_html = html.render(scan_example())
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        path = Path(folder) / "report.html"
        path.write_text(page_html, encoding="utf-8")
        browser = launch(playwright, executable)
        watched = open_report(browser, path, width=args.width, height=900)
        watched.page.click(f"#rows tr[data-check={SHOWN_FINDING}]")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        watched.page.screenshot(path=str(args.output), full_page=True)
        browser.close()
        if watched.console_errors or watched.blocked:
            print(f"the page was not quiet: {watched.console_errors + watched.blocked}", file=sys.stderr)
            return 1
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
