"""The Markdown step summary: what it says, how big it gets, and that scan text stays inert.

Rendered through a CommonMark parser with tables to see what a reader would get: no image,
link or HTML element may come out of resource names or messages.
"""
from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from markdown_it import MarkdownIt

from aksaudit.reports import markdown
from aksaudit.reports.controls_view import STATUS_LABELS
from aksaudit.reports.terminal import short_id
from controls_data import with_controls
from report_estates import (
    DRIFTED, FIREWALL_PUBLIC_IP, HOSTILE_CLUSTER, HOSTILE_COLLECTION, HOSTILE_ROUTE, HOSTILE_RULE, cloned_spokes,
    example_rows, hostile_rows, scan, scan_example, suppressed, with_unreadable_row, with_wildcard_rules,
)

STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub's cap per step
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.cells: list[str] = []
        self.rows: list[tuple[str, ...]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "td":
            self._cell = []
        if tag == "tr":
            self._row_start = len(self.cells)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None
        if tag == "tr":
            self.rows.append(tuple(self.cells[self._row_start:]))


def _html(text: str) -> _Html:
    parser = _Html()
    parser.feed(MarkdownIt("commonmark").enable("table").render(text))
    return parser


def test_drifted_summary_lists_every_finding_and_the_totals():
    result = scan_example(DRIFTED)
    text = markdown.render(result)
    rows = {row for row in _html(text).rows if len(row) == 4}
    assert {(row[1], row[2].split(" ")[0]) for row in rows} == {(f.check_id, short_id(f.resource_id))
                                                                 for f in result.findings}
    assert f"Clusters compliant: **{result.clusters_compliant} of {result.clusters_total}**" in text
    assert f"| **total** | **{len(result.findings)}** |" in text


def test_clean_scan_says_so():
    text = markdown.render(scan_example("hub-spoke.json"))
    assert "**No failures**" in text and "Top findings" not in text


def test_incomplete_scan_lists_its_gaps():
    result = scan(with_unreadable_row(example_rows()))
    assert not result.complete
    text = markdown.render(result)
    assert "**Scan incomplete**" in text and "### Gaps" in text
    assert "routes" in text


def test_hostile_text_stays_inert():
    text = markdown.render(scan(hostile_rows()))
    parsed = _html(text)
    assert parsed.tags <= {"h2", "h3", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "code", "ul",
                           "li"}, parsed.tags
    body = " ".join(parsed.cells)
    assert HOSTILE_ROUTE in body and HOSTILE_RULE in body
    assert HOSTILE_CLUSTER in body
    assert "[click](javascript:alert(4)) ![x](https://example.invalid/x.png) @everyone" in body  # the collection
    # Outside code spans nothing GitHub would turn into a link, a mention or markup.
    outside = _CODE_SPAN.sub("", text)
    for marker in ("<", "](", "![", "@", "http", "www."):
        assert marker not in outside, marker


def test_large_scan_stays_far_below_the_step_summary_limit():
    rows = with_wildcard_rules(cloned_spokes(20, 100, payments_next_hop=FIREWALL_PUBLIC_IP), 5000)
    result = scan(rows, ("UDR001", "UDR004", "UDR005", "FW004"))
    text = markdown.render(result)
    assert len(text.encode("utf-8")) < STEP_SUMMARY_LIMIT // 10
    assert f"… and {len(result.findings) - markdown.TOP} more" in text
    shown = {cells for cells in _html(text).cells if cells.startswith("UDR005")}
    assert shown, "the critical findings come first"


def test_code_span_survives_backticks_pipes_and_newlines():
    span = markdown.code("a ``b`` | c\nd`")
    assert "\n" not in span
    parsed = _html(f"| x |\n| --- |\n| {span} |\n")
    assert parsed.cells == ["a ``b`` | c d`"]


def test_suppressed_findings_are_marked():
    result = suppressed(scan_example(DRIFTED), "FW003")
    text = markdown.render(result)
    rows = {row[1]: row[0] for row in _html(text).rows if len(row) == 4}
    assert rows["FW003"] == "high · suppressed"
    assert {check for check, marks in rows.items() if "suppressed" in marks} == {"FW003"}
    assert "(1 suppressed as accepted risks)" in text


# --- per-framework control tables ------------------------------------------------------------


def _heading(markdown_line: str) -> str:
    """A heading's text as a reader sees it (code spans unwrapped)."""
    return unescape(re.sub(r"<[^>]+>", "", MarkdownIt("commonmark").renderInline(markdown_line))).strip()


def _framework_tables(text: str) -> dict[str, list[tuple[str, ...]]]:
    """Framework (its heading's text) -> the rows of the controls table under it."""
    tables = {}
    for part in text.split("\n### ")[1:]:
        heading, _, body = part.partition("\n")
        if heading.startswith("Controls: "):
            tables[_heading(heading.removeprefix("Controls: "))] = [row for row in _html(body).rows if row]
    return tables


def test_each_framework_is_a_table_with_a_row_per_control():
    result = with_controls(suppressed(scan_example(DRIFTED), "FW005"))
    tables = _framework_tables(markdown.render(result))
    frameworks = result.controls["frameworks"]
    assert set(tables) == {f"{f['name']} {f['version']}" for f in frameworks}
    for framework in frameworks:
        rows = tables[f"{framework['name']} {framework['version']}"]
        expected = []
        for control in framework["controls"]:
            clusters = control["clusters"]
            status = STATUS_LABELS[control["status"]]
            if control["evidence"] != "sufficient":
                status += f" ({control['evidence']} evidence)"
            expected.append((control["id"], control["title"], status,
                             f"{clusters['satisfied']} of {clusters['total']}" if clusters["total"] else "—"))
        assert rows == expected
    assert "accepted risk" in {row[2].split(" (")[0] for rows in tables.values() for row in rows}


def test_no_control_tables_without_controls():
    text = markdown.render(scan_example(DRIFTED))
    assert "### Controls" not in text and _framework_tables(text) == {}


def test_hostile_control_text_stays_inert():
    hostile = ((HOSTILE_CLUSTER, HOSTILE_ROUTE, HOSTILE_RULE, (
        (HOSTILE_COLLECTION, HOSTILE_CLUSTER + "\n| x | y |", (("FW003", "sufficient"),)),
        ("`|`\u202e", "[t](https://evil.example) @team www.evil.example", (("UDR004", "partial"),)),
    )),)
    text = markdown.render(with_controls(scan_example(DRIFTED), hostile))
    parsed = _html(text)
    assert parsed.tags <= {"h2", "h3", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "code", "ul",
                           "li"}, parsed.tags
    tables = _framework_tables(text)
    assert len(tables) == 1
    rows = next(iter(tables.values()))
    assert [len(row) for row in rows] == [4, 4]  # the pipes and the newline broke no row
    assert HOSTILE_COLLECTION.startswith(rows[0][0].removesuffix("…"))  # a long id is clipped
    assert rows[0][1] == HOSTILE_CLUSTER + " | x | y |"
    outside = _CODE_SPAN.sub("", text)
    for marker in ("<", "](", "![", "@", "http", "www.", "\u202e"):
        assert marker not in outside, marker


def test_huge_control_sections_stay_far_below_the_step_summary_limit():
    def controls(n):
        return tuple((f"C-{n}.{i}" + "9" * 500, "T" * 5000, (("FW003", "partial"),)) for i in range(300))

    frameworks = tuple((f"fw{n}", f"{n} " + "F" * 5000, "v", controls(n)) for n in range(40))
    result = with_controls(scan_example(DRIFTED), frameworks)
    text = markdown.render(result)
    assert len(text.encode("utf-8")) < STEP_SUMMARY_LIMIT // 10
    tables = _framework_tables(text)
    assert len(tables) == markdown.MAX_FRAMEWORKS
    assert all(len(rows) == markdown.MAX_CONTROLS for rows in tables.values())
    assert f"… and {40 - markdown.MAX_FRAMEWORKS} more framework(s)" in text
    assert f"… and {300 - markdown.MAX_CONTROLS} more control(s)" in text
