"""The HTML report in a real headless Chromium: quiet, offline, interactive, and inert to markup.

Runs the system browser through Playwright (no browser download). Without Chromium the tests
skip locally and fail in CI. Rows are compared as sets of (check, resource) pairs.
"""
from __future__ import annotations

import pytest

from aksaudit.reports import html
from browser_support import chromium_path, launch, open_detail, open_report
from conftest import require_tool
from report_estates import (
    DRIFTED, HOSTILE_CLUSTER, HOSTILE_COLLECTION, HOSTILE_ROUTE, HOSTILE_RULE, HUB_SUBSCRIPTION, SEED_CHECKS,
    cloned_spokes, hostile_rows, scan, scan_example, suppressed,
)

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the test extra brings it; without it the browser fixture skips (or fails in CI)
    expect = sync_playwright = None

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    executable = require_tool(chromium_path(), "chromium (apt-get install chromium)")
    if sync_playwright is None:
        require_tool(None, "playwright (pip install playwright)")
    with sync_playwright() as playwright:
        instance = launch(playwright, executable)
        yield instance
        instance.close()


def _write(result, tmp_path, name="report.html"):
    path = tmp_path / name
    path.write_text(html.render(result), encoding="utf-8")
    return path


def _rows(page) -> set[tuple[str, str]]:
    return {tuple(pair) for pair in page.eval_on_selector_all(
        "#rows tr", "rows => rows.map(r => [r.dataset.check, r.querySelector('td.resource').title])")}


def _keys(result, *, check=None, subscription=None) -> set[tuple[str, str]]:
    return {(f.check_id, f.resource_id) for f in result.findings
            if (check is None or f.check_id == check) and (subscription is None or f.subscription_id == subscription)}


def _open_every_row(page) -> None:
    """Rows are redrawn when one is selected, so each is found afresh by its index."""
    for index in page.eval_on_selector_all("#rows tr", "rows => rows.map(r => r.dataset.index)"):
        open_detail(page, f"#rows tr[data-index='{index}']")


def _assert_quiet(watched):
    assert watched.console_errors == []
    assert watched.blocked == []
    assert set(watched.requests) == {watched.url}
    assert watched.dialogs == []


@pytest.mark.parametrize("name", ["tutorial.json", "hub-spoke.json", DRIFTED])
def test_loads_without_console_errors_or_network(browser, tmp_path, name):
    result = scan_example(name)
    watched = open_report(browser, _write(result, tmp_path))
    watched.page.click("#findings-table th button[data-sort=check]")
    _open_every_row(watched.page)
    _assert_quiet(watched)
    assert _rows(watched.page) == _keys(result)


def test_filters_and_search_change_the_visible_rows(browser, tmp_path):
    result = scan_example(DRIFTED)
    page = open_report(browser, _write(result, tmp_path)).page
    everything = _keys(result)
    assert _rows(page) == everything

    page.uncheck("input[name=severity][value=high]")
    assert _rows(page) == _keys(result) - {(f.check_id, f.resource_id) for f in result.findings
                                           if f.severity.value == "high"}
    page.check("input[name=severity][value=high]")
    assert _rows(page) == everything

    page.select_option("#filter-check", "UDR004")
    assert _rows(page) == _keys(result, check="UDR004") != set()
    page.select_option("#filter-check", "")
    page.select_option("#filter-subscription", HUB_SUBSCRIPTION)
    assert _rows(page) == _keys(result, subscription=HUB_SUBSCRIPTION) != set()
    page.select_option("#filter-subscription", "")

    page.fill("#filter-search", "snet-aks-pods")
    pods = {(f.check_id, f.resource_id) for f in result.findings if "snet-aks-pods" in f.resource_id + f.message}
    expect(page.locator("#rows tr")).to_have_count(len(pods))  # the search is debounced: wait for it
    assert _rows(page) == pods
    page.fill("#filter-search", "no such thing anywhere")
    page.wait_for_selector("#empty:not([hidden])")
    assert _rows(page) == set()


def test_sorting_orders_rows(browser, tmp_path):
    result = scan_example(DRIFTED)
    page = open_report(browser, _write(result, tmp_path)).page
    page.click("#findings-table th button[data-sort=check]")
    checks = page.eval_on_selector_all("#rows tr", "rows => rows.map(r => r.dataset.check)")
    assert checks == sorted(checks)
    page.click("#findings-table th button[data-sort=check]")
    assert page.eval_on_selector_all("#rows tr", "rows => rows.map(r => r.dataset.check)") == sorted(checks, reverse=True)


