"""Injection-proof outputs: the hostile estate (tests/hostile_estate.py) through every output.

The estate carries markup, `javascript:` URLs, Markdown links and images, shell syntax, ANSI
escapes and a bidi override in every free-text field, and still gives the drifted example's
findings (renamed). Each output must show the payloads as inert text:

* HTML, in a real headless Chromium: payloads visible as text, no dialog, no image, no element
  with an event handler, no extra script, no link but the documentation's https ones;
* Markdown summary: no link, image, autolinkable URL or HTML from scan text (only code spans);
* SARIF: no message a viewer could turn into a link (SARIF embedded links or Markdown);
* terminal: no ESC or other control character and no bidi control from scan text;
* remediation script: `bash -n` and shellcheck clean, and run with the fake az every payload
  reaches az as one argument and no `pwned` file appears anywhere.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from aksaudit.reports import html, markdown, sarif
from browser_support import open_detail, open_report
from conftest import require_tool
from hostile_estate import FREE_TEXT, HOSTILE_TAG_KEY, expected_keys, hostile_rows, payload_fragments, source_rows
from controls_data import with_controls
from remediation_harness import generate, run_script, write_rows, write_script
from remediation_harness import scan as scan_file
from renderers import all_renderers, terminal
from report_estates import scan, suppressed
from test_html_browser import browser  # noqa: F401 (the system Chromium fixture: skips locally, fails in CI)

# Characters that must never reach a terminal from scan text: C0/C1 controls (ESC, BEL, CR ...)
# and the Unicode bidi controls that reorder what a reader sees (Trojan Source).
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own colours, when writing to a colour terminal
ID_SAFE_FRAGMENTS = ("<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "$(touch pwned)", "`touch pwned`",
                     "[click](javascript:alert(1))", "![x](evil.png)")
# SARIF §3.11.6: "[text](target)" in a plain-text message is an embedded link unless '[' is escaped.
_SARIF_LINK = re.compile(r"(?<!\\)(?:\\\\)*\[(?:[^\]\\]|\\.)*\]\(")


@pytest.fixture(scope="module")
def result():
    found = scan(hostile_rows())
    assert found.complete
    assert frozenset(f.key for f in found.findings) == expected_keys(scan(source_rows()).findings) != frozenset()
    return found


def test_the_hostile_estate_gives_the_drifted_findings_renamed(result):
    """The payloads reach ids, loci, messages and evidence, so every output below carries them."""
    assert any("<script>alert(1)</script>" in f.locus for f in result.findings)
    assert any("\x1b[31m" in f.resource_id and "\u202e" in f.resource_id for f in result.findings)
    assert all("$(touch pwned)" in f.message for f in result.findings)


def test_every_renderer_takes_the_hostile_estate(result):
    for name, render in all_renderers():
        assert render(result), name


# --- HTML in Chromium ---------------------------------------------------------------------------


@pytest.mark.browser
def test_html_shows_payloads_as_text_and_runs_nothing(browser, result, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(html.render(result), encoding="utf-8")
    watched = open_report(browser, path)
    page = watched.page
    for index in page.eval_on_selector_all("#rows tr", "rows => rows.map(r => r.dataset.index)"):
        open_detail(page, f"#rows tr[data-index='{index}']")
        detail = page.inner_text("#detail")
        for fragment in ID_SAFE_FRAGMENTS:  # every finding names at least one resource by its hostile name
            assert fragment in detail, fragment
        page.keyboard.press("Escape")
    for index in range(page.locator("g.stage[data-finding]").count()):
        page.locator("g.stage[data-finding]").nth(index).click()
        page.keyboard.press("Escape")
    page.fill("#filter-search", "<script>")
    page.wait_for_timeout(400)  # the search is debounced
    page.fill("#filter-search", "")
    page.wait_for_timeout(400)
    assert watched.dialogs == [] and watched.blocked == [] and watched.console_errors == []
    assert set(watched.requests) == {watched.url}
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate("document.scripts.length") == 4
    handlers = page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(e =>
        [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))""")
    assert handlers == []
    assert page.evaluate("document.querySelectorAll('svg svg, iframe, object, embed, img').length") == 0
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert all(link.startswith("https://") or link == "#findings" for link in links), links  # docs, and in-page
    body = page.inner_text("body")
    for fragment in payload_fragments():
        assert fragment in body, fragment


