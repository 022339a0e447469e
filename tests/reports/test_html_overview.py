"""The HTML report reads like a report: a per-check overview on top that leads into the table,
a detail view that starts with the message, this finding's own fix (the remediation script's
text for it) and its egress path, with the raw evidence folded below; and with many clusters, a
searchable list whose diagrams are drawn only when asked for. In headless Chromium, by DOM.
"""
from __future__ import annotations

import pytest

from aksaudit.reports import html
from aksaudit.reports.remediation import check_templates
from aksaudit.reports.remediation import render as render_script
from aksaudit.cli.remediate import header_of
from browser_support import open_detail, open_report
from report_estates import DRIFTED, cloned_spokes, scan, scan_example, suppressed
from test_html_browser import _keys, _rows, browser  # noqa: F401 (the system Chromium fixture)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) without it
    expect = None

pytestmark = pytest.mark.browser


def _write(result, tmp_path, name="report.html"):
    path = tmp_path / name
    path.write_text(html.render(result), encoding="utf-8")
    return path


def _overview(page) -> dict[str, tuple[str, int, int]]:
    """check id -> (severity, findings, clusters affected) as the overview table shows them."""
    rows = page.eval_on_selector_all("#overview-table tbody tr", """rows => rows.map(r => [
        r.dataset.check, r.querySelector('.pill').textContent.toLowerCase(),
        parseInt(r.querySelector('.findings-count').textContent, 10),
        parseInt(r.querySelector('.clusters-count').textContent, 10)])""")
    return {check: (severity, count, clusters) for check, severity, count, clusters in rows}


def _flagged_clusters(page) -> dict[str, set[str]]:
    """check id -> clusters whose diagram flags a box with it (the diagrams' own account)."""
    pairs = page.eval_on_selector_all("article.cluster", """cards => cards.flatMap(card =>
        Array.from(card.querySelectorAll('g.stage[data-finding] text.flag')).flatMap(flag =>
            flag.textContent.replace('✗ ', '').split(', ').map(check => [check, card.dataset.cluster])))""")
    found: dict[str, set[str]] = {}
    for check, cluster in pairs:
        found.setdefault(check, set()).add(cluster)
    return found


def test_the_overview_counts_each_check_and_leads_into_the_table(browser, tmp_path):
    result = suppressed(scan_example(DRIFTED), "FW004")
    page = open_report(browser, _write(result, tmp_path)).page
    overview = _overview(page)
    assert set(overview) == {f.check_id for f in result.findings}
    for check, (severity, count, clusters) in overview.items():
        members = [f for f in result.findings if f.check_id == check]
        assert count == sum(1 for f in members if not f.suppressed)
        assert severity == max(members, key=lambda f: f.severity.rank).severity.value
    assert "1 suppressed" in page.inner_text("#overview-table tr[data-check=FW004]")
    # Clusters affected agree with the diagrams below, which place findings on their own.
    assert {check: clusters for check, (_, _, clusters) in overview.items()} == \
        {check: len(names) for check, names in _flagged_clusters(page).items()}
    # The overview sits above the diagrams and the table; its links filter the table.
    order = page.eval_on_selector_all("main > section", "sections => sections.map(s => s.id)")
    assert order.index("overview") < order.index("paths") < order.index("findings")
    page.click("#overview-table a.to-check[data-check=UDR004]")
    assert page.input_value("#filter-check") == "UDR004"
    assert _rows(page) == _keys(result, check="UDR004") != set()


