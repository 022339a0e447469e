"""The README's screenshot shows what the current code renders.

scripts/readme_screenshot.py records, beside the PNG, the SHA-256 of the HTML page it
photographed. Rendering that page again must give the same hash: any change to the report's
template, script, style or to the example's findings makes the committed picture stale, and this
test says how to regenerate it. (A hash of the input, not a pixel comparison: fonts differ
between machines, the page does not.)
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "scripts" / "readme_screenshot.py"


def _script():
    spec = importlib.util.spec_from_file_location("readme_screenshot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_screenshot_was_taken_of_the_current_report():
    script = _script()
    recorded = script.hash_file(script.SCREENSHOT)
    assert script.SCREENSHOT.is_file() and recorded.is_file()
    assert script.SCREENSHOT.name in (ROOT / "README.md").read_text()
    expected = recorded.read_text().split()[0]
    assert script.digest(script.report_html()) == expected, \
        "docs/report-screenshot.png is stale: run `python scripts/readme_screenshot.py` and commit both files"


def test_the_page_photographed_does_not_depend_on_when_or_where_it_is_rendered():
    """Rendered in a fresh interpreter (another process, another moment), the page is the same."""
    script = _script()
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('s', sys.argv[1]); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); print(m.digest(m.report_html()))")
    other = subprocess.run([sys.executable, "-c", code, str(SCRIPT)], capture_output=True, text=True, timeout=120,
                           cwd=ROOT / "docs")
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == script.digest(script.report_html())
