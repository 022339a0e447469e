"""The HTML report as a document: self-contained, locked down by CSP, data embedded inertly.

What the page does in a browser is tested in test_html_browser.py; here the file itself is
inspected, so these run everywhere.
"""
from __future__ import annotations

import base64
import hashlib
import copy
import json
import re
from html.parser import HTMLParser

from aksaudit.reports import html
from aksaudit.reports.embedded import embed_json, intern_strings, pack_groups, resolve_strings, unpack_groups
from report_estates import DRIFTED, HOSTILE_CLUSTER, HOSTILE_RULE, SEED_CHECKS, hostile_rows, scan, scan_example


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._open = tag if tag in self.raw else None

    def handle_data(self, data):
        if self._open:
            self.raw[self._open].append(data)

    def handle_endtag(self, tag):
        self._open = None


def _parse(text: str) -> _Elements:
    parser = _Elements()
    parser.feed(text)
    return parser


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def test_page_is_self_contained_and_csp_allows_only_its_own_inline_code():
    page = html.render(scan_example(DRIFTED))
    parsed = _parse(page)
    csp = [attrs["content"] for tag, attrs in parsed.tags
           if tag == "meta" and attrs.get("http-equiv", "").lower() == "content-security-policy"]
    assert len(csp) == 1
    directives = dict(d.strip().split(" ", 1) for d in csp[0].split(";") if d.strip())
    assert directives["default-src"] == "'none'"
    scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
    assert [s.get("type", "") for s in scripts] == ["application/json"] * 3 + [""]
    assert directives["script-src"] == _sha256(parsed.raw["script"][3])
    assert directives["style-src"] == _sha256(parsed.raw["style"][0])
    assert "unsafe" not in csp[0]
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, tag
        assert "style" not in attrs, tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert tag not in ("img", "iframe", "object", "embed", "form", "base"), tag
        if "href" in attrs:  # the empty icon, and the overview's links within this page
            assert (tag, attrs["href"]) in (("link", "data:,"), ("a", "#findings")), attrs


def test_embedded_data_cannot_close_its_script_element():
    hostile = {"message": "</script><script>alert(1)</script><!-- &amp; \u2028", "id": "\x003"}
    embedded = str(embed_json(hostile))
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    assert json.loads(embedded) == hostile


def test_repeated_strings_are_tabled_once_and_resolve_back():
    long_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt"
    data = {"a": [long_id, long_id, "short", "short"], "b": {"x": long_id, "nul": "\x000", "once": long_id + "/x"}}
    table, packed = intern_strings(copy.deepcopy(data))
    assert table.count(long_id) == 1 and long_id + "/x" not in table and "short" not in table
    assert "\x000" in table  # a string that looks like a reference is always tabled
    assert resolve_strings(table, json.loads(str(embed_json(packed)))) == data


def test_interning_turns_tuples_into_lists_and_handles_a_bare_string():
    long_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt"
    data = {"t": (long_id, (long_id, 1)), "n": None}
    table, packed = intern_strings(copy.deepcopy(data))
    assert table == [long_id] and packed == {"t": ["\x000", ["\x000", 1]], "n": None}
    assert intern_strings(long_id) == ([], long_id)
    assert intern_strings("\x001") == (["\x001"], "\x000")


def test_packed_groups_unpack_to_the_items_whatever_they_hold():
    items = [{"message": "</script><!-- \u2028", "lone": "\ud800", "nul": "\x000", "n": n, "nested": [None, 1.5]}
             for n in range(7)]
    groups = pack_groups(items, 3)
    assert len(groups) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9+/=]+", group) for group in groups)
    assert unpack_groups(groups) == items


def _embedded_data(parsed: _Elements) -> dict:
    """The page's data as `report_data` gives it: tabled strings resolved, packed parts put back."""
    data = resolve_strings(json.loads(parsed.raw["script"][0]), json.loads(parsed.raw["script"][1]))
    packed = json.loads(parsed.raw["script"][2])
    for finding, detail in zip(data["findings"], unpack_groups(packed["findings"]), strict=True):
        finding.update(detail)
    for path, stages in zip(data["paths"], unpack_groups(packed["paths"]), strict=True):
        boxes = [dict(zip(data["stage_fields"], row)) for row in stages]
        assert path.pop("findings") == sorted({i for box in boxes for i in box["findings"]})
        assert path.pop("problems") == any(box["state"] in ("broken", "missing", "unknown") for box in boxes)
        path["stages"] = stages
    return data


def test_hostile_names_reach_the_page_only_as_data():
    result = scan(hostile_rows())
    page = html.render(result)
    parsed = _parse(page)
    assert "<img src=x" not in page and "<svg onload" not in page and "alert(3)</script>" not in page
    assert [tag for tag, _ in parsed.tags].count("script") == 4
    data = _embedded_data(parsed)
    assert data == json.loads(json.dumps(html.report_data(result)))
    assert any(HOSTILE_CLUSTER in f["message"] for f in data["findings"])
    assert any(HOSTILE_RULE in f["message"] for f in data["findings"])
    assert {p["cluster"] for p in data["paths"]} >= {HOSTILE_CLUSTER}


def test_script_never_writes_markup():
    script = html._assets()[0]
    assert "</script" not in script.lower()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "setAttribute(\"style\"", "javascript:"):
        assert sink not in script, sink


def _boxes(data: dict, path: dict) -> list[dict]:
    return [dict(zip(data["stage_fields"], row)) for row in path["stages"]]


def _states(result, cluster: str) -> list[dict[str, str]]:
    data = html.report_data(result)
    checks = {i: f["check_id"] for i, f in enumerate(data["findings"])}
    return [{s["stage"]: (s["state"], frozenset(checks[i] for i in s["findings"])) for s in _boxes(data, p)}
            for p in data["paths"] if p["cluster"] == cluster]


def test_diagram_stages_place_the_broken_hop():
    result = scan_example(DRIFTED, SEED_CHECKS)
    none = frozenset()
    assert _states(result, "aks-payments-prod") == [{
        "cluster": ("ok", none), "subnet": ("ok", none), "route-table": ("ok", none),
        "next-hop": ("broken", frozenset({"UDR004"})), "firewall": ("missing", none), "rules": ("unreached", none)}]
    analytics = _states(result, "aks-analytics-prod")
    assert {"cluster": ("ok", none), "subnet": ("broken", frozenset({"UDR001"})), "route-table": ("missing", none),
            "next-hop": ("unreached", none), "firewall": ("unreached", none), "rules": ("unreached", none)} in analytics
    assert {"cluster": ("ok", none), "subnet": ("ok", none), "route-table": ("ok", none), "next-hop": ("ok", none),
            "firewall": ("ok", none), "rules": ("broken", frozenset({"FW003", "FW004"}))} in analytics


def test_clean_estate_draws_every_hop_in_place():
    data = html.report_data(scan_example("hub-spoke.json"))
    assert data["paths"] and data["findings"] == []
    assert {s["state"] for p in data["paths"] for s in _boxes(data, p)} == {"ok"}


def test_tutorial_marks_cluster_and_firewall():
    result = scan_example("tutorial.json", SEED_CHECKS)
    [states] = _states(result, "myAksCluster")
    assert states["cluster"] == ("broken", frozenset({"AKS004"}))
    assert states["firewall"] == ("broken", frozenset({"FW001"}))
    assert re.search(r"clusters compliant", html.render(result))
