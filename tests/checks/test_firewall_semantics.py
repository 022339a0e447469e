"""The firewall checks judge the traffic rules permit, not how the rules are spelled.

Each case starts from a check's good fixture (no finding), adds rules that permit the same traffic
as a rule the check must report, written in the ways reported as evasions (CIDR halves in one rule
or across two, an IP group holding a range, split port ranges, `*com` for `*.com`), and compares
the finding set with the rules that must be named.
"""
from __future__ import annotations

import copy

import pytest

from aksaudit.run.registry import load_registry
from aksaudit.testing import failures, load_fixture, run_checks

REGISTRY = load_registry().by_id()
RCG = "microsoft.network/firewallpolicies/rulecollectiongroups"
IP_GROUP = "microsoft.network/ipgroups"


def _with_collection(rows: list, group_name: str, collection: dict) -> tuple[list, str]:
    rows = copy.deepcopy(rows)
    group = next(r for r in rows if r["type"].lower() == RCG and r["id"].endswith("/" + group_name))
    group["properties"]["ruleCollections"].append(collection)
    return rows, group["id"]


def _network(name: str, destinations=(), ports=("*",), protocols=("TCP",), sources=("*",), groups=()) -> dict:
    rule = {"ruleType": "NetworkRule", "name": name, "ipProtocols": list(protocols), "sourceAddresses": list(sources),
            "destinationAddresses": list(destinations), "destinationPorts": list(ports)}
    if groups:
        rule["destinationIpGroups"] = list(groups)
    return rule


def _allow(name: str, rules: list, priority: int = 500) -> dict:
    return {"name": name, "priority": priority, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
            "action": {"type": "Allow"}, "rules": rules}


def _ip_group(like: dict, name: str, addresses) -> dict:
    group = {"id": like["id"].split("/providers/")[0] + f"/providers/Microsoft.Network/ipGroups/{name}",
             "name": name, "type": IP_GROUP, "location": like.get("location", "westeurope"),
             "resourceGroup": like.get("resourceGroup", ""), "subscriptionId": like.get("subscriptionId", ""),
             "properties": {}}
    if addresses is not None:
        group["properties"]["ipAddresses"] = list(addresses)
    return group


FW003_EVASIONS = {
    "two halves in one rule": [_network("halves", ["0.0.0.0/1", "128.0.0.0/1"])],
    "two halves in two rules": [_network("low-half", ["0.0.0.0/1"]), _network("high-half", ["128.0.0.0/1"])],
    "a range over every address": [_network("range", ["0.0.0.0-255.255.255.255"], ports=("1-65535",))],
    "split port ranges": [_network("split-ports", ["*"], ports=("1-32767", "32768-65535"))],
    "ports split across rules": [_network("low-ports", ["*"], ports=("1-40000",)),
                                 _network("high-ports", ["*"], ports=("40001-65535",))],
    "Any protocol and public space only": [_network("public-only", [
        "1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3",
        "64.0.0.0/2", "128.0.0.0/1"], protocols=("Any",))],
}


@pytest.mark.parametrize("case", sorted(FW003_EVASIONS))
def test_fw003_reports_any_any_however_it_is_written(case):
    check = REGISTRY["FW003"]
    good = load_fixture(check.folder / "good.json")
    rules = FW003_EVASIONS[case]
    rows, group_id = _with_collection(good.rows, "rcg-child", _allow("evasion", rules))
    expected = {("FW003", group_id.lower(), f"ruleCollections/evasion/rules/{r['name']}") for r in rules}
    assert failures(run_checks([check], rows)) == expected


def test_fw003_reports_an_ip_group_holding_a_range_and_skips_an_unreadable_one():
    check = REGISTRY["FW003"]
    good = load_fixture(check.folder / "good.json")
    rows, group_id = _with_collection(good.rows, "rcg-child", _allow("evasion", [
        _network("via-group", groups=["<group>"])]))
    like = next(r for r in rows if r["type"].lower() == RCG)
    for addresses, outcome in ((["0.0.0.0-127.255.255.255", "128.0.0.0/1"], "fail"), (None, "skipped"),
                               (["10.0.0.0/8"], "pass")):
        group = _ip_group(like, "ipg-everything", addresses)
        trial = [group if r is None else r for r in rows]
        rule = next(r for r in trial if r["type"].lower() == RCG and r["id"] == group_id)
        rule["properties"]["ruleCollections"][-1]["rules"][0]["destinationIpGroups"] = [group["id"]]
        result = run_checks([check], [*trial, group])
        key = ("FW003", group_id.lower(), "ruleCollections/evasion/rules/via-group")
        assert (key in failures(result)) == (outcome == "fail")
        skipped = {(s.resource_id.lower(), s.locus) for s in result.skipped}
        assert ((group_id.lower(), key[2]) in skipped) == (outcome == "skipped")


def test_fw003_names_only_the_rules_the_cover_needs():
    """A narrow rule overlapping an any/any rule is not part of the finding; a deny list does not hide it."""
    check = REGISTRY["FW003"]
    good = load_fixture(check.folder / "good.json")
    rows, group_id = _with_collection(good.rows, "rcg-child", _allow("evasion", [
        _network("narrow", ["203.0.114.0/24"], ports=("22",)), _network("anything", ["*"])]))
    rows, _ = _with_collection(rows, "rcg-child", {
        "name": "deny-list", "priority": 150, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "action": {"type": "Deny"}, "rules": [_network("block-one", ["198.51.99.7"])]})
    assert failures(run_checks([check], rows)) == {("FW003", group_id.lower(), "ruleCollections/evasion/rules/anything")}


