"""Metamorphic tests: an equivalent rewrite of an estate never changes what the checks find.

Over every example estate, every check fixture (good and bad), every scenario and a generated
estate of about a thousand rows, each rewrite of `rewrites.py` (Hypothesis picks where and how it
applies) must leave the set of failures, compared as (check id, resource id, locus) after mapping
new objects back to the ones they were split from, exactly as it was; and likewise the set of
`skipped` outcomes, since a fail turning into a skip is a verdict changing too. All registered
checks run in memory, with the fixture's own options.

A second property shows the checks are not blind: an any/any network rule added to an allow
collection of a firewall that filters an AKS subnet makes FW003 and FW005 fail, and spelling that
rule another way (CIDR halves across two rules, an `a-b` range, an IP group, split port ranges)
must make them fail in the same places.

Combinations that fail because of the product (verdicts that match how rules are spelled instead of
computing traffic, and one case-sensitive split of subnet ids) are marked `xfail(strict=True)`
with what breaks: when the product is fixed they pass, the strict mark
turns that into a failure, and the mark is removed.

Example budget: each parametrised case runs `max_examples // 10` examples of the loaded profile
(at least 3, at most 400): 30 per case under `ci`, about five thousand in all (cases with few
sites exhaust their choices sooner), in about 25 s on two cores; 400 per case under
`HYPOTHESIS_PROFILE=long`. Examples are derandomised so the strict marks are reproducible. Known
failures skip shrinking and stop at their first failing example, which is the one that rewrites
every eligible site (see `rewrites.py`).
"""
from __future__ import annotations

import ipaddress
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from aksaudit.run.engine import run_scan
from aksaudit.model.estate import build_estate
from aksaudit.run.registry import load_registry

from conftest import EXAMPLES, ROOT
from rewrites import (
    ANY_ANY_NAME, ANY_ANY_SPELLINGS, EVERYWHERE, MAX_PORT, NETWORK, REWRITES, T_FIREWALL, T_RCG, WIDEN_COLLECTION,
    FindingKey, Rewritten, add_any_any_rule, as_range, filter_rules, halves, row_type, split_ports,
)

sys.path.insert(0, str(ROOT / "benchmarks"))
from estate import Plan, generate  # noqa: E402

REGISTRY = load_registry()
SCENARIOS = ROOT / "tests" / "scenarios"
# About a thousand rows: three hubs with policy chains, IP groups and hundreds of rules, 90 spokes,
# half of them misconfigured (every kind the generator knows).
GENERATED_PLAN = Plan(clusters=90, spokes_per_hub=30, misconfig_rate=0.5, workload_rules=36, base_rules=12)
GENERATED = "generated-hub-spoke"


@dataclass(frozen=True)
class Case:
    rows: tuple[Any, ...]
    options: Mapping[str, Mapping[str, Any]]


def _estates() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for path in sorted(EXAMPLES.glob("*.json")):
        if path.name != "expected.json":
            cases[f"examples/{path.name}"] = Case(tuple(json.loads(path.read_text())), {})
    for path in sorted((ROOT / "checks").glob("*/*/*.json")):
        if path.name in ("good.json", "bad.json"):
            document = json.loads(path.read_text())
            cases[str(path.relative_to(ROOT))] = Case(tuple(document["estate"]), document.get("options", {}))
    for path in sorted(SCENARIOS.glob("*.json")):
        if path.name != "expected.json":
            cases[f"scenarios/{path.name}"] = Case(tuple(json.loads(path.read_text())), {})
    cases[GENERATED] = Case(tuple(generate(GENERATED_PLAN)), {})
    return cases


ESTATES = _estates()


@dataclass(frozen=True)
class Verdicts:
    """What a scan concluded, keyed as findings are (rewritten objects mapped back to the originals)."""

    failures: frozenset[FindingKey]
    skipped: frozenset[FindingKey]  # minus keys that also fail (the engine keeps the worst outcome)
    rejected: int


def verdicts(rows: list[Any], options: Mapping[str, Mapping[str, Any]], rewritten: Rewritten | None = None) -> Verdicts:
    estate = build_estate(rows, source="fixture")
    result = run_scan(estate, REGISTRY.checks, options=options)
    back = rewritten.original if rewritten else (lambda k: (k[0], k[1].lower(), k[2]))
    failures = frozenset(back(f.key) for f in result.findings)
    skipped = frozenset(back((s.check_id, s.resource_id, s.locus)) for s in result.skipped) - failures
    assert not [e for e in result.errors if e.startswith("check ")], result.errors
    return Verdicts(failures, skipped, len(estate.rejected))


