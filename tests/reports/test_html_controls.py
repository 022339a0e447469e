"""The HTML report's Controls view, in headless Chromium, by DOM: one tab per framework, each
control with its status, and a control opening onto the clusters that fail it and links that
land on the findings behind it. The `controls` section is test data computed from a real scan
of the drifted example (tests/controls_data.py), so the expectations come from the findings.
"""
from __future__ import annotations

import dataclasses

import pytest

from aksaudit.reports import html
from aksaudit.reports.controls_view import STATUS_LABELS
from aksaudit.reports.terminal import short_id
from browser_support import open_report
from controls_data import with_controls
from report_estates import DRIFTED, example_rows, scan, scan_example, suppressed
from test_html_browser import browser  # noqa: F401 (the system Chromium fixture)

pytestmark = pytest.mark.browser


def _write(result, tmp_path, name="report.html"):
    path = tmp_path / name
    path.write_text(html.render(result), encoding="utf-8")
    return path


def _controls(result) -> dict[tuple[str, str], dict]:
    return {(framework["id"], control["id"]): control
            for framework in result.controls["frameworks"] for control in framework["controls"]}


def _shown(page) -> dict[tuple[str, str], tuple[str, str, str, str]]:
    """(framework, control) -> (title, status text, clusters text, checks text), tab by tab."""
    shown = {}
    for index in range(page.locator("#controls [role=tab]").count()):
        page.locator("#controls [role=tab]").nth(index).click()
        panels = page.locator("#controls [role=tabpanel]:not([hidden])")
        assert panels.count() == 1
        framework = panels.get_attribute("data-framework")
        rows = panels.evaluate("""panel => Array.from(panel.querySelectorAll('tbody.control')).map(b => [
            b.dataset.control, b.querySelector('.control-title').textContent, b.querySelector('.cstatus').textContent,
            b.querySelector('.control-clusters').textContent, b.querySelector('.control-checks').textContent])""")
        shown.update({(framework, control): tuple(rest) for control, *rest in rows})
    return shown


def _status_looks(page) -> dict[str, tuple[str, str, str]]:
    """status -> (background, colour, border style) of its label as the browser paints it."""
    looks = page.eval_on_selector_all("#controls tbody.control .cstatus", """spans => spans.map(s => {
        const style = getComputedStyle(s);
        return [s.className.replace('cstatus cs-', ''), [style.backgroundColor, style.color, style.borderTopStyle]];
    })""")
    return {status: tuple(look) for status, look in looks}


def _toggle(page, control: str):
    body = page.locator(f"#controls tbody.control[data-control='{control}']")
    body.locator("button.control-toggle").click()
    return body


def _unreadable():
    """The drifted example without its rule collection groups: the firewall checks skip, so the
    controls they evidence are not assessable."""
    rows = [row for row in example_rows() if row["type"] != "microsoft.network/firewallpolicies/rulecollectiongroups"]
    return with_controls(scan(rows))


@pytest.fixture(scope="module")
def drifted():
    """The drifted example with FW005 suppressed: controls not satisfied, accepted, satisfied and
    not evaluated."""
    return with_controls(suppressed(scan_example(DRIFTED), "FW005"))


def test_every_control_is_shown_with_its_status_clusters_and_checks(browser, tmp_path, drifted):
    watched = open_report(browser, _write(drifted, tmp_path))
    page = watched.page
    shown = _shown(page)
    expected = _controls(drifted)
    assert set(shown) == set(expected)
    for key, (title, status, clusters, checks) in shown.items():
        control = expected[key]
        assert title == control["title"]
        assert status.lower() == STATUS_LABELS[control["status"]]
        counts = control["clusters"]
        assert clusters == (f"{counts['satisfied']} of {counts['total']} satisfy" if counts["total"] else "—")
        assert [c["id"] for c in control["checks"]] == [part.split(" ")[0] for part in checks.split(", ")]
    assert {control["status"] for control in expected.values()} == \
        {"not_satisfied", "accepted_risk", "satisfied", "not_evaluated"}
    assert watched.console_errors == [] and watched.blocked == []


