"""Monotonic fail-closed: removing one datum never turns a `fail` or `skipped` outcome into `pass`.

Over every example, every check fixture and every scenario: deleting one row, or deleting or
nulling one field anywhere inside a row, may make outcomes worse or unknown, never better. An
outcome that disappears is fine only when its resource went with the row (or the row became
unreadable, which the scan reports), when the check now says `skipped` for that resource or for
something in the row the datum came from, when the field is one whose absence Azure itself uses to
say "none", or when the row was a cluster (it is what makes its subnets and load balancers AKS's).

Outcomes are compared by (check id, lower-cased resource id, locus). The few removals that leave a
complete estate Azure itself judges differently (a firewall row that is not there, a policy without
`basePolicy`) are listed, each with its reason, in `fail_closed_known_gaps.py`.

The `ci` profile runs four times its example budget per estate kind (a few thousand in all); the
`long` profile runs four times its own, and walks every single removal of every estate as well.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fail_closed_known_gaps import KNOWN_GAPS, known_gap
from fail_closed_support import REGISTRY, Mutation, baseline, meaningful_absence, mutations, sources, violations

KINDS = ("examples", "fixtures", "scenarios")
BUDGET = settings.default.max_examples * 4
LONG = settings.default.max_examples >= 10_000


def _case(kind: str):
    return st.sampled_from(sources(kind)).flatmap(
        lambda source: st.tuples(st.just(source), st.sampled_from(mutations(source))))


@pytest.mark.parametrize("kind", KINDS)
def test_removing_one_datum_never_turns_a_failure_or_a_skip_into_a_pass(kind):
    @settings(max_examples=BUDGET, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_case(kind))
    def check(case):
        source, mutation = case
        found = violations(source, mutation, meaningful_absence, known_gap)
        assert not found, f"{source.name}:\n" + "\n".join(found)

    check()


@pytest.mark.skipif(not LONG, reason="every removal of every estate is walked under the long profile only")
@pytest.mark.parametrize("kind", KINDS)
def test_every_single_removal_of_every_estate(kind):
    found = [f"{source.name}: {v}" for source in sources(kind) for mutation in mutations(source)
             for v in violations(source, mutation, meaningful_absence, known_gap)]
    assert not found, "\n".join(found[:50])


def test_the_estates_judge_something_worth_keeping():
    """Every kind holds failures and skips to protect, and every estate yields mutations: the
    property is not vacuously true over estates nothing fails in."""
    for kind in KINDS:
        statuses = {status.value for source in sources(kind) for _, status in baseline(source)}
        assert {"fail", "pass"} <= statuses, kind
        assert all(mutations(source) for source in sources(kind)), kind


def test_a_missing_datum_that_would_pass_is_caught(registry):
    """The comparison itself finds a fail turned pass: a pool's enableNodePublicIP read as false
    when missing (as it was) would be reported, and now is not because it is a named gap."""
    source = next(s for s in sources("fixtures") if s.name.endswith("aks002_node_public_ip/bad.json"))
    row = next(i for i, r in enumerate(source.rows) if r.get("type", "").lower().endswith("managedclusters")
               and any(p.get("enableNodePublicIP") for p in r["properties"]["agentPoolProfiles"]))
    pool = next(i for i, p in enumerate(source.rows[row]["properties"]["agentPoolProfiles"]) if p["enableNodePublicIP"])
    mutation = Mutation(row, ("properties", "agentPoolProfiles", pool, "enableNodePublicIP"))
    assert not violations(source, mutation, meaningful_absence, known_gap)
    as_false = Mutation(row, ("properties", "agentPoolProfiles", pool, "enableNodePublicIP"), "null")
    assert not violations(source, as_false, meaningful_absence, known_gap)


def test_known_gaps_name_only_registered_checks_and_none_of_the_fixed_ones():
    ids = {check.id for check in REGISTRY.checks}
    assert set(KNOWN_GAPS) <= ids
    assert not {"AKS001", "AKS002", "AKS004", "AKS005"} & set(KNOWN_GAPS)
    fixed_types = ("microsoft.network/loadbalancers:",)
    assert not [f for fields in KNOWN_GAPS.values() for f in fields if f.startswith(fixed_types)]


# Fields whose absence Azure documents as a meaning of its own, which a known gap may name besides a whole row.
DOCUMENTED_ABSENCE = frozenset({
    "microsoft.network/firewallpolicies:properties.basePolicy",  # a policy inheriting nothing
    "microsoft.network/azurefirewalls:properties.firewallPolicy",  # a classic firewall
    "microsoft.network/firewallpolicies:properties.threatIntelMode",  # sets nothing: inherits, or the default
    "microsoft.network/virtualnetworks:properties.subnets[].properties.routeTable",  # system routes only
    # a peering that does not use the remote VNet's gateway (the API's default)
    "microsoft.network/virtualnetworks:properties.virtualNetworkPeerings[].properties.useRemoteGateways",
    # a data IP configuration without a public IP (forced tunnelling)
    "microsoft.network/azurefirewalls:properties.ipConfigurations[].properties.publicIPAddress",
})


def test_known_gaps_are_whole_rows_or_documented_absences():
    """A datum that is missing, null or of the wrong type is a named gap, never an exemption: only the
    removal of a whole row, or of a field whose absence Azure gives a meaning, may be listed."""
    listed = {f for fields in KNOWN_GAPS.values() for f in fields}
    assert not {f for f in listed if not f.endswith(":<row>") and f not in DOCUMENTED_ABSENCE}
