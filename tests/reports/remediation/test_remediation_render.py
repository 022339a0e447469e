"""The renderer's pieces, called directly: quoting that cannot be forgotten, JMESPath that keeps
names as data, the firewall IP choice, and what the script says about each block."""
from __future__ import annotations

import collections
import json
from dataclasses import replace

import jmespath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import DictLoader

from aksaudit.results.findings import Finding, Severity, Status, fingerprint
from aksaudit.reports.remediation import ScanHeader, render
from aksaudit.reports.remediation.context import (
    arm_url, choose_firewall_ip, free_name, parse_arm_id, route_table_name,
)
from aksaudit.reports.remediation import jmes
from aksaudit.reports.remediation.operations.firewall_rule import guard as rule_guard
from aksaudit.reports.remediation.operations.firewall_subnet import guard as subnet_guard
from aksaudit.reports.remediation.operations.route import guard as route_guard
from aksaudit.reports.remediation.shell import UnquotedValue, comment, environment, shq
from remediation_harness import TEMPLATES, copy_estate, generate, scan

NASTY = ["$(touch x)", "`id`", "a'b", 'a"b', "a\nb", "a;b", "a\\", "\\`", "a`] | @", "é ü", "{subscriptionId}", ""]
OPTIONS = jmespath.Options(dict_cls=collections.OrderedDict)


def _search(expression, data):
    return jmespath.search(expression, data, OPTIONS)


# --- quoting ------------------------------------------------------------------------------------

def test_an_unquoted_interpolation_refuses_to_render():
    env = environment(DictLoader({"bad": "az network vnet show --name {{ name }}\n",
                                  "good": "az network vnet show --name {{ name | shq }}\n"}))
    with pytest.raises(UnquotedValue):
        env.get_template("bad").render(name="$(touch pwned)")
    assert env.get_template("good").render(name="$(touch pwned)") == \
        "az network vnet show --name '$(touch pwned)'\n"


@pytest.mark.parametrize("value", [None, ["a"], {"a": 1}])
def test_shq_refuses_what_has_no_single_text(value):
    with pytest.raises(UnquotedValue):
        shq(value)


def test_comment_text_cannot_leave_its_line():
    assert comment("a\nb\r$(c)\x1b") == "a\\nb\\r$(c)\\x1b"


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_comment_escapes_exactly_what_is_not_printable(text):
    """Text with nothing to escape is taken whole: the result is still, character by character,
    each printable character as it is and any other as its escape."""
    expected = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    assert comment(text) == expected
    assert "\n" not in comment(text) and "\r" not in comment(text)


# --- JMESPath --------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.text())
def test_literals_and_fields_keep_any_name_as_data(name):
    assert _search(f"[?name == {jmes.literal(name)}] | [0].v", [{"name": "other", "v": 0}, {"name": name, "v": 1}]) == 1
    assert _search(jmes.field(name), {name: 2}) == 2


@pytest.mark.parametrize("collection", NASTY[:-1])
@pytest.mark.parametrize("kind", ["rule_collection_group", "classic_firewall"])
def test_rule_queries_check_and_remove_exactly_one_rule(collection, kind):
    rule = {"name": collection + "-r", "description": "$(x)", "protocols": [{"protocolType": "Https", "port": 443}],
            "destinationPorts": ["*"]}
    other = {"name": "keep", "protocols": [{"port": 80, "protocolType": "Http"}]}
    if kind == "rule_collection_group":
        body = {"etag": 'W/"1"', "properties": {"ruleCollections": [
            {"name": collection, "action": {"type": "Allow"}, "rules": [other, rule]},
            {"name": "solo", "action": {"type": "Allow"}, "rules": [dict(rule)]}]}}
        place = rule_guard.rule_place(kind, "ruleCollections")
    else:
        body = {"etag": 'W/"1"', "location": "x", "properties": {"networkRuleCollections": [
            {"name": collection, "properties": {"action": {"type": "Allow"}, "rules": [other, rule]}},
            {"name": "solo", "properties": {"action": {"type": "Allow"}, "rules": [dict(rule)]}}]}}
        place = rule_guard.rule_place(kind, "networkRuleCollections")
    # Azure may return members in another order than the scan saw: the state still matches.
    reordered = json.loads(json.dumps(body))
    target = reordered["properties"][place.collections[1]][0]
    rules = target["rules"] if kind == "rule_collection_group" else target["properties"]["rules"]
    rules[1] = dict(reversed(list(rules[1].items())))
    etag, state, count = _search(rule_guard.rule_state_query(place, collection, rule["name"], rule), reordered)
    assert (etag, state, count) == ('W/"1"', rule_guard.rule_state(rule, "Allow"), 1)

    edited = _search(rule_guard.rule_removal_query(place, collection, rule["name"]), body)
    assert edited["etag"] == 'W/"1"' and edited.get("location") == body.get("location")
    assert _search(rule_guard.rule_state_query(place, collection, rule["name"], rule), edited)[2] == 0
    collections_after = edited["properties"][place.collections[1]]
    assert [c["name"] for c in collections_after] == [collection, "solo"]
    kept = _search(rule_guard.rule_removal_query(place, "solo", rule["name"]), body)["properties"][place.collections[1]]
    assert [c["name"] for c in kept] == [collection]  # a collection left empty goes too


