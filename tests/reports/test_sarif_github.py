"""SARIF as code scanning shows it: rule text that survives GitHub's sanitiser, whole sentences,
the severity of each alert, and completeness decided per subscription.

Code scanning labels an alert from its rule's `security-severity` alone, and identifies it by
category, rule id and fingerprint; these tests pin that the label follows configuration
overrides and per-finding severities while the rule id and fingerprint never move.
"""
from __future__ import annotations

import dataclasses
import json
import re

import pytest
from markdown_it import MarkdownIt

from aksaudit.run.engine import SkippedOutcome, run_scan, select_checks
from aksaudit.results.findings import Severity
from aksaudit.model.estate import build_estate
from aksaudit.run.registry import load_registry
from aksaudit.reports import sarif
from aksaudit.reports.sarif_rules import SECURITY_SEVERITY, clip_sentences, rule, unwrap
from report_estates import DRIFTED, HUB_SUBSCRIPTION, SPOKE_SUBSCRIPTION, example_rows, scan_example, with_wildcard_rules


@pytest.fixture(scope="module")
def rules(registry):
    return {check.id: (check, rule(check)) for check in registry.checks}


def test_help_markdown_has_no_html_for_the_sanitiser_to_drop_and_names_its_links(rules):
    parser = MarkdownIt("commonmark")
    problems = []
    for check_id, (_, descriptor) in rules.items():
        tokens = [t for block in parser.parse(descriptor["help"]["markdown"]) for t in [block, *(block.children or [])]]
        problems += [f"{check_id}: raw HTML {t.content!r}" for t in tokens if t.type in ("html_inline", "html_block")]
        for index, token in enumerate(tokens):
            if token.type == "link_open":
                text = tokens[index + 1].content
                if text == token.attrs["href"] or text.startswith(("http://", "https://")):
                    problems.append(f"{check_id}: bare URL as link text {text!r}")
        if "azure/<resource id>" not in descriptor["help"]["markdown"]:
            problems.append(f"{check_id}: no word on what the azure/... location is")
    assert problems == []


def test_placeholders_outside_code_still_read_as_written(rules):
    html = MarkdownIt("commonmark").render(rules["UDR001"][1]["help"]["markdown"])
    assert "&lt;firewall private IP&gt;" in html or "&lt;firewall private IP>" in html


def test_full_descriptions_are_whole_sentences_from_the_docstring(rules):
    cut = {check_id: d["fullDescription"]["text"] for check_id, (check, d) in rules.items()
           if not unwrap(check.section("What it checks")).startswith(d["fullDescription"]["text"])
           or not re.search(r"[.!?][)\"']?$", d["fullDescription"]["text"])}
    assert cut == {}
    assert all(len(d["fullDescription"]["text"]) <= 1024 for _, d in rules.values())
    assert clip_sentences("One. Two two. Three three three.", 15) == "One. Two two."


def test_the_tool_says_where_to_read_about_it():
    driver = json.loads(sarif.render(scan_example(DRIFTED)))["runs"][0]["tool"]["driver"]
    assert re.fullmatch(r"https://[^\s]+", driver["informationUri"])


def scan_with(rows, severities=None, select=()):
    checks = select_checks(load_registry(), list(select))
    return run_scan(build_estate(rows, source="test"), checks, severities=severities)


def labels(result) -> dict[tuple[str, str], tuple[str, str]]:
    """(category, rule id) -> (security-severity, level) of every rule a run's results use."""
    found = {}
    for text in sarif.render_per_subscription(result).values():
        run = json.loads(text)["runs"][0]
        by_id = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
        for result_ in run["results"]:
            descriptor = by_id[result_["ruleId"]]
            found[(run["automationDetails"]["id"], result_["ruleId"])] = (
                descriptor["properties"].get("security-severity"), descriptor["defaultConfiguration"]["level"])
    return found


def identities(result) -> set[tuple[str, str, str]]:
    return {(json.loads(t)["runs"][0]["automationDetails"]["id"], r["ruleId"], r["partialFingerprints"]["primaryLocationLineHash"])
            for t in sarif.render_per_subscription(result).values() for r in json.loads(t)["runs"][0]["results"]}


