"""Fuzzing the Controls views: whatever the `controls` section holds (hostile text, odd numbers,
wrong shapes, as a hand-edited JSON file could), the HTML report and the Markdown summary render,
add no element, attribute handler, script or link of their own making, stay within GitHub's step
summary limit, and never show a control as satisfied that was not said to be.
"""
from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from aksaudit.reports import html, markdown
from aksaudit.reports.controls_view import STATUS_LABELS, framework_views
from controls_data import with_controls
from hostile_estate import PAYLOADS
from report_estates import DRIFTED, scan_example, suppressed

STEP_SUMMARY_LIMIT = 1024 * 1024
HOSTILE = st.sampled_from([payload for _, payload in PAYLOADS] + ["", "\x00", "\u2028", "]]>", "-->", "x" * 3000,
                                                                   "{{ 7*7 }}", "{% raw %}", "satisfied"])
TEXT = st.one_of(HOSTILE, st.lists(HOSTILE, min_size=2, max_size=4).map("".join), st.text(max_size=40))
ODD = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(allow_nan=True), TEXT,
                st.lists(TEXT, max_size=2), st.dictionaries(TEXT, TEXT, max_size=2))
COUNT = st.one_of(st.integers(0, 10**6), ODD)


def _or_odd(strategy):
    """Mostly the expected shape (hostile text where text goes), sometimes anything at all."""
    return st.one_of(*[strategy] * 7, ODD)


@lru_cache(maxsize=1)
def _base():
    return suppressed(scan_example(DRIFTED), "FW005")


@st.composite
def fingerprints(draw):
    known = [f.fingerprint for f in _base().findings]
    return draw(st.one_of(st.sampled_from(known), TEXT))


CHECK = st.fixed_dictionaries({"id": _or_odd(TEXT), "coverage": _or_odd(st.sampled_from(["sufficient", "partial"])),
                               "ran": ODD, "reason": _or_odd(TEXT)})
SKIP = st.fixed_dictionaries({"check_id": _or_odd(TEXT), "resource_id": _or_odd(TEXT), "reason": _or_odd(TEXT)})
CONTROL = st.fixed_dictionaries({
    "id": _or_odd(TEXT), "title": _or_odd(TEXT),
    "status": _or_odd(st.sampled_from([*STATUS_LABELS, "Satisfied", "satisfied ", "unknown"])),
    "evidence": _or_odd(st.sampled_from(["sufficient", "partial", "full"])),
    "checks": _or_odd(st.lists(CHECK, max_size=3)),
    "clusters": _or_odd(st.fixed_dictionaries({key: COUNT for key in
                                               ("total", "satisfied", "not_satisfied", "not_assessable",
                                                "accepted_risk")})),
    "not_satisfied_clusters": _or_odd(st.lists(TEXT, max_size=60)),
    "findings": _or_odd(st.lists(fingerprints(), max_size=60)),
    "accepted": _or_odd(st.lists(fingerprints(), max_size=4)),
    "skipped": _or_odd(st.lists(SKIP, max_size=3)),
})
FRAMEWORK = st.fixed_dictionaries({
    "id": _or_odd(TEXT), "name": _or_odd(TEXT), "version": _or_odd(TEXT),
    "url": _or_odd(st.one_of(st.sampled_from(["https://example.org/x", "javascript:alert(1)", "data:text/html,x",
                                              " https://x", "HTTPS://x"]), TEXT)),
    "summary": ODD, "controls": _or_odd(st.lists(_or_odd(CONTROL), min_size=1, max_size=8)),
})
SECTION = _or_odd(st.fixed_dictionaries({"frameworks": st.lists(_or_odd(FRAMEWORK), min_size=1, max_size=4)}))


class _Page(HTMLParser):
    """Element names, attribute names, hrefs and script elements of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.hrefs: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}
        self.hrefs |= {value for name, value in attrs if name == "href"}
        self.scripts += tag == "script"


def _page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


@lru_cache(maxsize=1)
def _legitimate() -> _Page:
    """A page with a well-formed controls section: what the report itself is made of."""
    return _page(html.render(with_controls(_base())))


def _statuses(section) -> list:
    """The statuses the section gives its controls, wherever a control is where it belongs."""
    frameworks = section.get("frameworks") if isinstance(section, dict) else None
    statuses = []
    for framework in frameworks if isinstance(frameworks, list) else ():
        controls = framework.get("controls") if isinstance(framework, dict) else None
        statuses += [c.get("status") for c in controls if isinstance(c, dict)] if isinstance(controls, list) else []
    return statuses


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(SECTION)
def test_any_controls_section_renders_inert_html(section):
    page = _page(html.render(dataclasses.replace(_base(), controls=section)))
    legitimate = _legitimate()
    assert page.tags <= legitimate.tags
    assert page.attributes <= legitimate.attributes and not {a for a in page.attributes if a.startswith("on")}
    assert page.scripts == legitimate.scripts == 4
    for href in page.hrefs:
        assert href.startswith("https://") or href in ("#findings", "data:,"), href


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(SECTION)
def test_any_controls_section_gives_an_inert_bounded_summary(section):
    text = markdown.render(dataclasses.replace(_base(), controls=section))
    assert len(text.encode("utf-8")) < STEP_SUMMARY_LIMIT
    parser = MarkdownIt("commonmark").enable("table")
    for token in parser.parse(text):
        for inline in [token, *(token.children or ())]:
            assert inline.type not in ("link_open", "image", "html_inline", "html_block", "autolink"), inline
            if inline.type == "text":
                assert not re.search(r"(https?:|javascript:|www\.|@\w)", inline.content, re.I), inline.content


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(SECTION)
def test_only_a_control_said_to_be_satisfied_is_shown_as_satisfied(section):
    shown = [control.status for framework in framework_views(section) for control in framework.controls]
    assert sum(1 for status in shown if status == "satisfied") == \
        sum(1 for status in _statuses(section) if status == "satisfied")
    assert set(shown) <= set(STATUS_LABELS)
