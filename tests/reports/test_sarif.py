"""SARIF output: the official schema, and the GitHub code-scanning rules no schema can express.

Code scanning rejects a whole upload for one result without a physical location, with a URI
scheme, or with a non-numeric security severity, and it tracks alerts only by
`primaryLocationLineHash`. These tests pin each of those, on the examples and on hostile names.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import jsonschema
import pytest

from aksaudit.results.findings import Severity
from aksaudit.reports import sarif
from report_estates import (
    DRIFTED, FIREWALL_PUBLIC_IP, HUB_SUBSCRIPTION, SPOKE_SUBSCRIPTION, cloned_spokes, example_rows, hostile_rows,
    renamed, scan, scan_example, suppressed, with_unreadable_row, with_wildcard_rules,
)

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLES = ("tutorial.json", "hub-spoke.json", DRIFTED)
LINE_HASH = re.compile(r"^[0-9a-f]{16}:1$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator
    cls.check_schema(schema)
    checker = jsonschema.FormatChecker()
    assert "uri-reference" in checker.checkers, "format checks need rfc3986-validator installed"
    return cls(schema, format_checker=checker)


def github_problems(log: dict) -> list[str]:
    """What code scanning would reject or mistrack, per its docs and the upload action's source."""
    problems = []
    runs = log.get("runs", [])
    if not 1 <= len(runs) <= 20:
        problems.append(f"{len(runs)} runs")
    categories = [run.get("automationDetails", {}).get("id", "") for run in runs]
    if len(set(categories)) != len(categories):
        problems.append("two runs share a category")
    for run, category in zip(runs, categories):
        if not category.endswith("/"):
            problems.append(f"category {category!r} does not end with '/'")
        rules = run["tool"]["driver"].get("rules", [])
        ids = [rule["id"] for rule in rules]
        if len(set(ids)) != len(ids):
            problems.append("duplicate rule ids")
        for rule in rules:
            problems += _rule_problems(rule)
        if "results" not in run:
            problems.append("run without a results array")
            continue
        if len(run["results"]) > sarif.MAX_RESULTS:
            problems.append(f"{len(run['results'])} results in one run")
        hashes = [r.get("partialFingerprints", {}).get("primaryLocationLineHash", "") for r in run["results"]]
        if len(set(hashes)) != len(hashes):
            problems.append("duplicate fingerprints in a run")
        for result in run["results"]:
            problems += _result_problems(result, ids)
    return problems


def _rule_problems(rule: dict) -> list[str]:
    problems = []
    properties = rule.get("properties", {})
    if "security-severity" in properties:
        value = properties["security-severity"]
        if not isinstance(value, str) or not 0 < _number(value) <= 10:
            problems.append(f"{rule['id']}: security-severity {value!r} is not a number string in (0, 10]")
        if "security" not in properties.get("tags", []):
            problems.append(f"{rule['id']}: security rule without the 'security' tag")
    if len(properties.get("tags", [])) > 10:
        problems.append(f"{rule['id']}: more than 10 tags")
    if len(rule.get("name", "")) > 255:
        problems.append(f"{rule['id']}: name too long")
    for key in ("shortDescription", "fullDescription"):
        if not 0 < len(rule.get(key, {}).get("text", "")) <= 1024:
            problems.append(f"{rule['id']}: {key} empty or over 1024 characters")
    if not rule.get("help", {}).get("text"):
        problems.append(f"{rule['id']}: no help.text")
    return problems


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _result_problems(result: dict, rule_ids: list[str]) -> list[str]:
    problems = []
    where = result.get("ruleId", "?")
    if result.get("ruleId") not in rule_ids or rule_ids[result.get("ruleIndex", -1)] != result["ruleId"]:
        problems.append(f"{where}: ruleId/ruleIndex do not name one rule")
    if result.get("level") not in ("note", "warning", "error") or result.get("kind", "fail") != "fail":
        problems.append(f"{where}: level {result.get('level')!r} kind {result.get('kind')!r}")
    if not result.get("message", {}).get("text"):
        problems.append(f"{where}: empty message")
    locations = result.get("locations") or []
    if len(locations) != 1:
        problems.append(f"{where}: {len(locations)} locations")
    for location in locations:
        physical = location.get("physicalLocation", {})
        uri = physical.get("artifactLocation", {}).get("uri", "")
        if not uri or SCHEME.match(uri) or uri.startswith("/") or ":" in uri.split("/")[0] or " " in uri:
            problems.append(f"{where}: bad uri {uri!r}")
        if physical.get("region", {}).get("startLine", 0) < 1:
            problems.append(f"{where}: no region.startLine")
    if not LINE_HASH.match(result.get("partialFingerprints", {}).get("primaryLocationLineHash", "")):
        problems.append(f"{where}: primaryLocationLineHash missing or misshapen")
    return problems