def test_route_and_vnet_states_match_what_az_prints():
    route = {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet", "name": "x"}
    assert _search(route_guard.ROUTE_STATE, route) == route_guard.route_state("0.0.0.0/0", "Internet", "")
    table = {"routes": [{"name": "b", "addressPrefix": "0.0.0.0/1", "nextHopType": "VirtualAppliance",
                         "nextHopIpAddress": "10.0.0.4"},
                        {"name": "a", "addressPrefix": "10.0.0.0/8", "nextHopType": "VnetLocal"}]}
    scanned = [{"name": "b", "address_prefix": "0.0.0.0/1", "next_hop_type": "VirtualAppliance", "next_hop_ip": "10.0.0.4"},
               {"name": "a", "address_prefix": "10.0.0.0/8", "next_hop_type": "VnetLocal", "next_hop_ip": ""}]
    assert _search(route_guard.ROUTES_STATE, table) == route_guard.routes_state(scanned)
    assert _search(route_guard.ROUTES_STATE, {"routes": []}) == route_guard.routes_state([]) == "[]"
    vnet = {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}, "subnets": [{"name": "b"}, {"name": "a"}]}
    assert _search(subnet_guard.VNET_STATE, vnet) == subnet_guard.vnet_state(["10.1.0.0/16"], ["a", "b"])


# --- context -----------------------------------------------------------------------------------

def test_firewall_ip_is_chosen_only_when_exactly_one_fits():
    assert choose_firewall_ip({"firewall_private_ips": ["10.0.1.4"]}) == "10.0.1.4"
    assert choose_firewall_ip({"firewall_private_ips": ["10.0.1.4", "10.0.1.4"]}) == "10.0.1.4"
    assert choose_firewall_ip({"firewall_private_ips": []}) == ""
    assert choose_firewall_ip({"firewall_private_ips": ["10.0.1.4", "10.9.1.4"]}) == ""
    assert choose_firewall_ip({"firewall_private_ips": ["10.0.1.4; rm -rf /"]}) == ""
    assert choose_firewall_ip({"firewall_private_ips": ["10.0.1.4", "10.9.1.4"],
                               "target_firewall_private_ips": ["10.9.1.4"]}) == "10.9.1.4"
    assert choose_firewall_ip({"firewall_private_ips": ["10.0.1.4"], "target_firewall_private_ips": ["10.9.1.4"]}) == ""


def test_names_and_urls_come_out_of_arm_ids_intact():
    rid = "/subscriptions/s/resourceGroups/rg x/providers/Microsoft.Network/routeTables/rt?#/routes/r$(x)"
    parsed = parse_arm_id(rid)
    assert (parsed.subscription, parsed.resource_group, parsed.named("ROUTETABLES"), parsed.name) == \
        ("s", "rg x", "rt?#", "r$(x)")
    assert arm_url(rid) == ("/subscriptions/s/resourceGroups/rg%20x/providers/Microsoft.Network/routeTables/rt%3F%23"
                            "/routes/r%24%28x%29?api-version=2024-05-01")
    assert free_name("default-to-firewall", ["Default-To-Firewall", "default-to-firewall-2"]) == "default-to-firewall-3"
    assert len(route_table_name("s" * 90)) == 80


# --- the script --------------------------------------------------------------------------------

def _finding(check_id: str, resource_id: str, evidence: dict, locus: str = "") -> Finding:
    return Finding(check_id, "t", Severity.HIGH, Status.FAIL, resource_id, locus, resource_id.split("/")[2], "m\nx",
                   evidence, fingerprint(check_id, resource_id, locus))


def test_a_finding_with_too_little_evidence_gets_a_manual_block_not_a_broken_command():
    route = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt/routes/r"
    script = render([_finding("UDR004", route, {})], TEMPLATES, ScanHeader("v", "t"))
    (block,) = script.blocks
    assert not block.resolves and "no fix could be generated" in block.summary
    assert script.targeted == frozenset()


def test_disruptive_blocks_are_comments_unless_included(tmp_path):
    result = scan(copy_estate("hub-spoke-drifted.json", tmp_path))
    default, included = generate(result, include_disruptive=False), generate(result, include_disruptive=True)
    dormant = {b.finding.check_id for b in default.blocks if not b.active}
    assert dormant == {"FW003", "FW004", "FW005"}
    assert all(b.active for b in included.blocks)
    lines = default.text.splitlines()
    for block in default.blocks:
        called = f"fix_{block.index}" in lines
        assert called == block.active, block.finding.check_id
        assert (f"# fix_{block.index}" in lines) == (not block.active)


def test_the_header_lists_every_finding_on_comment_lines_only(tmp_path):
    result = scan(copy_estate("hub-spoke-drifted.json", tmp_path))
    script = generate(result)
    header = script.text.split("\nset -euo pipefail\n", 1)[0].splitlines()
    assert all(line.startswith("#") for line in header)
    for block in script.blocks:
        assert any(f"[{block.index}] {block.finding.check_id}" in line and block.finding.resource_id in line
                   for line in header)


def test_suppressed_findings_are_not_fixed_but_named(tmp_path):
    result = scan(copy_estate("hub-spoke-drifted.json", tmp_path))
    accepted = next(f for f in result.findings if f.check_id == "UDR004")
    findings = [replace(f, suppression={"reason": "r"}) if f is accepted else f for f in result.findings]
    script = render(findings, TEMPLATES, ScanHeader("v", "t"))
    assert accepted.key not in {b.finding.key for b in script.blocks}
    assert "accepted risk (suppressed): UDR004" in script.text


def test_findings_are_grouped_by_the_subscription_of_their_resource_id(tmp_path):
    result = scan(copy_estate("hub-spoke-drifted.json", tmp_path))
    script = generate(result)
    assert "account set" not in script.text
    for block in script.blocks:
        before = script.text.split(f"\nfix_{block.index}() {{\n", 1)[0]
        section = before.rsplit("\nsubscription_section ", 1)[1].split("\n", 1)[0]
        assert section == parse_arm_id(block.finding.resource_id).subscription.lower()