def test_statuses_other_than_satisfied_never_look_like_it(browser, tmp_path, drifted):
    unreadable = _unreadable()
    assert "not_assessable" in {c["status"] for c in _controls(unreadable).values()}
    looks = {}
    for result, name in ((drifted, "drifted.html"), (unreadable, "unreadable.html")):
        looks.update(_status_looks(open_report(browser, _write(result, tmp_path, name)).page))
    assert set(looks) == set(STATUS_LABELS)
    assert len(set(looks.values())) == len(looks), looks  # five statuses, five looks
    for status, look in looks.items():
        if status != "satisfied":
            assert look != looks["satisfied"], status


def test_accepted_risk_is_labelled_and_lists_the_suppressed_findings(browser, tmp_path, drifted):
    page = open_report(browser, _write(drifted, tmp_path)).page
    accepted = next(c for c in _controls(drifted).values() if c["status"] == "accepted_risk")
    assert accepted["accepted"] and not accepted["findings"]
    body = _toggle(page, accepted["id"])
    assert body.locator(".cstatus").inner_text().lower() == "accepted risk"
    detail = body.locator("tr.control-detail")
    assert detail.is_visible()
    assert "accepted risks" in detail.inner_text().lower()
    links = detail.locator(".control-accepted a.to-finding")
    assert [links.nth(i).get_attribute("data-fingerprint") for i in range(links.count())] == accepted["accepted"]
    # The table hides suppressed findings when asked to; the link still lands on its row.
    page.uncheck("#filter-suppressed")
    links.first.click()
    index = next(i for i, f in enumerate(drifted.findings) if f.fingerprint == accepted["accepted"][0])
    assert page.get_attribute("#rows tr.selected", "data-index") == str(index)
    assert page.is_visible("#detail") and "Suppressed" in page.inner_text("#detail .suppressed-note")


def test_a_not_satisfied_control_opens_onto_its_clusters_and_links_to_each_finding(browser, tmp_path, drifted):
    watched = open_report(browser, _write(drifted, tmp_path))
    page = watched.page
    index_of = {f.fingerprint: i for i, f in enumerate(drifted.findings)}
    failing = [(key, c) for key, c in _controls(drifted).items() if c["status"] == "not_satisfied"]
    assert failing
    for (framework, control_id), control in failing:
        page.click(f"#controls [role=tab][aria-controls='"
                   f"{page.get_attribute(f'#controls [role=tabpanel][data-framework={framework}]', 'id')}']")
        body = page.locator(f"#controls [role=tabpanel][data-framework={framework}] "
                            f"tbody.control[data-control='{control_id}']")
        detail = body.locator("tr.control-detail")
        assert detail.is_hidden()
        body.locator("button.control-toggle").click()
        assert detail.is_visible()
        assert body.locator("button.control-toggle").get_attribute("aria-expanded") == "true"
        clusters = detail.locator(".not-satisfied-clusters li").evaluate_all(
            "items => items.map(li => [li.dataset.cluster, li.querySelector('.name').textContent])")
        assert clusters == [[c, short_id(c)] for c in control["not_satisfied_clusters"]] != []
        for fingerprint in control["findings"]:
            # Filters that would hide the row first: the link must bring it back.
            page.fill("#filter-search", "nothing matches this")
            page.wait_for_function("() => document.querySelectorAll('#rows tr').length === 0")
            detail.locator(f"a.to-finding[data-fingerprint='{fingerprint}']").click()
            finding = drifted.findings[index_of[fingerprint]]
            assert page.get_attribute("#rows tr.selected", "data-index") == str(index_of[fingerprint])
            assert page.inner_text("#detail p.message") == finding.message
            assert page.is_visible("#rows tr.selected")
            assert page.evaluate("document.activeElement.dataset.index") == str(index_of[fingerprint])
        body.locator("button.control-toggle").click()
        assert detail.is_hidden()
    assert watched.console_errors == [] and watched.blocked == []