@pytest.mark.parametrize("target,severity", [("*", "high"), ("*.com", "medium"), ("*com", "medium"),
                                             ("*.co.uk", "medium"), ("*.uk", "medium"), ("https://*.net/*", "medium")])
def test_fw004_reads_targets_as_name_sets(target, severity):
    check = REGISTRY["FW004"]
    good = load_fixture(check.folder / "good.json")
    rows = copy.deepcopy(good.rows)
    group = next(r for r in rows if r["type"].lower() == RCG)
    rule = {"ruleType": "ApplicationRule", "name": "broad", "protocols": [{"protocolType": "Https", "port": 443}],
            "sourceAddresses": ["10.0.0.0/8"], "targetFqdns": [target]}
    group["properties"]["ruleCollections"].append(_allow("broad-app", [rule]))
    result = run_checks([check], rows)
    assert failures(result) == {("FW004", group["id"].lower(), "ruleCollections/broad-app/rules/broad")}
    assert {f.severity.value for f in result.findings} == {severity}


@pytest.mark.parametrize("target", ["*.contoso.com", "*.data.mcr.microsoft.com", "*.blob.core.windows.net",
                                    "mcr.microsoft.com"])
def test_fw004_leaves_names_under_a_registered_domain_alone(target):
    check = REGISTRY["FW004"]
    good = load_fixture(check.folder / "good.json")
    rows = copy.deepcopy(good.rows)
    group = next(r for r in rows if r["type"].lower() == RCG)
    group["properties"]["ruleCollections"].append(_allow("narrow-app", [
        {"ruleType": "ApplicationRule", "name": "narrow", "protocols": [{"protocolType": "Https", "port": 443}],
         "sourceAddresses": ["10.0.0.0/8"], "targetFqdns": [target]}]))
    assert failures(run_checks([check], rows)) == frozenset()


FW005_EVASIONS = {
    "halves across two rules": [_network("web-low", ["0.0.0.0/1"], ports=("443",)),
                                _network("web-high", ["128.0.0.0/1"], ports=("443",))],
    "a port range covering 80": [_network("web-range", ["0.0.0.0-255.255.255.255"], ports=("1-1024",))],
    "a broad service tag": [_network("azure-cloud", ["AzureCloud.westeurope"], ports=("443",))],
}


@pytest.mark.parametrize("case", sorted(FW005_EVASIONS))
def test_fw005_reports_broad_web_destinations_however_they_are_written(case):
    check = REGISTRY["FW005"]
    bad = load_fixture(check.folder / "bad.json")
    # Start from the bad fixture without its two broad rules: the subnet really is behind the firewall.
    rows = copy.deepcopy(bad.rows)
    group = next(r for r in rows if r["type"].lower() == RCG)
    for collection in group["properties"]["ruleCollections"]:
        collection["rules"] = [r for r in collection["rules"] if r["name"] not in ("https-anywhere", "web-range")]
    assert failures(run_checks([check], rows)) == frozenset()
    sources = ["10.0.0.0/8"]
    rules = [{**r, "sourceAddresses": sources} for r in FW005_EVASIONS[case]]
    group["properties"]["ruleCollections"].append(_allow("evasion", rules, priority=150))
    expected = {("FW005", group["id"].lower(), f"ruleCollections/evasion/rules/{r['name']}") for r in rules}
    assert failures(run_checks([check], rows)) == expected


def _aks003_with_network(collection: dict) -> tuple[frozenset, object]:
    check = REGISTRY["AKS003"]
    good = load_fixture(check.folder / "good.json")
    rows, _ = _with_collection(good.rows, "rcg-aks", collection)
    result = run_checks([check], rows)
    return failures(result), result


def _deny(name: str, rules: list, priority: int = 50) -> dict:
    return {**_allow(name, rules, priority), "action": {"type": "Deny"}}


def test_aks003_counts_network_rules_by_the_union_they_allow():
    """No application rule is needed when network rules together reach every public address on 443."""
    check = REGISTRY["AKS003"]
    good = load_fixture(check.folder / "good.json")
    rows = copy.deepcopy(good.rows)
    group = next(r for r in rows if r["type"].lower() == RCG)
    group["properties"]["ruleCollections"] = [c for c in group["properties"]["ruleCollections"]
                                              if not c["name"].startswith("app-")]
    halves = _allow("net-halves", [_network("low", ["0.0.0.0/1"], ports=("443",)),
                                   _network("high", ["128.0.0.0/1"], ports=("443",))], priority=150)
    group["properties"]["ruleCollections"].append(halves)
    result = run_checks([check], rows)
    assert failures(result) == frozenset() and not result.skipped
    one_half = copy.deepcopy(rows)
    group = next(r for r in one_half if r["type"].lower() == RCG)
    group["properties"]["ruleCollections"][-1]["rules"].pop()
    assert failures(run_checks([check], one_half))  # half the address space is not everywhere


def test_aks003_a_network_deny_of_some_public_addresses_first_blocks():
    found, _ = _aks003_with_network(_deny("net-block", [_network("block", ["20.0.0.0/8"], ports=("443",))]))
    assert {key[0] for key in found} == {"AKS003"} and len(found) >= 4


def test_aks003_a_network_deny_of_a_service_tag_is_not_read_as_denying_nothing():
    """`Storage`'s prefixes are not known offline: the cluster may be blocked, so it cannot pass."""
    found, result = _aks003_with_network(_deny("net-block", [_network("block", ["Storage"], ports=("443",))]))
    assert found == frozenset()
    assert len(result.skipped) >= 4
    assert all("service tag(s) storage" in s.reason for s in result.skipped)
