"""Egress drift is a change in computed traffic, not in how firewall rules are written.

Each case edits the hub-spoke example's child policy and compares DRIFT001's finding set and
`aksaudit diff` against an approval of the unedited estate: rewrites that allow the same packets
are not drift; widening what a rule reaches, directly or through an IP group, is.
"""
from __future__ import annotations

import copy
import json

import pytest

from aksaudit.results.egress_approval import approval_document
from aksaudit.reports.check_docs import builtin_registry
from aksaudit.model.estate import build_estate
from aksaudit.testing import failures, run_checks
from conftest import EXAMPLES
from test_cli import run

HUB_ROWS = json.loads((EXAMPLES / "hub-spoke.json").read_text())
POLICY_GROUP = "/providers/Microsoft.Network/firewallPolicies/afwp-hub-weu/ruleCollectionGroups/rcg-aks-workloads"
BASE_POLICY = "/providers/Microsoft.Network/firewallPolicies/afwp-org-base"
SPOKES = "/providers/Microsoft.Network/ipGroups/ipg-aks-spokes"
PREFIX = "/subscriptions/2d8f6a13-9c4e-4b7a-8e25-6f1c0d3b9a72/resourceGroups/rg-hub-fwpolicy-weu"
DEST_GROUP = f"{PREFIX}/providers/Microsoft.Network/ipGroups/ipg-partner"


def network_rule(name: str, destinations=(), groups=(), ports=("443",), protocols=("TCP",)) -> dict:
    return {"name": name, "ruleType": "NetworkRule", "ipProtocols": list(protocols), "sourceAddresses": [],
            "sourceIpGroups": [PREFIX + SPOKES], "destinationAddresses": list(destinations),
            "destinationIpGroups": list(groups), "destinationFqdns": [], "destinationPorts": list(ports)}


def estate_rows(rules: list[dict], partner: tuple[str, ...] = ("20.0.0.0/8",), extra_fqdns: tuple[str, ...] = ()) -> list:
    """The example plus a network rule collection `net-partner` holding `rules` in the child policy."""
    rows = copy.deepcopy(HUB_ROWS)
    group = next(r for r in rows if r["id"].endswith(POLICY_GROUP))
    group["properties"]["ruleCollections"].append({
        "name": "net-partner", "priority": 150, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "action": {"type": "Allow"}, "rules": rules})
    app = next(c for c in group["properties"]["ruleCollections"] if c["name"] == "app-aks-workloads")
    app["rules"][0]["targetFqdns"].extend(extra_fqdns)
    spokes = next(r for r in rows if r["id"].endswith(SPOKES))
    rows.append({**copy.deepcopy(spokes), "id": DEST_GROUP, "name": "ipg-partner",
                 "properties": {**spokes["properties"], "ipAddresses": list(partner)}})
    return rows


def _with_deny(destinations: list[str]) -> list:
    """The approved rules behind a higher-priority Deny collection for `destinations` on TCP 443."""
    rows = estate_rows([network_rule("partner", ["20.0.0.0/8"])])
    group = next(r for r in rows if r["id"].endswith(POLICY_GROUP))
    group["properties"]["ruleCollections"].append({
        "name": "net-deny", "priority": 110, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "action": {"type": "Deny"}, "rules": [network_rule("block", destinations)]})
    return rows


APPROVED = estate_rows([network_rule("partner", ["20.0.0.0/8"])])

EQUIVALENT = {
    "cidr split in halves": estate_rows([network_rule("partner", ["20.0.0.0/9", "20.128.0.0/9"])]),
    "halves in two rules": estate_rows([network_rule("a", ["20.0.0.0/9"]), network_rule("b", ["20.128.0.0/9"])]),
    "moved into an IP group": estate_rows([network_rule("partner", groups=[DEST_GROUP])]),
    "renamed": estate_rows([network_rule("partner-api", ["20.0.0.0/8"])]),
    "as a range": estate_rows([network_rule("partner", ["20.0.0.0-20.255.255.255"])]),
}