@lru_cache(maxsize=None)
def baseline(name: str) -> Verdicts:
    case = ESTATES[name]
    return verdicts(list(case.rows), case.options)


def assert_same(before: Verdicts, after: Verdicts, what: str) -> None:
    assert after.rejected == before.rejected, f"{what}: the rewrite made rows unreadable"
    assert after.failures == before.failures, (
        f"{what}: failures appeared {sorted(after.failures - before.failures)}, "
        f"vanished {sorted(before.failures - after.failures)}")
    assert after.skipped == before.skipped, (
        f"{what}: skipped appeared {sorted(after.skipped - before.skipped)}, "
        f"vanished {sorted(before.skipped - after.skipped)}")


# --- which combinations the product gets wrong today ---------------------------------------------

KNOWN_PRODUCT_FAILURES: dict[tuple[str, str], str] = {}


def _known(rewrite: str, what: str, *estates: str) -> None:
    for name in estates:
        assert name in ESTATES and (rewrite, name) not in KNOWN_PRODUCT_FAILURES, name
        KNOWN_PRODUCT_FAILURES[(rewrite, name)] = f"{rewrite} on {name}: {what}"


FW003_BAD = "checks/firewall/fw003_any_network_rule/bad.json"
FW005_BAD = "checks/firewall/fw005_network_rule_bypasses_fqdn_filtering/bad.json"
FW005_GOOD = "checks/firewall/fw005_network_rule_bypasses_fqdn_filtering/good.json"
AKS003_GOOD = "checks/cluster/aks003_required_egress_blocked/good.json"


def _applies(rewrite: str, name: str) -> bool:
    return REWRITES[rewrite](list(ESTATES[name].rows), EVERYWHERE).sites > 0


