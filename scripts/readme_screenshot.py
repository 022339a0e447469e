"""Regenerate the README's screenshot: the drifted example's HTML report, UDR004 open in the
detail view.

    python scripts/readme_screenshot.py [--output docs/report-screenshot.png]

Runs the real scan on examples/hub-spoke-drifted.json (scan times fixed, so the page depends on
the code alone), renders the HTML report and photographs it in the system Chromium, the same
way the browser tests open it. Beside the PNG it records the SHA-256 of the HTML it
photographed (`<png>.sha256`): tests/reports/test_readme_screenshot.py renders the page again and fails
when the hash differs, i.e. when the committed picture no longer shows what the code produces.
A hash of the input, not of pixels: fonts and anti-aliasing differ between machines, the page
does not.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from report_estates import scan_example  # noqa: E402

from aksaudit.reports import html  # noqa: E402

SHOWN_FINDING = "UDR004"  # the broken next hop: open in the detail view
SCAN_TIME = "2026-01-15T09:30:00Z"
WIDTH, HEIGHT = 1360, 900
SCREENSHOT = ROOT / "docs" / "report-screenshot.png"


def report_html() -> str:
    """The page the screenshot shows, the same on every machine for the same code."""
    result = dataclasses.replace(scan_example(), started_at=SCAN_TIME, finished_at=SCAN_TIME)
    return html.render(result)


def digest(page_html: str) -> str:
    return hashlib.sha256(page_html.encode("utf-8")).hexdigest()


def hash_file(png: Path) -> Path:
    return png.with_name(png.name + ".sha256")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=SCREENSHOT)
    args = parser.parse_args()
    from browser_support import chromium_for_script, launch, open_detail, open_report
    from playwright.sync_api import sync_playwright

    executable = chromium_for_script()
    if executable is None:
        return 2
    page_html = report_html()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        path = Path(folder) / "report.html"
        path.write_text(page_html, encoding="utf-8")
        browser = launch(playwright, executable)
        watched = open_report(browser, path, width=WIDTH, height=HEIGHT)
        open_detail(watched.page, f"#rows tr[data-check={SHOWN_FINDING}]")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        watched.page.screenshot(path=str(args.output), full_page=True)
        browser.close()
        if watched.console_errors or watched.blocked:
            print(f"the page was not quiet: {watched.console_errors + watched.blocked}", file=sys.stderr)
            return 1
    hash_file(args.output).write_text(f"{digest(page_html)}  HTML photographed in {args.output.name}\n")
    print(f"wrote {args.output} and {hash_file(args.output).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