CHANGED = {
    "IP group widened": (estate_rows([network_rule("partner", groups=[DEST_GROUP])], partner=("20.0.0.0/7",)),
                         "now also allows TCP 443 to 20.0.0.0/7", None),
    "ssh to everything": (estate_rows([network_rule("partner", ["20.0.0.0/8"]),
                                       network_rule("debug", ["*"], ports=["22"])]),
                          "now also allows TCP 22 to any IPv4 address", "now also allows TCP 22 to any IPv6 address"),
    "application pattern": (estate_rows([network_rule("partner", ["20.0.0.0/8"])], extra_fqdns=("*.example.com",)),
                            "now allows HTTPS:443 *.example.com", None),
    "port range widened": (estate_rows([network_rule("partner", ["20.0.0.0/8"], ports=["443-444"])]),
                      # 444 alone where the subnet already reaches TCP 443 on the same destinations
                      ("now also allows TCP 443-444 to 20.0.0.0/8", "now also allows TCP 444 to 20.0.0.0/8"), None),
    "deny carves out half": (
        _with_deny(["20.0.0.0/9"]),
        "no longer allows TCP 443 to 20.0.0.0/8", None),
}


@pytest.fixture(scope="module")
def drift():
    registry = builtin_registry()
    check = [c for c in registry.checks if c.id == "DRIFT001"]
    approved = approval_document(build_estate(APPROVED, source="approved"), source="test", approved_at="now")

    def findings(rows):
        result = run_checks(check, rows, {"DRIFT001": {"approved": approved}})
        assert not result.skipped and not result.errors
        return failures(result)
    return findings


def clusters_behind_hub() -> set[str]:
    estate = build_estate(APPROVED, source="approved")
    return {path.cluster.id.lower() for path in estate.egress_paths if path.firewalls}


@pytest.mark.parametrize("case", sorted(EQUIVALENT))
def test_equivalent_rewrites_are_not_drift(drift, case, tmp_path):
    assert drift(EQUIVALENT[case]) == frozenset()
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(APPROVED))
    new.write_text(json.dumps(EQUIVALENT[case]))
    proc = run("diff", str(old), str(new))
    assert proc.returncode == 0 and proc.stdout == "No egress-relevant changes.\n"


@pytest.mark.parametrize("case", sorted(CHANGED))
def test_traffic_changes_are_drift(drift, case, tmp_path):
    rows, gained, second = CHANGED[case]
    assert {key[1].lower() for key in drift(rows)} == clusters_behind_hub()
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(APPROVED))
    new.write_text(json.dumps(rows))
    document = json.loads(run("diff", str(old), str(new), "--json").stdout)
    assert {c["cluster"].lower() for c in document["clusters"]} == clusters_behind_hub()
    for cluster in document["clusters"]:
        assert any(line.endswith(gained) for line in cluster["changes"]), (case, cluster["changes"])
        if second:
            assert any(line.endswith(second) for line in cluster["changes"]), (case, cluster["changes"])


def test_same_group_name_in_base_and_child_policy_do_not_collide(tmp_path):
    """A base and a child policy each holding 'rcg-dup' (same collection and rule names): both count."""
    def with_groups(child_ports: list[str]) -> list:
        rows = copy.deepcopy(APPROVED)
        for policy, ports in ((BASE_POLICY, ["8443"]), ("/providers/Microsoft.Network/firewallPolicies/afwp-hub-weu",
                                                         child_ports)):
            group_id = f"{PREFIX}{policy}/ruleCollectionGroups/rcg-dup"
            template = next(r for r in rows if r["id"].endswith(POLICY_GROUP))
            rows.append({**copy.deepcopy(template), "id": group_id, "name": "rcg-dup", "properties": {
                "priority": 400, "ruleCollections": [{
                    "name": "net", "priority": 100, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "action": {"type": "Allow"}, "rules": [network_rule("r", ["198.51.100.0/24"], ports=ports)]}]}})
            owner = next(r for r in rows if r["id"].endswith(policy))
            owner["properties"]["ruleCollectionGroups"].append({"id": group_id})
        return rows
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(with_groups(["8443"])))
    new.write_text(json.dumps(with_groups(["9443"])))
    document = json.loads(run("diff", str(old), str(new), "--json").stdout)
    lines = {line.split("' ", 2)[2] for c in document["clusters"] for line in c["changes"]}
    assert lines == {"now also allows TCP 8443,9443 to 198.51.100.0/24"}