def test_framework_tabs_show_one_framework_at_a_time(browser, tmp_path, drifted):
    page = open_report(browser, _write(drifted, tmp_path)).page
    tabs = page.locator("#controls [role=tab]")
    names = [f["name"] for f in drifted.controls["frameworks"]]
    assert [tabs.nth(i).inner_text() for i in range(tabs.count())] == names
    visible = "#controls [role=tabpanel]:not([hidden])"
    assert page.get_attribute(visible, "data-framework") == drifted.controls["frameworks"][0]["id"]
    tabs.first.focus()
    page.keyboard.press("ArrowRight")
    assert page.get_attribute(visible, "data-framework") == drifted.controls["frameworks"][1]["id"]
    assert tabs.nth(1).get_attribute("aria-selected") == "true" and tabs.first.get_attribute("aria-selected") == "false"
    assert page.locator("#controls [role=tabpanel]:not([hidden])").count() == 1


def test_not_assessable_controls_name_the_data_that_could_not_be_read(browser, tmp_path):
    result = _unreadable()
    page = open_report(browser, _write(result, tmp_path)).page
    control = next(c for (framework, _), c in _controls(result).items()
                   if framework == result.controls["frameworks"][0]["id"] and c["status"] == "not_assessable")
    body = _toggle(page, control["id"])
    assert body.locator(".cstatus").inner_text().lower() == "not assessable"
    items = body.locator(".control-skipped li").all_inner_texts()
    assert len(items) == len(control["skipped"]) > 0
    for item, skip in zip(items, control["skipped"]):
        assert skip["check_id"] in item and skip["resource_id"] in item and skip["reason"] in item


@pytest.mark.parametrize("controls", [{}, {"frameworks": []}], ids=["absent", "no-frameworks"])
def test_the_view_is_absent_when_no_control_was_evaluated(browser, tmp_path, controls):
    result = dataclasses.replace(scan_example(DRIFTED), controls=controls)
    watched = open_report(browser, _write(result, tmp_path))
    assert watched.page.locator("#controls").count() == 0
    assert watched.console_errors == []
    order = watched.page.eval_on_selector_all("main > section", "sections => sections.map(s => s.id)")
    assert "controls" not in order and "overview" in order


def test_the_view_sits_below_the_overview_and_above_the_findings(browser, tmp_path, drifted):
    page = open_report(browser, _write(drifted, tmp_path)).page
    order = page.eval_on_selector_all("main > section", "sections => sections.map(s => s.id)")
    assert order.index("overview") < order.index("paths") < order.index("controls") < order.index("findings")


@pytest.mark.parametrize("example", ["hub-spoke-drifted.json", "hub-spoke.json", "tutorial.json"])
def test_the_bundled_examples_controls_as_the_json_report_judges_them(browser, tmp_path, example):
    """The real mapping files, through the command line: the HTML Controls view shows every
    control of every framework exactly as the JSON report of the same scan judges it."""
    import json
    import subprocess
    from conftest import EXAMPLES, aksaudit_cmd
    subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(EXAMPLES / example), "--json", "r.json",
                    "--html", "r.html", "--quiet"], cwd=tmp_path, capture_output=True, timeout=120)
    judged = {(framework["id"], control["id"]): control
              for framework in json.loads((tmp_path / "r.json").read_text())["controls"]["frameworks"]
              for control in framework["controls"]}
    assert judged
    watched = open_report(browser, tmp_path / "r.html")
    shown = _shown(watched.page)
    assert set(shown) == set(judged)
    for key, (title, status, _, _) in shown.items():
        assert (title, status.lower()) == (judged[key]["title"], STATUS_LABELS[judged[key]["status"]])
    assert watched.console_errors == [] and watched.blocked == []
