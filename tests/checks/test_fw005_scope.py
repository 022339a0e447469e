"""FW005 judges a rule against the AKS subnets routed through a firewall that applies it.

The bad fixture's subnet sends 0.0.0.0/0 to the hub firewall whose policy holds the broad web
rules; these tests change only where that route points or what could be read, and compare the
finding and skipped sets.
"""
from __future__ import annotations

import copy

from aksaudit.run.registry import load_registry
from aksaudit.testing import failures, load_fixture, run_checks

CHECK = load_registry().by_id()["FW005"]
BAD = load_fixture(CHECK.folder / "bad.json")
ROUTE_TABLES = "microsoft.network/routetables"


def _rows_with_default_route_to(next_hop_ip: str) -> list:
    rows = copy.deepcopy(BAD.rows)
    for row in rows:
        if row["type"].lower() == ROUTE_TABLES:
            for route in row["properties"]["routes"]:
                if route["properties"]["addressPrefix"] == "0.0.0.0/0":
                    route["properties"]["nextHopIpAddress"] = next_hop_ip
    return rows


def _skipped_keys(result) -> set[tuple[str, str]]:
    return {(s.resource_id.lower(), s.locus) for s in result.skipped}


def test_the_bad_fixture_fails_through_its_firewall_and_names_it():
    result = run_checks([CHECK], BAD.rows)
    assert failures(result) == BAD.expected
    firewall = next(r["id"] for r in BAD.rows if r["type"].lower() == "microsoft.network/azurefirewalls")
    for finding in result.findings:
        assert finding.evidence["firewalls"] == [firewall]
        assert finding.evidence["aks_subnet_ids"] and all("/subnets/snet-aks-nodes" in s for s in finding.evidence["aks_subnet_ids"])


def test_a_rule_on_a_firewall_the_subnet_does_not_use_passes():
    # The route now points at an address nothing has (UDR004's business): the hub firewall's
    # rules no longer stand between this subnet and the internet, so they expose nothing.
    result = run_checks([CHECK], _rows_with_default_route_to("10.9.9.9"))
    assert failures(result) == frozenset()
    assert _skipped_keys(result) == set()
    assert not result.errors


def test_an_unreadable_route_table_skips_the_rules_instead_of_passing_them():
    rows = [r for r in BAD.rows if r["type"].lower() != ROUTE_TABLES]
    result = run_checks([CHECK], rows)
    assert failures(result) == frozenset()
    assert {(rid, locus) for _, rid, locus in BAD.expected} <= _skipped_keys(result)
    assert all("routetables/rt-spoke-orders-weu-egress" in s.reason.lower() for s in result.skipped)
    assert not result.complete


def test_an_unreadable_firewall_policy_chain_skips_instead_of_passing():
    # The firewall's policy is gone: its rule collection groups are still read, but which
    # firewall applies them is unknown, so the subnet may be behind them.
    rows = [r for r in BAD.rows if r["type"].lower() != "microsoft.network/firewallpolicies"]
    result = run_checks([CHECK], rows)
    assert failures(result) == frozenset()
    assert {(rid, locus) for _, rid, locus in BAD.expected} <= _skipped_keys(result)