# A controls section whose every text field carries the payloads; the second framework's
# link is a `javascript:` URL, which must not become a link.
HOSTILE_FRAMEWORKS = (
    ("fw" + FREE_TEXT, "Framework" + FREE_TEXT, "v" + FREE_TEXT, (
        ("C-1" + FREE_TEXT, "Title" + FREE_TEXT, (("FW003", "sufficient"), ("UDR004", "partial"))),
        ("C-2" + FREE_TEXT, "Accepted" + FREE_TEXT, (("FW005", "partial"),)),
    )),
    ("second" + FREE_TEXT, "Second" + FREE_TEXT, "", (
        ("C-3" + FREE_TEXT, FREE_TEXT, (("AKS004", "sufficient"), ("XX" + FREE_TEXT, "partial"))),
    )),
)


@pytest.fixture(scope="module")
def with_hostile_controls(result):
    found = with_controls(suppressed(result, "FW005"), HOSTILE_FRAMEWORKS)
    found.controls["frameworks"][1]["url"] = "javascript:alert(1)"
    return found


@pytest.mark.browser
def test_html_controls_view_shows_payloads_as_text_and_runs_nothing(browser, with_hostile_controls, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(html.render(with_hostile_controls), encoding="utf-8")
    watched = open_report(browser, path)
    page = watched.page
    tabs = page.locator("#controls [role=tab]")
    assert tabs.count() == 2
    for tab in range(tabs.count()):
        tabs.nth(tab).click()
        panel = page.locator("#controls [role=tabpanel]:not([hidden])")
        for index in range(panel.locator("button.control-toggle").count()):
            panel.locator("button.control-toggle").nth(index).click()
        text = panel.inner_text()
        for fragment in payload_fragments():
            assert text.count(fragment) >= 3, fragment  # framework, control id and title at least
        for index in range(panel.locator("a.to-finding").count()):
            page.locator("#controls [role=tabpanel]:not([hidden]) a.to-finding").nth(index).click()
            page.wait_for_selector("#detail:not([hidden])")
    assert watched.dialogs == [] and watched.blocked == [] and watched.console_errors == []
    assert page.evaluate("document.images.length") == 0 and page.evaluate("document.scripts.length") == 4
    handlers = page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(e =>
        [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))""")
    assert handlers == []
    links = page.eval_on_selector_all("#controls a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert links and all(link.startswith("https://") or link == "#findings" for link in links), links
    assert page.locator("#fw-panel-1 h3 a[href^='https://']").count() == 1
    assert page.locator("#fw-panel-2 h3 a").count() == 0  # its javascript: URL stays no link


def test_markdown_control_tables_neutralize_links_images_and_markup(with_hostile_controls):
    text = markdown.render(with_hostile_controls)
    assert text.count("### Controls: ") == 2
    tokens = list(_inline_tokens(text))
    assert not {t.type for t in tokens} & {"link_open", "image", "html_inline", "html_block", "autolink"}
    for token in tokens:
        if token.type == "text":
            assert not re.search(r"(https?:|javascript:|www\.|@\w)", token.content, re.I), token.content
    assert not set(text) & BIDI and "\x1b" not in text


# --- Markdown -----------------------------------------------------------------------------------


def _inline_tokens(text: str):
    parser = MarkdownIt("commonmark").enable("table")
    for token in parser.parse(text):
        yield token
        yield from token.children or ()


def test_markdown_summary_neutralizes_links_images_and_markup(result):
    text = markdown.render(result)
    tokens = list(_inline_tokens(text))
    kinds = {t.type for t in tokens}
    assert not kinds & {"link_open", "image", "html_inline", "html_block", "autolink"}, kinds
    # GitHub also autolinks bare URLs and www. names in text (not in code spans).
    for token in tokens:
        if token.type == "text":
            assert not re.search(r"(https?:|javascript:|www\.|@\w)", token.content, re.I), token.content
    code = " ".join(t.content for t in tokens if t.type == "code_inline")
    assert "$(touch pwned)" in code and "javascript:alert(1)" in code and "[x](http://evil)" in code
    assert not set(text) & BIDI and "\x1b" not in text


# --- SARIF ---------------------------------------------------------------------------------------


def _messages(log: dict) -> list[str]:
    texts = []
    for run in log["runs"]:
        texts += [r["message"]["text"] for r in run["results"]]
        for invocation in run.get("invocations", []):
            texts += [n["message"]["text"] for n in invocation.get("toolExecutionNotifications", [])]
    return texts


def test_sarif_messages_cannot_become_links_or_images(result):
    logs = [json.loads(sarif.render(result)), *map(json.loads, sarif.render_per_subscription(result).values())]
    texts = [text for log in logs for text in _messages(log)]
    assert texts and all("$(touch pwned)" in t for t in texts if t)
    for text in texts:
        assert not _SARIF_LINK.search(text), text
        # Read as Markdown too (a viewer that does so would still show no link or image; markup in
        # plain text is shown as text by GitHub, which escapes message text).
        kinds = {t.type for t in _inline_tokens(text)}
        assert not kinds & {"link_open", "image", "autolink"}, (kinds, text)
        assert not set(text) & BIDI and "\x1b" not in text, text
    # The ids in locations stay exact (they are data), and the artifact URIs hold no scheme.
    for log in logs:
        for item in log["runs"][0]["results"]:
            uri = item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            assert uri.startswith("azure/") and ":" not in uri and "<" not in uri


# --- terminal ------------------------------------------------------------------------------------


def _controls(text: str) -> set[str]:
    return {ch for ch in text if (unicodedata.category(ch) == "Cc" and ch != "\n") or ch in BIDI}


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
def test_terminal_summary_strips_control_and_bidi_characters(result, color):
    out = terminal(result, color=color)
    if color:
        out = _SGR.sub("", out)  # the colours rich adds itself: the only escapes allowed
    assert _controls(out) == set(), _controls(out)
    assert "$(touch pwned)" in out.replace("\n", "") or "touch pwned" in out


def test_terminal_summary_of_an_incomplete_hostile_scan_strips_them_too():
    rows = hostile_rows()
    rows.append({"id": "/subscriptions/x/resourceGroups/r\x1b]8;;http://evil\x07/providers/Microsoft.Network/"
                       "routeTables/\u202ebroken\x1b[2J", "type": "microsoft.network/routetables",
                 "name": "broken", "properties": {"routes": "not a list"}})
    found = scan(rows)
    assert not found.complete
    out = _SGR.sub("", terminal(found, color=True))
    assert "SCAN INCOMPLETE" in out and _controls(out) == set()


# --- remediation script ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def script_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-remediation")
    estate = write_rows(hostile_rows(), folder / "estate.json")
    script = generate(scan_file(estate), include_disruptive=True)
    return folder, estate, script, write_script(script, folder / "fix.sh")


def _pwned(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*pwned*")]


def test_remediation_script_is_bash_and_shellcheck_clean(script_dir):
    _, _, _, path = script_dir
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0
    shellcheck = require_tool(shutil.which("shellcheck"), "shellcheck")
    done = subprocess.run([shellcheck, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_remediation_passes_every_payload_as_one_argument(script_dir, tmp_path):
    folder, estate, script, path = script_dir
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    plan = run_script(path, estate, cwd=workdir)
    applied = run_script(path, estate, "--apply", cwd=workdir)
    assert plan.returncode == 0 and applied.returncode == 0, applied.stdout + applied.stderr
    assert _pwned(workdir, folder, tmp_path) == []
    arguments = [arg for call in applied.calls for arg in call["argv"]]
    hostile_values = {a.split("=", 1)[1] for a in arguments if a.startswith(("--resource-group=", "--name="))}
    # Names arrive whole: with every payload (newline, quotes, $(...), ESC, bidi) inside one argument.
    assert any("$(touch pwned)" in v and "\n" in v and "\x1b[31m" in v and "\u202e" in v for v in hostile_values), \
        hostile_values
    assert {b.finding.key for b in script.blocks if b.resolves and b.active} == script.targeted
    after = scan_file(estate)
    assert not {f.key for f in after.findings} & script.targeted  # the names reached "Azure" intact
    assert _pwned(workdir, folder, tmp_path) == []


def test_the_payload_list_covers_the_issue(result):
    """Every kind of payload named for the hostile estate is in the estate's free text."""
    for fragment in ("<script>", "<img src=x onerror", "javascript:", "](http://evil)", "![x](", "$(", "`", "'", '"',
                     "\n", "\x1b[31m", "\x1b]8;;", "\u202e"):
        assert fragment in FREE_TEXT, fragment
    assert HOSTILE_TAG_KEY.startswith("note<script>")
