"""How fast the HTML report becomes usable with 10,000 findings, in the system Chromium.

    python benchmarks/html_interactive.py [--spokes 5000] [--runs 3]

Builds a large estate from the drifted example (each cloned payments spoke fails UDR004, each
cloned analytics spoke UDR001), runs the real scan, renders the report and measures:

* load: navigation start until the page's script has drawn the first rows (html[data-ready]);
* filter, sort, page: the time one user action takes, measured inside the page;
* detail: a click on a row until the detail view shows that finding (its packed evidence and
  fix inflated: the view is `aria-busy` until then);
* search: typing a query until the table shows the matches (includes the 120 ms debounce).

Prints one JSON document and exits 1 when a generous bound is exceeded (load 5 s, any action
500 ms, search 1 s). Timings belong here, not in unit tests, because they depend on the machine.
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import chromium_for_script, launch, open_report  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from report_estates import cloned_spokes, scan  # noqa: E402

from aksaudit.reports import html  # noqa: E402

BOUNDS_MS = {"load": 5000, "filter": 500, "sort": 500, "page": 500, "detail": 500, "search": 1000}

# One user action, timed inside the page: the handlers are synchronous, so the clock covers
# filtering, sorting and redrawing the rows.
TIMED_ACTION = """([selector, kind, value]) => {
  const target = document.querySelector(selector);
  const start = performance.now();
  if (kind === "select") { target.value = value; target.dispatchEvent(new Event("change")); }
  else { target.click(); }
  return performance.now() - start;
}"""

# A click on the first row, timed until the detail view has been filled.
TIMED_DETAIL = """() => new Promise(resolve => {
  const panel = document.getElementById("detail");
  const start = performance.now();
  const done = () => panel.getAttribute("aria-busy") === "false" && !panel.hidden;
  const observer = new MutationObserver(() => {
    if (done()) { observer.disconnect(); resolve(performance.now() - start); }
  });
  observer.observe(panel, { attributes: true });
  document.querySelector("#rows tr").click();
})"""


def measure(browser, path: Path, expected_rows: int) -> dict[str, float]:
    started = time.perf_counter()
    watched = open_report(browser, path)
    load = (time.perf_counter() - started) * 1000
    page = watched.page
    assert watched.console_errors == [] and watched.blocked == [], (watched.console_errors, watched.blocked)
    assert page.locator("#rows tr").count() == min(expected_rows, 100)
    timings = {"load": load}
    timings["filter"] = page.evaluate(TIMED_ACTION, ["#filter-check", "select", "UDR001"])
    page.evaluate(TIMED_ACTION, ["#filter-check", "select", ""])
    timings["sort"] = page.evaluate(TIMED_ACTION, ["#findings-table th button[data-sort=message]", "click", ""])
    timings["page"] = page.evaluate(TIMED_ACTION, ["#next", "click", ""])
    timings["detail"] = page.evaluate(TIMED_DETAIL)
    started = time.perf_counter()
    page.fill("#filter-search", "payments00042")
    page.locator("#count", has_text="match").wait_for()  # "N of M findings match" once filtered
    timings["search"] = (time.perf_counter() - started) * 1000
    page.context.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spokes", type=int, default=5000, help="copies of each spoke (2 findings per pair)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    executable = chromium_for_script()
    if executable is None:
        return 2
    started = time.perf_counter()
    result = scan(cloned_spokes(args.spokes, args.spokes), source="benchmark")
    scan_seconds = time.perf_counter() - started
    started = time.perf_counter()
    page_html = html.render(result)
    render_seconds = time.perf_counter() - started
    encoded = page_html.encode("utf-8")
    runs = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        path = Path(folder) / "report.html"
        path.write_bytes(encoded)
        browser = launch(playwright, executable)
        for _ in range(args.runs):
            runs.append(measure(browser, path, len(result.findings)))
        browser.close()
    medians = {name: round(statistics.median(run[name] for run in runs), 1) for name in runs[0]}
    over = {name: value for name, value in medians.items() if value > BOUNDS_MS[name]}
    print(json.dumps({
        "findings": len(result.findings), "clusters": result.clusters_total,
        "scan_seconds": round(scan_seconds, 2), "render_seconds": round(render_seconds, 2),
        "html_bytes": len(encoded), "html_gzip_bytes": len(gzip.compress(encoded)),
        "median_ms": medians, "bounds_ms": BOUNDS_MS, "runs": args.runs, "within_bounds": not over,
    }, indent=2))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