@pytest.mark.parametrize("version", [1, 2])  # rules by name and text; routes by prefix
def test_old_format_approval_is_refused_with_a_request_to_re_approve(tmp_path, version):
    approved = tmp_path / "egress-baseline.json"
    snapshot = tmp_path / "estate.json"
    snapshot.write_text(json.dumps(APPROVED))
    assert run("baseline", "approve", "--snapshot", str(snapshot), "-o", str(approved)).returncode == 0
    document = json.loads(approved.read_text())
    document["version"] = version
    approved.write_text(json.dumps(document))
    proc = run("scan", "--snapshot", str(snapshot), "--approved", str(approved), "--quiet")
    assert proc.returncode not in (0, 1) and "re-approve" in proc.stderr and str(approved) in proc.stderr
    assert f"format {version}" in proc.stderr


def test_check_skips_an_approval_of_another_format_given_directly():
    check = [c for c in builtin_registry().checks if c.id == "DRIFT001"]
    approved = approval_document(build_estate(APPROVED, source="approved"), source="test", approved_at="now")
    result = run_checks(check, APPROVED, {"DRIFT001": {"approved": {**approved, "version": 1}}})
    assert failures(result) == frozenset()
    assert {s.resource_id.lower() for s in result.skipped} >= clusters_behind_hub()
    assert all("re-approve" in s.reason for s in result.skipped)


def test_an_unreadable_ip_group_is_named_not_read_as_no_traffic(drift, tmp_path):
    """The IP group a rule reaches disappears: the traffic through it is unknown, and says so."""
    rows = [r for r in EQUIVALENT["moved into an IP group"] if r["id"] != DEST_GROUP]
    assert {key[1].lower() for key in drift(rows)} == clusters_behind_hub()
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(APPROVED))
    new.write_text(json.dumps(rows))
    document = json.loads(run("diff", str(old), str(new), "--json").stdout)
    for cluster in document["clusters"]:
        assert any(" cannot read " in line and "ipg-partner" in line for line in cluster["changes"]), cluster


def _payments_routes(rows: list) -> list:
    table = next(r for r in rows if r["type"].lower() == "microsoft.network/routetables"
                 and r["name"] == "rt-spoke-payments-egress")
    return table["properties"]["routes"]


def _split_default_route(rows: list) -> list:
    """The payments spoke's 0.0.0.0/0 route as two /1 routes to the same next hop."""
    rows = copy.deepcopy(rows)
    routes = _payments_routes(rows)
    default = next(r for r in routes if r["properties"]["addressPrefix"] == "0.0.0.0/0")
    routes.remove(default)
    for half in ("0.0.0.0/1", "128.0.0.0/1"):
        route = copy.deepcopy(default)
        route["name"] = f"half-{half.split('.')[0]}"
        route["id"] = default["id"].rsplit("/", 1)[0] + "/" + route["name"]
        route["properties"]["addressPrefix"] = half
        routes.append(route)
    return rows


def test_route_split_into_halves_to_the_same_next_hop_is_not_drift(drift, tmp_path):
    split = _split_default_route(APPROVED)
    assert drift(split) == frozenset()
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(APPROVED))
    new.write_text(json.dumps(split))
    proc = run("diff", str(old), str(new))
    assert proc.returncode == 0 and proc.stdout == "No egress-relevant changes.\n"


def test_a_narrower_route_sending_a_block_elsewhere_is_drift_naming_the_block(drift, tmp_path):
    rows = _split_default_route(APPROVED)
    routes = _payments_routes(rows)
    hole = copy.deepcopy(routes[-1])
    hole["name"] = "to-partner"
    hole["id"] = hole["id"].rsplit("/", 1)[0] + "/to-partner"
    hole["properties"] = {"addressPrefix": "20.0.0.0/8", "nextHopType": "Internet"}
    routes.append(hole)
    assert drift(rows)
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(APPROVED))
    new.write_text(json.dumps(rows))
    document = json.loads(run("diff", str(old), str(new), "--json").stdout)
    lines = {line for cluster in document["clusters"] for line in cluster["changes"]}
    # The spoke's own 20.103.42.17/32 route already went to the Internet: only the rest of the /8 moved.
    moved = "traffic to 20.0.0.0/8 except 20.103.42.17/32: VirtualAppliance 10.0.1.4 → Internet"
    assert any(line.endswith(moved) for line in lines), lines