def _identities(log: dict) -> set[tuple[str, str, str]]:
    """(check, lower-cased original id, locus) of every result: what the findings must match."""
    return {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].lower(),
             r["properties"]["azure"]["locus"]) for run in log["runs"] for r in run["results"]}


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_sarif_is_schema_valid_and_github_clean(validator, name):
    result = scan_example(name)
    log = json.loads(sarif.render(result))
    assert [e.message for e in validator.iter_errors(log)] == []
    assert github_problems(log) == []
    assert _identities(log) == {f.key for f in result.findings}
    assert [run["automationDetails"]["id"] for run in log["runs"]] == ["aksaudit/all/"]


def test_hostile_names_stay_valid_uris(validator):
    result = scan(hostile_rows())
    log = json.loads(sarif.render(result))
    assert [e.message for e in validator.iter_errors(log)] == []
    assert github_problems(log) == []
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    hostile = [u for u in uris if "%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E" in u or "%22%3E%3Csvg" in u]
    assert hostile, uris
    assert all(u.startswith("azure/subscriptions/") and u == u.strip() for u in uris)


def test_uri_is_relative_lower_case_and_cannot_climb():
    assert sarif.artifact_uri("/subscriptions/ABC/resourceGroups/RG/providers/X/y/Name") == \
        "azure/subscriptions/abc/resourcegroups/rg/providers/x/y/name"
    assert sarif.artifact_uri("/subscriptions/a/../..//b c:d") == "azure/subscriptions/a/%2E%2E/%2E%2E/b%20c%3Ad"


def test_fingerprint_and_uri_survive_id_casing_and_rewording():
    original = scan(example_rows())
    # Same resources with upper-cased resource groups and subscription ids, and a next hop IP
    # that changes UDR004's message.
    shouted = renamed(example_rows(), {name: name.upper() for name in (
        "rg-spoke-payments-weu", "rg-hub-fwpolicy-weu", "rg-spoke-analytics-weu", HUB_SUBSCRIPTION, SPOKE_SUBSCRIPTION)})
    changed = scan(renamed(shouted, {"10.0.1.5": "10.0.1.6"}))

    def tracked(result) -> dict[tuple[str, str], tuple[str, str]]:
        log = json.loads(sarif.render(result))
        return {(r["ruleId"], r["partialFingerprints"]["primaryLocationLineHash"]):
                (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["message"]["text"])
                for r in log["runs"][0]["results"]}

    before, after = tracked(original), tracked(changed)
    assert before.keys() == after.keys()
    assert {k: v[0] for k, v in before.items()} == {k: v[0] for k, v in after.items()}
    reworded = {k[0] for k in before if before[k][1] != after[k][1]}
    assert reworded == {"UDR004"}
    assert {f.resource_id for f in original.findings} != {f.resource_id for f in changed.findings}


def test_same_scan_gives_identical_bytes_whatever_the_row_order():
    rows = example_rows()
    shuffled = list(rows)
    random.Random(7).shuffle(shuffled)
    assert sarif.render(scan(rows)) == sarif.render(scan(shuffled))


def test_clean_scope_still_gets_an_empty_run(validator):
    result = scan_example("hub-spoke.json")
    log = json.loads(sarif.render(result))
    assert log["runs"][0]["results"] == []
    assert github_problems(log) == []
    files = sarif.render_per_subscription(result)
    assert set(files) == {f"subscription-{HUB_SUBSCRIPTION}.sarif", f"subscription-{SPOKE_SUBSCRIPTION}.sarif"}
    for text in files.values():
        split = json.loads(text)
        assert [e.message for e in validator.iter_errors(split)] == []
        assert split["runs"][0]["results"] == []


def test_per_subscription_files_split_the_findings(validator):
    result = scan_example(DRIFTED)
    files = sarif.render_per_subscription(result)
    assert set(files) == {f"subscription-{HUB_SUBSCRIPTION}.sarif", f"subscription-{SPOKE_SUBSCRIPTION}.sarif"}
    for subscription in (HUB_SUBSCRIPTION, SPOKE_SUBSCRIPTION):
        log = json.loads(files[f"subscription-{subscription}.sarif"])
        assert [e.message for e in validator.iter_errors(log)] == []
        assert github_problems(log) == []
        assert log["runs"][0]["automationDetails"]["id"] == f"aksaudit/subscription-{subscription}/"
        assert _identities(log) == {f.key for f in result.findings if f.subscription_id == subscription}