def test_a_configured_severity_relabels_the_rule_and_keeps_every_alert_identity():
    rows = example_rows()
    default, lowered = scan_with(rows), scan_with(rows, {"FW003": Severity.LOW})
    assert identities(default) == identities(lowered)
    relabelled = {key: value for key, value in labels(lowered).items() if labels(default)[key] != value}
    assert {key[1] for key in relabelled} == {"FW003"}
    assert set(relabelled.values()) == {(SECURITY_SEVERITY[Severity.LOW], "note")}


def test_a_per_finding_severity_labels_its_run_and_a_mixed_run_says_which_show_higher():
    only_wide = with_wildcard_rules(example_rows(), 3)
    group = next(r for r in only_wide if r.get("name") == "rcg-aks-workloads")
    for collection in group["properties"]["ruleCollections"]:
        for rule_ in collection.get("rules", []):
            if "*" in rule_.get("targetFqdns", []):
                rule_["targetFqdns"] = ["*.com"]
    medium = scan_with(only_wide, select=["FW004"])
    assert {f.severity for f in medium.findings} == {Severity.MEDIUM}
    assert set(labels(medium).values()) == {(SECURITY_SEVERITY[Severity.MEDIUM], "warning")}

    mixed = scan_with(with_wildcard_rules(example_rows(), 3), select=["FW004"])
    assert {f.severity for f in mixed.findings} == {Severity.HIGH, Severity.MEDIUM}
    assert {i[1] for i in identities(mixed)} == {"FW004"}, "the rule id never carries the severity"
    higher = {fp for t in sarif.render_per_subscription(mixed).values() for fp in json.loads(t)["runs"][0]["properties"]["shownHigher"]}
    assert higher == {f.fingerprint for f in mixed.findings if f.severity is Severity.MEDIUM}


def completeness(result) -> dict[str, tuple[bool, bool]]:
    """scope -> (executionSuccessful, properties.complete) of every per-subscription run."""
    return {name: (run["invocations"][0]["executionSuccessful"], run["properties"]["complete"])
            for name, text in sarif.render_per_subscription(result).items() for run in json.loads(text)["runs"]}


def test_an_unreadable_subscription_holds_back_only_itself():
    result = scan_example(DRIFTED)
    gap = dataclasses.replace(result, errors=(f"subscription {SPOKE_SUBSCRIPTION} could not be read: denied",),
                              meta={"unreadable_subscriptions": [SPOKE_SUBSCRIPTION.upper()]})
    assert completeness(gap) == {f"subscription-{HUB_SUBSCRIPTION}.sarif": (True, True),
                                 f"subscription-{SPOKE_SUBSCRIPTION}.sarif": (False, False)}
    spoke = json.loads(sarif.render_per_subscription(gap)[f"subscription-{SPOKE_SUBSCRIPTION}.sarif"])["runs"][0]
    assert any("could not be read" in g for g in spoke["properties"]["gaps"])


def test_a_gap_no_subscription_owns_holds_back_every_run():
    result = scan_example(DRIFTED)
    crashed = dataclasses.replace(result, errors=("check FW003 failed: KeyError: 'x' (at fw003.py:1)",))
    assert set(completeness(crashed).values()) == {(False, False)}
    assert set(completeness(result).values()) == {(True, True)}


def test_a_skipped_outcome_holds_back_the_subscription_of_its_resource():
    result = scan_example(DRIFTED)
    spoke_resource = next(f.resource_id for f in result.findings if f.subscription_id == SPOKE_SUBSCRIPTION)
    gap = dataclasses.replace(result, skipped=(SkippedOutcome("UDR001", spoke_resource, "", "route table unreadable"),))
    assert completeness(gap) == {f"subscription-{HUB_SUBSCRIPTION}.sarif": (True, True),
                                 f"subscription-{SPOKE_SUBSCRIPTION}.sarif": (False, False)}


def test_a_held_back_subscription_stays_pseudonymous_when_ids_are_redacted():
    from aksaudit.results.redaction import redact_result
    result = scan_example(DRIFTED)
    gap = dataclasses.replace(result, errors=(f"subscription {SPOKE_SUBSCRIPTION} could not be read: denied",),
                              meta={"unreadable_subscriptions": [SPOKE_SUBSCRIPTION]})
    files = sarif.render_per_subscription(redact_result(gap))
    assert not any(SPOKE_SUBSCRIPTION in name or SPOKE_SUBSCRIPTION in text for name, text in files.items())
    assert sorted(completeness(redact_result(gap)).values()) == [(False, False), (True, True)]