def test_the_detail_view_leads_with_message_then_this_findings_fix_and_path(browser, tmp_path, registry):
    result = scan_example(DRIFTED)
    assert result.findings
    # Disruptive blocks are written commented out unless asked for; the page shows them as they run.
    script = render_script(result.findings, check_templates(registry.checks), header_of(result),
                           include_disruptive=True)
    script_lines = {line.strip() for line in script.text.splitlines()}
    data = html.report_data(result)
    on_a_box = {i for path in data["paths"] for row in path["stages"]
                for i in dict(zip(data["stage_fields"], row))["findings"]}
    page = open_report(browser, _write(result, tmp_path)).page
    for index, finding in enumerate(result.findings):
        open_detail(page, f"#rows tr[data-index='{index}']")
        order = page.eval_on_selector_all("#detail > *", "nodes => nodes.map(n => n.className || n.tagName)")
        assert order[:4] == ["close", "H3", "message", "fix"], order
        assert order.index("fix") < order.index("evidence-details")
        assert page.inner_text("#detail p.message") == finding.message
        block = next(b for b in script.blocks if b.finding.key == finding.key)
        assert page.inner_text("#detail .fix-summary") == block.summary
        shown = page.inner_text("#detail pre.fix-script").splitlines()
        assert shown and {line.strip() for line in shown} <= script_lines, (finding.check_id, shown)
        # The path diagram shows this finding on a broken box.
        flagged = page.eval_on_selector_all("#detail svg.diagram g.stage[data-finding]",
                                            "gs => gs.map(g => Number(g.dataset.finding))")
        assert (index in flagged) == (index in on_a_box)
        assert page.locator("#detail details.evidence-details").get_attribute("open") is None


def test_udr004_detail_names_the_concrete_values_of_its_fix(browser, tmp_path):
    result = scan_example(DRIFTED)
    finding = next(f for f in result.findings if f.check_id == "UDR004")
    page = open_report(browser, _write(result, tmp_path)).page
    open_detail(page, "#rows tr[data-check=UDR004]")
    fix = page.inner_text("#detail .fix")
    route = finding.resource_id.rsplit("/", 1)[-1]
    firewall_ips = finding.evidence["firewall_private_ips"]
    assert route in fix and finding.evidence["next_hop_ip"] in fix
    assert any(ip in page.inner_text("#detail .fix-summary") for ip in firewall_ips), firewall_ips
    paths = page.eval_on_selector_all("#detail .detail-path p.via", "ps => ps.map(p => p.textContent)")
    assert {p.split(" via ")[0] for p in paths} == {c.rsplit("/", 1)[-1] for c in finding.evidence["affected_clusters"]}


def test_many_clusters_are_a_searchable_list_with_diagrams_on_demand(browser, tmp_path):
    result = scan(cloned_spokes(15, 15), ("UDR001", "UDR004"))
    clusters = {p.cluster_name for p in result.paths}
    assert len(clusters) > 20
    watched = open_report(browser, _write(result, tmp_path))
    page = watched.page
    assert page.locator("#clusters svg.diagram").count() == 0  # nothing drawn upfront
    assert page.is_visible("#cluster-search")
    listed = set(page.eval_on_selector_all("article.cluster", "cs => cs.map(c => c.dataset.cluster)"))
    assert listed == clusters  # 50 per page: all of them here
    page.fill("#cluster-search", "payments00007")
    wanted = {name for name in clusters if "payments00007" in name}
    page.wait_for_function("n => document.querySelectorAll('article.cluster').length === n", arg=len(wanted))
    assert set(page.eval_on_selector_all("article.cluster", "cs => cs.map(c => c.dataset.cluster)")) == wanted
    card = page.locator("article.cluster").first
    card.locator("button.show-path").click()
    expect(card.locator("svg.diagram")).to_have_count(
        sum(1 for p in result.paths if p.cluster_name == card.get_attribute("data-cluster")))
    assert page.locator("#clusters svg.diagram").count() == card.locator("svg.diagram").count()
    card.locator("button.show-path").click()
    assert card.locator(".paths").is_hidden()
    assert watched.console_errors == [] and watched.blocked == []


def test_a_few_clusters_are_drawn_at_once_without_a_search(browser, tmp_path):
    result = scan_example(DRIFTED)
    page = open_report(browser, _write(result, tmp_path)).page
    assert page.is_hidden("#cluster-search")
    assert page.locator("#clusters svg.diagram").count() == len(result.paths)