def test_rules_come_from_check_metadata_and_docstrings(registry):
    log = json.loads(sarif.render(scan_example(DRIFTED)))
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {check.id for check in registry.checks}
    for check in registry.checks:
        rule = rules[check.id]
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", rule["name"]), rule["name"]
        assert rule["shortDescription"]["text"] == check.meta.title
        markdown = rule["help"]["markdown"]
        for heading in ("Why it matters", "How to fix"):
            assert " ".join(check.section(heading).split()[:6]) in " ".join(markdown.split())
        assert all(f"]({ref})" in markdown for ref in check.meta.references if ref.startswith("https://"))
        expected = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "2.0"}
        assert rule["properties"].get("security-severity") == expected.get(check.meta.severity)
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")


def test_cap_keeps_the_most_severe_results_deterministically(validator):
    rows = with_wildcard_rules(cloned_spokes(20, 100, payments_next_hop=FIREWALL_PUBLIC_IP), 5000)
    select = ("UDR001", "UDR004", "UDR005", "FW004")
    result = scan(rows, select)
    by_severity = {s: {f.key for f in result.findings if f.severity is s} for s in Severity}
    assert by_severity[Severity.CRITICAL] and by_severity[Severity.HIGH] and by_severity[Severity.MEDIUM]
    room = sarif.MAX_RESULTS - len(by_severity[Severity.CRITICAL]) - len(by_severity[Severity.HIGH])
    mediums = sorted(by_severity[Severity.MEDIUM], key=lambda key: (key[0], key[1], key[2]))
    expected = by_severity[Severity.CRITICAL] | by_severity[Severity.HIGH] | set(mediums[:room])

    text = sarif.render(result)
    log = json.loads(text)
    assert [e.message for e in validator.iter_errors(log)] == []
    assert github_problems(log) == []
    assert _identities(log) == expected
    omitted = len(result.findings) - sarif.MAX_RESULTS
    assert log["runs"][0]["properties"]["omittedResults"] == omitted
    notes = [n["message"]["text"] for n in log["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert any(f"{omitted} lower-severity" in note for note in notes)
    assert any(f"{omitted} lower-severity" in w for w in sarif.warnings(result))

    shuffled = list(rows)
    random.Random(3).shuffle(shuffled)
    assert sarif.render(scan(shuffled, select)) == text


def test_only_failures_become_results():
    result = scan_example(DRIFTED)
    log = json.loads(sarif.render(result))
    assert all("kind" not in r and "baselineState" not in r for r in log["runs"][0]["results"])
    assert _identities(log) == {f.key for f in result.findings}


def _break_location(log):
    del log["runs"][0]["results"][0]["locations"]


def _break_scheme(log):
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "azure://sub/x"


def _break_leading_slash(log):
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    location["uri"] = "/" + location["uri"]


def _break_severity(log):
    log["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] = "high"


def _break_results(log):
    del log["runs"][0]["results"]


def _break_fingerprint(log):
    log["runs"][0]["results"][0]["partialFingerprints"] = {}


@pytest.mark.parametrize("breakage", [_break_location, _break_scheme, _break_leading_slash, _break_severity,
                                      _break_results, _break_fingerprint])
def test_rule_checker_catches_what_github_rejects(breakage):
    log = json.loads(sarif.render(scan_example(DRIFTED)))
    assert github_problems(log) == []
    breakage(log)
    assert github_problems(log) != []


def test_suppressed_findings_stay_results_marked_as_accepted(validator):
    result = suppressed(scan_example(DRIFTED), "FW003", reason="temporary <b>debug</b> rule")
    log = json.loads(sarif.render(result))
    assert [e.message for e in validator.iter_errors(log)] == []
    assert github_problems(log) == []
    assert _identities(log) == {f.key for f in result.findings}
    marked = {r["ruleId"]: r.get("suppressions") for r in log["runs"][0]["results"]}
    assert marked["FW003"] == [{"kind": "external", "status": "accepted",
                                "justification": "temporary <b>debug</b> rule (until 2099-12-31)"}]
    assert {rule for rule, value in marked.items() if value} == {"FW003"}


def test_incomplete_scan_warns_before_upload_and_says_so_in_the_run():
    result = scan(with_unreadable_row(example_rows()))
    assert not result.complete
    assert any("incomplete" in warning for warning in sarif.warnings(result))
    run = json.loads(sarif.render(result))["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["properties"]["complete"] is False
    assert not any("incomplete" in warning for warning in sarif.warnings(scan_example(DRIFTED)))