def _cases() -> list:
    params = []
    for rewrite in REWRITES:
        for name in ESTATES:
            if not _applies(rewrite, name):
                continue
            reason = KNOWN_PRODUCT_FAILURES.get((rewrite, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(rewrite, name, marks=marks, id=f"{rewrite}-{name}"))
    return params


CASES = _cases()
EXAMPLES_PER_CASE = max(3, min(settings.default.max_examples // 10, 400))


# A known failure needs no shrinking (its reason says what breaks): it stops at its first failing example.
NO_SHRINK = tuple(p for p in Phase if p not in (Phase.shrink, Phase.explain))


@pytest.mark.parametrize("rewrite,name", CASES)
def test_equivalent_rewrite_keeps_the_verdicts(rewrite, name):
    case = ESTATES[name]
    known = (rewrite, name) in KNOWN_PRODUCT_FAILURES

    @settings(max_examples=EXAMPLES_PER_CASE, derandomize=True, database=None,
              phases=NO_SHRINK if known else tuple(Phase),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def rewrite_keeps_verdicts(data):
        def choose(n: int) -> int:
            return data.draw(st.integers(0, n - 1)) if n > 1 else 0

        rewritten = REWRITES[rewrite](list(case.rows), choose)
        assert_same(baseline(name), verdicts(rewritten.rows, case.options, rewritten), f"{rewrite} on {name}")

    rewrite_keeps_verdicts()


def test_every_rewrite_applies_somewhere():
    """A rewrite that finds no site anywhere would test nothing."""
    assert {c.values[0] for c in CASES} == set(REWRITES)


def test_every_known_failure_names_a_case_that_runs():
    """A mark on a combination that is never run would outlive the fix it waits for."""
    assert set(KNOWN_PRODUCT_FAILURES) <= {tuple(c.values) for c in CASES}


# --- widening: the checks see an any/any rule however it is written ----------------------------------

def _widening_owner(name: str) -> str | None:
    """The classic firewall or (first) rule collection group of the policy of a firewall filtering
    an AKS subnet, in an estate without network Deny collections (which would shadow the new rule)."""
    rows = ESTATES[name].rows
    if any(_denies_network(row) for row in rows):
        return None
    estate = build_estate(list(rows))
    firewalls = sorted({f.id: f for p in estate.egress_paths if p.subnet is not None and not p.gap
                        for f in p.firewalls}.items())
    for firewall_id, firewall in firewalls:
        if not firewall.policy_id:
            return firewall_id
        groups = sorted(str(r["id"]) for r in rows if row_type(r) == T_RCG
                        and str(r["id"]).lower().startswith(firewall.policy_id.lower() + "/rulecollectiongroups/"))
        if groups:
            return groups[0]
    return None


def _denies_network(row: Any) -> bool:
    return any(site.kind == NETWORK and _collection_action(row, site).lower() == "deny" for site in filter_rules(row))


def _collection_action(row: Any, site) -> str:
    """The action type of the collection holding `site` (classic: under properties)."""
    collections = row["properties"].get("networkRuleCollections" if row_type(row) == T_FIREWALL else "ruleCollections")
    for collection in collections or ():
        holder = collection.get("properties", collection) if row_type(row) == T_FIREWALL else collection
        if holder.get("rules") is site.rules:
            return str((holder.get("action") or {}).get("type", ""))
    return ""


WIDENABLE = {name: owner for name in ESTATES if (owner := _widening_owner(name))}
# The spellings are tried on the estates of distinct shape (classic and policy firewalls, a secured
# hub, CNI variants, a large generated hub-and-spoke); the literal rule is checked on all of them.
SPELLING_ESTATES = sorted(n for n in WIDENABLE if not n.startswith("checks/"))
# Spellings of any/any a product verdict still misses, with what breaks and on which estates: none today.
KNOWN_BLIND_SPELLINGS: dict[str, str] = {}
BLIND_ON: dict[str, set[str]] = {}


@lru_cache(maxsize=None)
def _literal(name: str) -> Verdicts:
    case = ESTATES[name]
    widened = add_any_any_rule(list(case.rows), WIDENABLE[name], "literal")
    return verdicts(widened.rows, case.options, widened)


@pytest.mark.parametrize("name", sorted(WIDENABLE))
def test_any_any_rule_fails_fw003_and_fw005(name):
    """The sanity half: the literal any/any rule is seen by both checks, where it was added."""
    owner = WIDENABLE[name].lower()
    classic = row_type(next(r for r in ESTATES[name].rows if str(r.get("id", "")).lower() == owner)) == T_FIREWALL
    locus = f"{'networkRuleCollections' if classic else 'ruleCollections'}/{WIDEN_COLLECTION}/rules/{ANY_ANY_NAME}"
    new = _literal(name).failures - baseline(name).failures
    assert {("FW003", owner, locus), ("FW005", owner, locus)} <= new


def _widening_cases() -> list:
    return [pytest.param(spelling, name, id=f"{spelling}-{name}",
                         marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BLIND_SPELLINGS[spelling])]
                         if name in BLIND_ON.get(spelling, ()) else [])
            for spelling in ANY_ANY_SPELLINGS if spelling != "literal" for name in SPELLING_ESTATES]


@pytest.mark.parametrize("spelling,name", _widening_cases())
def test_any_any_rule_is_seen_however_it_is_written(spelling, name):
    case = ESTATES[name]
    widened = add_any_any_rule(list(case.rows), WIDENABLE[name], spelling)
    assert_same(_literal(name), verdicts(widened.rows, case.options, widened), f"any/any as {spelling} on {name}")


# --- the rewrites' own building blocks are equivalences ------------------------------------------

@given(st.one_of(st.ip_addresses(v=4).map(lambda a: ipaddress.ip_network(f"{a}/{int(a) % 32}", strict=False)),
                 st.ip_addresses(v=6).map(lambda a: ipaddress.ip_network(f"{a}/{int(a) % 128}", strict=False))))
def test_cidr_halves_and_ranges_hold_exactly_the_cidr(network):
    low, high = (ipaddress.ip_network(h) for h in halves(str(network)))
    assert low.network_address == network.network_address and high.broadcast_address == network.broadcast_address
    assert int(low.broadcast_address) + 1 == int(high.network_address)
    if network.version == 4:
        first, last = as_range(str(network)).split("-")
        assert (first, last) == (str(network.network_address), str(network.broadcast_address))


@given(st.integers(0, MAX_PORT - 1).flatmap(lambda low: st.tuples(st.just(low), st.integers(low + 1, MAX_PORT))),
       st.integers(0, MAX_PORT))
def test_port_range_halves_are_adjacent_and_cover_the_range(bounds, choice):
    low, high = bounds
    first, second = split_ports(f"{low}-{high}", choice)
    (a, b), (c, d) = (tuple(map(int, part.split("-"))) for part in (first, second))
    assert (a, d) == (low, high) and b + 1 == c and a <= b and c <= d
    assert split_ports("*", choice)[0].startswith("0-") and split_ports("*", choice)[1].endswith(f"-{MAX_PORT}")


@pytest.mark.parametrize("rewrite", sorted(REWRITES))
def test_rewrites_leave_their_input_alone(rewrite):
    """Pure functions: the baselines and every other example share the estates' rows."""
    for name in ("examples/hub-spoke.json", "examples/tutorial.json", "scenarios/vwan-secured-hub.json"):
        rows = list(ESTATES[name].rows)
        before = json.dumps(rows)
        rewritten = REWRITES[rewrite](rows, EVERYWHERE)
        assert json.dumps(rows) == before and rewritten.rows is not rows
