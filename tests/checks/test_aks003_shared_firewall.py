"""AKS003 judges each node subnet behind a shared firewall as it would judge it alone.

A hub firewall serves hundreds of clusters, so AKS003 keeps a walk's answer for subnets whose
parts every deciding rule holds alike, and for requirements the rules match alike (a public
cluster's own API server FQDN is a new name per cluster). Property: over random rules (network
and application, allow and deny, unreadable and tagged sources, FQDN tags, wildcards and exact
names) and random subnets, the answers one walk gives subnet after subnet are the answers a
fresh walk gives each subnet.
"""
from __future__ import annotations

import copy
import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aksaudit.api import effective_rules
from aksaudit.checks.cluster.aks003_required_egress_blocked import META, RuleWalk
from aksaudit.checks.cluster.aks003_required_egress_blocked.requirements import Requirement, Requirements
from aksaudit.model.estate import build_estate
from aksaudit.run.registry import load_registry
from aksaudit.testing import load_fixture

GOOD = load_fixture(load_registry().by_id()["AKS003"].folder / "good.json")
RCG = "microsoft.network/firewallpolicies/rulecollectiongroups"
TAG = str(META.options["fqdn_tag"])
PUBLIC = "*.hcp.westeurope.azmk8s.io"

SOURCES = ("10.0.0.0/16", "*", "10.0.1.0/24", "10.0.0.128/25", "10.0.2.0-10.0.2.9", "10.0.3.0/24", "*",
           "fd00::/64", "not-an-address")
NETWORK_SOURCES = (*SOURCES, "Storage")
DESTINATIONS = ("*", "0.0.0.0/1", "128.0.0.0/1", "20.0.0.0/8", "Storage")
OWN = ("c1.hcp.westeurope.azmk8s.io", "c2.hcp.westeurope.azmk8s.io")
TARGETS = (PUBLIC, OWN[0], OWN[0], "mcr.microsoft.com", "*.microsoft.com", "*", "*.azmk8s.io")
SUBNETS = ("10.0.0.0/24", "10.0.1.0/24", "10.0.0.0/25", "10.0.0.128/26", "10.0.2.0/28", "10.0.3.0/26",
           "10.0.0.0/23", "10.9.0.0/24", "fd00::/120")


def _network_rule(draw, index: int) -> dict:
    return {"ruleType": "NetworkRule", "name": f"net{index}",
            "ipProtocols": [draw(st.sampled_from(("TCP", "Any", "UDP")))],
            "sourceAddresses": draw(st.lists(st.sampled_from(NETWORK_SOURCES), min_size=1, max_size=2)),
            "destinationAddresses": draw(st.lists(st.sampled_from(DESTINATIONS), max_size=2)),
            "destinationFqdns": draw(st.lists(st.sampled_from(TARGETS), max_size=1)),
            "destinationPorts": [draw(st.sampled_from(("443", "*", "80")))]}


def _application_rule(draw, index: int) -> dict:
    tagged = draw(st.booleans()) and draw(st.booleans())
    return {"ruleType": "ApplicationRule", "name": f"app{index}",
            "protocols": [{"protocolType": draw(st.sampled_from(("Https", "Https", "Http"))), "port": 443}],
            "sourceAddresses": draw(st.lists(st.sampled_from(SOURCES), min_size=1, max_size=2)),
            "targetFqdns": [] if tagged else draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=2)),
            "fqdnTags": [TAG] if tagged else []}


@st.composite
def collections(draw) -> list[dict]:
    found = []
    for index in range(draw(st.integers(1, 5))):
        network = draw(st.booleans())
        rules = [(_network_rule if network else _application_rule)(draw, 10 * index + i)
                 for i in range(draw(st.integers(1, 3)))]
        found.append({"name": f"c{index}", "priority": 100 + 10 * index,
                      "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                      "action": {"type": draw(st.sampled_from(("Allow", "Allow", "Deny")))}, "rules": rules})
    return found


def _walk_inputs(rule_collections: list[dict]):
    rows = copy.deepcopy(GOOD.rows)
    for row in rows:
        if row["type"].lower() == RCG:
            row["properties"]["ruleCollections"] = rule_collections
    estate = build_estate(rows, source="fixture")
    firewall = next(iter(estate.firewalls.values()))
    return estate, effective_rules(estate, firewall)


@settings(max_examples=max(20, settings.default.max_examples // 2), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rule_collections=collections(),
       asked=st.lists(st.tuples(st.lists(st.sampled_from(SUBNETS), min_size=1, max_size=2, unique=True),
                                st.sampled_from((None, *OWN, *OWN))), min_size=3, max_size=10))
def test_a_shared_walk_answers_each_subnet_as_a_fresh_walk_does(rule_collections, asked):
    estate, ruleset = _walk_inputs(rule_collections)
    documented = list(Requirements(estate, META.options).documented)
    shared = RuleWalk(estate, ruleset, TAG)
    for prefixes, own in asked:
        networks = [ipaddress.ip_network(p) for p in prefixes]
        wanted = documented + [Requirement(PUBLIC, (PUBLIC, *((own,) if own else ())), "documented")]
        assert shared.verdict(networks, wanted) == RuleWalk(estate, ruleset, TAG).verdict(networks, wanted)


def _collection(name: str, priority: int, action: str, rules: list[dict]) -> dict:
    return {"name": name, "priority": priority, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
            "action": {"type": action}, "rules": rules}


def test_subnets_a_partly_unreadable_deny_tells_apart_only_at_its_widest_are_judged_apart():
    """A Deny whose sources could not all be read matches every subnet at the least the rules can
    allow and only the readable ones at the most: two subnets alike at one bound differ at the other."""
    deny = {"ruleType": "NetworkRule", "name": "partly-unread", "ipProtocols": ["TCP"],
            "sourceAddresses": ["not-an-address", "10.0.1.0/24"], "destinationAddresses": ["*"],
            "destinationPorts": ["443"]}
    allow = {"ruleType": "ApplicationRule", "name": "everything", "protocols": [{"protocolType": "Https", "port": 443}],
             "sourceAddresses": ["*"], "targetFqdns": ["*"]}
    estate, ruleset = _walk_inputs([_collection("deny", 100, "Deny", [deny]),
                                    _collection("allow", 200, "Allow", [allow])])
    wanted = list(Requirements(estate, META.options).documented)
    subnets = [[ipaddress.ip_network("10.0.0.0/24")], [ipaddress.ip_network("10.0.1.0/24")]]
    alone = [RuleWalk(estate, ruleset, TAG).verdict(networks, wanted) for networks in subnets]
    assert alone[0] != alone[1]  # blocked at the most the deny can match only for the readable source
    for order in (subnets, subnets[::-1]):
        shared = RuleWalk(estate, ruleset, TAG)
        for networks in order:
            assert shared.verdict(networks, wanted) == RuleWalk(estate, ruleset, TAG).verdict(networks, wanted)