def test_detail_view_shows_evidence_explanation_and_fix(browser, tmp_path, registry):
    result = scan_example(DRIFTED)
    page = open_report(browser, _write(result, tmp_path)).page
    open_detail(page, "#rows tr[data-check=UDR004]")
    detail = page.inner_text("#detail")
    finding = next(f for f in result.findings if f.check_id == "UDR004")
    check = registry.by_id()["UDR004"]
    assert finding.message in detail
    assert finding.resource_id in detail
    assert "next_hop_ip" not in detail  # raw evidence is folded away until asked for
    page.click("#detail details.evidence-details summary")
    detail = page.inner_text("#detail")
    assert "next_hop_ip" in detail and finding.evidence["next_hop_ip"] in detail
    for heading in ("What it checks", "Why it matters", "How to fix"):
        assert heading.upper() in detail.upper()
        assert " ".join(check.section(heading).replace("`", "").split()[:5]) in " ".join(detail.split())
    page.keyboard.press("Escape")
    assert page.is_hidden("#detail")


def test_diagram_highlights_the_broken_hop(browser, tmp_path):
    result = scan_example(DRIFTED, SEED_CHECKS)
    page = open_report(browser, _write(result, tmp_path)).page
    card = "article.cluster[data-cluster='aks-payments-prod']"
    states = dict(page.eval_on_selector_all(f"{card} g.stage",
                                            "gs => gs.map(g => [g.dataset.stage, g.dataset.state])"))
    assert states == {"cluster": "ok", "subnet": "ok", "route-table": "ok", "next-hop": "broken",
                      "firewall": "missing", "rules": "unreached"}
    broken = page.locator(f"{card} g.stage[data-state=broken]")
    assert "UDR004" in broken.text_content()
    assert page.evaluate("g => getComputedStyle(g.querySelector('rect')).stroke",
                         broken.element_handle()) != page.evaluate(
        "g => getComputedStyle(g.querySelector('rect')).stroke",
        page.locator(f"{card} g.stage[data-stage=cluster]").element_handle())
    broken.click()
    page.wait_for_selector("#detail[aria-busy=false]:not([hidden])")
    assert "UDR004" in page.inner_text("#detail")
    page.check("#only-problems")
    clean = page.eval_on_selector_all("article.cluster", "cs => cs.map(c => c.classList.contains('has-problems'))")
    assert clean and all(clean)


def test_hostile_names_render_as_text_and_open_no_dialog(browser, tmp_path):
    result = scan(hostile_rows())
    watched = open_report(browser, _write(result, tmp_path))
    page = watched.page
    _open_every_row(page)
    page.fill("#filter-search", "<img")
    expect(page.locator("#count")).to_contain_text("match")
    assert _rows(page) == {(f.check_id, f.resource_id) for f in result.findings
                           if "<img" in (f.message + f.resource_id).lower()} != set()
    page.fill("#filter-search", "")
    for index in range(page.locator("g.stage[data-finding]").count()):
        page.locator("g.stage[data-finding]").nth(index).click()
    page.wait_for_timeout(300)
    _assert_quiet(watched)
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate("document.querySelectorAll('[onerror], [onload], iframe, object, embed').length") == 0
    assert page.evaluate("document.scripts.length") == 4
    text = page.inner_text("body")
    for name in (HOSTILE_ROUTE, HOSTILE_RULE):
        assert name in text
    assert page.locator("article.cluster").filter(has_text=HOSTILE_CLUSTER).count() == 1
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    # The documentation's web links, and the overview's links to the findings table on this page.
    assert all(link.startswith("https://") or link == "#findings" for link in links), links
    assert HOSTILE_COLLECTION.split(" ")[0] not in links


def test_pages_cover_every_finding(browser, tmp_path):
    result = scan(cloned_spokes(60, 60), ("UDR001", "UDR004"))
    page = open_report(browser, _write(result, tmp_path)).page
    seen = set()
    while True:
        seen |= _rows(page)
        if page.is_disabled("#next") or page.is_hidden("#pager"):
            break
        page.click("#next")
    assert seen == _keys(result)


def test_suppressed_findings_are_marked_and_can_be_hidden(browser, tmp_path):
    result = suppressed(scan_example(DRIFTED), "FW003", reason="temporary debug rule")
    page = open_report(browser, _write(result, tmp_path)).page
    open_detail(page, "#rows tr[data-check=FW003]")
    assert "temporary debug rule" in page.inner_text("#detail")
    page.uncheck("#filter-suppressed")
    assert _rows(page) == {(f.check_id, f.resource_id) for f in result.findings if not f.suppressed}
