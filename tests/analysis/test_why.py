"""`aksaudit why` against a table of destinations whose answers follow from Azure's documented
semantics, written by reading the estates, not by running the code.

The semantics the table leans on ("Azure Firewall rule processing logic", "Virtual network
traffic routing", "Virtual WAN routing intent"):

* a subnet's traffic goes by the longest matching prefix of its route table; what no route covers
  follows the system route to the Internet, unless a secured Virtual WAN hub advertises its
  firewall (routing intent, or a 0.0.0.0/0 route in the hub route table the connection uses);
* network rules are processed before application rules: a network rule that matches decides,
  and application rules never see the traffic; DNAT rules only translate inbound traffic;
* a base policy's rule collection groups come before the child policy's, whatever the priorities;
* application rules see HTTP, HTTPS and MSSQL only and match the host name (`*` a suffix);
* nothing matching is denied by default;
* what cannot be read (a missing IP group, rule collection group or route table; the contents of a
  service tag or FQDN tag) makes the answer unknown when it could change it, naming the datum.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from aksaudit.analysis.why import (
    ALLOWED, DENIED, UNFILTERED, UNKNOWN, WhyError, find_cluster, parse_destination, why,
)
from aksaudit.model.estate import build_estate
from aksaudit.cli.why import EXIT_BY_VERDICT

ROOT = Path(__file__).resolve().parent.parent.parent
ESTATES = {
    "H": ROOT / "examples/hub-spoke.json",
    "D": ROOT / "examples/hub-spoke-drifted.json",
    "T": ROOT / "examples/tutorial.json",
    "P": ROOT / "tests/scenarios/policy-inheritance.json",
    "V": ROOT / "tests/scenarios/vwan-secured-hub.json",
    "C": ROOT / "tests/scenarios/vwan-classic-hub.json",
    "K": ROOT / "tests/scenarios/cni-variants-drifted.json",
}
SCHEMA = ROOT / "reports/aksaudit-why.schema.json"


def rows(key: str) -> list[dict]:
    return json.loads(ESTATES[key].read_text())


def without(key: str, name: str) -> list[dict]:
    """The estate with the row named `name` gone (a datum that could not be read)."""
    found = [r for r in rows(key) if r["name"] != name]
    assert len(found) == len(rows(key)) - 1
    return found


def with_child_rule(key: str, group: str, collection: dict) -> list[dict]:
    """The estate with one more rule collection in a rule collection group."""
    changed = copy.deepcopy(rows(key))
    for row in changed:
        if row["name"] == group:
            row["properties"]["ruleCollections"].append(collection)
    return changed


# A child-policy rule collection (group rcg-teams, priority 100) allowing every CDN name: the base
# policy's deny (rcg-org-baseline, priority 500) still comes first.
CHILD_ALLOWS_CDN = {"name": "app-cdn", "priority": 50, "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "action": {"type": "Allow"}, "rules": [{
                        "name": "allow-cdn", "ruleType": "ApplicationRule", "sourceAddresses": ["*"],
                        "protocols": [{"protocolType": "Https", "port": 443}], "targetFqdns": ["*.azureedge.net"]}]}

# (estate rows, cluster, --to, --ip, verdict of every subnet, what decides: a (group, collection,
# rule) triple, ('route', name), 'default' for the default deny, or a text the unknown must name)
CASES = [
    # hub-and-spoke: base policy afwp-org-base, child afwp-hub-weu with rcg-aks-platform (200) and
    # rcg-aks-workloads (300); payments' route table sends 20.103.42.17/32 straight to the Internet
    ("H", "aks-payments-prod", "203.0.113.40:443", None, ALLOWED, ("rcg-aks-workloads", "net-aks-workloads", "payments-psp")),
    ("H", "aks-payments-staging", "203.0.113.40:443", None, DENIED, "default"),  # staging is not in the rule's sources
    ("H", "aks-payments-prod", "203.0.113.40:80", None, DENIED, "default"),  # port
    ("H", "aks-payments-prod", "203.0.113.40:443/udp", None, DENIED, "default"),  # protocol
    ("H", "aks-payments-prod", "203.0.113.0/26:443", None, DENIED, "default"),  # a CIDR: only a /28 of it allowed
    ("H", "aks-payments-prod", "20.103.42.17:443", None, UNFILTERED, ("route", "afw-public-ip-direct")),
    ("H", "aks-payments-prod", "ghcr.io:443", "140.82.121.34", ALLOWED, ("rcg-aks-workloads", "app-aks-workloads", "container-registries")),
    ("H", "aks-payments-prod", "stpaymentsprodweu.blob.core.windows.net:443", "52.239.1.1", ALLOWED,
     ("rcg-aks-workloads", "app-aks-workloads", "payments-storage")),
    # analytics' sources are not in payments-storage; the FQDN tag AzureKubernetesService might hold the name
    ("H", "aks-analytics-prod", "stpaymentsprodweu.blob.core.windows.net:443", "52.239.1.1", UNKNOWN, "AzureKubernetesService"),
    ("H", "aks-analytics-prod", "ghcr.io:443", "140.82.121.34", ALLOWED, ("rcg-aks-workloads", "app-aks-workloads", "container-registries")),
    ("H", "aks-payments-prod", "security.ubuntu.com:80", "91.189.91.81", ALLOWED, ("rcg-aks-workloads", "app-aks-workloads", "ubuntu-updates")),
    ("H", "aks-payments-prod", "ghcr.io:8443", "140.82.121.34", DENIED, "default"),  # no application rule on 8443
    # a network rule with an FQDN destination matches the host name: network rules come first
    ("H", "aks-payments-prod", "ntp.ubuntu.com:123/udp", "185.125.190.57", ALLOWED, ("rcg-aks-platform", "net-aks-required", "time")),
    ("H", "aks-payments-prod", "ntp.ubuntu.com:123/udp", None, ALLOWED, ("rcg-aks-platform", "net-aks-required", "time")),
    # a service tag's addresses are not known offline
    ("H", "aks-payments-prod", "51.124.1.1:9000", None, UNKNOWN, "AzureCloud.westeurope"),
    # a missing IP group (the rules' sources) and a missing rule collection group are named
    (lambda: without("H", "ipg-aks-spokes"), "aks-payments-prod", "ghcr.io:443", "140.82.121.34", UNKNOWN, "ipg-aks-spokes"),
    (lambda: without("H", "rcg-aks-workloads"), "aks-payments-prod", "203.0.113.40:443", None, UNKNOWN, "rcg-aks-workloads"),
    (lambda: without("H", "rt-spoke-analytics-egress"), "aks-analytics-prod", "1.2.3.4:443", None, UNKNOWN, "rt-spoke-analytics-egress"),
    # drifted hub-and-spoke: payments' next hop 10.0.1.5 is no firewall; analytics' pods subnet lost its
    # route table; a network rule Any/*/* (net-temp, 150) comes before the application rule '*'
    ("D", "aks-payments-prod", "1.2.3.4:443", None, UNKNOWN, "10.0.1.5"),
    ("D", "aks-analytics-prod", "1.2.3.4:22", None, {"snet-aks-nodes": ALLOWED, "snet-aks-pods": UNFILTERED},
     {"snet-aks-nodes": ("rcg-aks-workloads", "net-temp", "temp-debug"), "snet-aks-pods": ("route", "")}),
    ("D", "aks-analytics-prod", "github.com:443", None, {"snet-aks-nodes": ALLOWED, "snet-aks-pods": UNFILTERED},
     {"snet-aks-nodes": ("rcg-aks-workloads", "net-temp", "temp-debug"), "snet-aks-pods": ("route", "")}),
    # the tutorial: a classic firewall with one network rule to one address
    ("T", "myAksCluster", "172.217.160.142:443", None, ALLOWED, ("myAzureFirewall", "NetworkRules", "AllowGoogleHTTPS")),
    ("T", "myAksCluster", "172.217.160.142:80", None, DENIED, "default"),
    ("T", "myAksCluster", "172.217.160.143:443", None, DENIED, "default"),
    ("T", "myAksCluster", "www.google.com:443", None, UNKNOWN, "resolves to"),  # the network rule may match
    ("T", "myAksCluster", "www.google.com:443", "172.217.160.142", ALLOWED, ("myAzureFirewall", "NetworkRules", "AllowGoogleHTTPS")),
    # policy inheritance: IP groups on both sides; the base policy's deny comes before the child's rules
    ("P", "aks-payments-prod", "203.0.113.10:443", None, ALLOWED, ("rcg-teams", "net-partners", "partner-apis")),
    ("P", "aks-payments-prod", "198.51.100.70:443", None, ALLOWED, ("rcg-teams", "net-partners", "partner-apis")),
    ("P", "aks-payments-prod", "198.51.100.100:443", None, DENIED, "default"),
    ("P", "aks-risk-prod", "203.0.113.10:443", None, DENIED, "default"),
    ("P", "aks-payments-prod", "img.azureedge.net:443", "13.107.246.1", DENIED, ("rcg-org-baseline", "app-org-block", "block-cdn-wildcards")),
    (lambda: with_child_rule("P", "rcg-teams", CHILD_ALLOWS_CDN), "aks-payments-prod", "img.azureedge.net:443", "13.107.246.1",
     DENIED, ("rcg-org-baseline", "app-org-block", "block-cdn-wildcards")),
    ("P", "aks-payments-prod", "crorgweu.azurecr.io:443", "20.1.1.1", ALLOWED, ("rcg-teams", "app-team", "registries")),
    ("P", "aks-payments-prod", "20.86.114.27:443", None, UNFILTERED, ("route", "afw-public-ip-direct")),
    # Virtual WAN: routing intent (no route table at all) and a hub route table's 0.0.0.0/0
    ("V", "aks-shop-prod", "api.payments.example.net:443", "20.50.1.1", ALLOWED, ("rcg-shop", "app-shop", "payment-gateway")),
    ("V", "aks-shop-prod", "1.1.1.1:443", None, DENIED, "default"),
    ("V", "aks-data-prod", "crcorpweu.azurecr.io:443", "20.60.1.1", ALLOWED, ("rcg-shop", "app-shop", "registries")),
    ("C", "aks-data-prod", "crcorpweu.azurecr.io:443", "20.60.1.1", ALLOWED, ("rcg-shop", "app-shop", "registries")),
    ("C", "aks-shop-prod", "1.1.1.1:22", None, DENIED, "default"),
    # a route whose prefix is a service tag may decide any address
    ("K", "aks-legacy-kubenet", "20.1.2.3:443", None, UNKNOWN, "AzureContainerRegistry"),
    # private space is not Internet egress
    ("H", "aks-payments-prod", "10.99.0.1:443", None, UNKNOWN, "not modelled"),
]


def _estate(source):
    return build_estate(source() if callable(source) else rows(source))


def _decider(part) -> object:
    if part.rule is not None:
        return (part.rule.group, part.rule.collection, part.rule.name)
    if part.verdict == UNFILTERED:
        route = [h for h in part.hops if h.kind == "route"]
        return ("route", route[-1].id.rsplit("/", 1)[-1] if route and route[-1].id else "")
    if part.verdict == DENIED and "default" in part.reason:
        return "default"
    return None


@pytest.mark.parametrize("source, cluster, to, ip, verdict, decider", CASES,
                         ids=[f"{c[0] if isinstance(c[0], str) else 'variant'}-{c[1]}-{c[2]}-{c[3]}" for c in CASES])
def test_why_answers_as_azure_documents(source, cluster, to, ip, verdict, decider):
    estate = _estate(source)
    answer = why(estate, find_cluster(estate, cluster), parse_destination(to, ip))
    assert answer.subnets
    for subnet in answer.subnets:
        want = verdict[subnet.subnet_name] if isinstance(verdict, dict) else verdict
        want_decider = decider[subnet.subnet_name] if isinstance(decider, dict) else decider
        assert subnet.verdict == want, (subnet.subnet_name, [p.as_dict() for p in subnet.parts])
        for part in subnet.parts:
            if part.verdict != want:
                continue
            if want == UNKNOWN:
                assert any(want_decider.lower() in text.lower() for text in (*part.unknown, part.reason)), part.as_dict()
            else:
                assert _decider(part) == want_decider, part.as_dict()


def test_a_cidr_destination_is_judged_piece_by_piece():
    estate = _estate("H")
    answer = why(estate, find_cluster(estate, "aks-payments-prod"), parse_destination("203.0.113.0/26:443"))
    [subnet] = answer.subnets
    by_verdict = {p.verdict: p.destinations for p in subnet.parts}
    assert by_verdict[ALLOWED] == ("203.0.113.32/28",)
    assert set(by_verdict[DENIED]) == {"203.0.113.0/27", "203.0.113.48/28"}


def test_a_network_rule_is_stated_to_decide_before_application_rules():
    estate = _estate("D")
    answer = why(estate, find_cluster(estate, "aks-analytics-prod"), parse_destination("github.com:443", "140.82.121.4"))
    nodes = next(s for s in answer.subnets if s.subnet_name == "snet-aks-nodes")
    assert "before application rules" in nodes.parts[0].reason
    assert [h.kind for h in nodes.parts[0].hops] == ["subnet", "route-table", "route", "next-hop", "firewall", "rule"]


@pytest.mark.parametrize("text, ip, error", [
    ("", None, "empty"), ("host:0", None, "port"), ("1.2.3.4:70000", None, "port"), ("bad host!", None, "neither"),
    ("1.2.3.4", "5.6.7.8", "host name"), ("x.example.com", "nope", "--ip"), ("[2001:db8::1:443", None, "]"),
])
def test_bad_destinations_are_named(text, ip, error):
    with pytest.raises(WhyError) as raised:
        parse_destination(text, ip)
    assert error in str(raised.value)


def test_destination_forms():
    d = parse_destination("[2606:4700::1111]:8443/udp")
    assert (d.port, d.protocol, d.host, d.addresses.describe()) == (8443, "udp", "", ["2606:4700::1111/128"])
    d = parse_destination("Example.COM.")
    assert (d.host, d.port, d.protocol, d.app_protocol) == ("example.com", 443, "tcp", "https")
    assert parse_destination("example.com:80").app_protocol == "http"
    assert parse_destination("20.0.0.0/8:22/TCP").addresses.describe() == ["20.0.0.0/8"]


def test_clusters_by_name_or_id_and_ambiguous_names():
    estate = _estate("H")
    cluster = find_cluster(estate, "AKS-PAYMENTS-PROD")
    assert find_cluster(estate, cluster.id.upper()) is cluster
    twin = copy.deepcopy([r for r in rows("H") if r["name"] == "aks-payments-prod"][0])
    twin["id"] = twin["id"].replace("rg-aks-payments-weu", "rg-other")
    twin["resourceGroup"] = "rg-other"
    doubled = build_estate([*rows("H"), twin])
    with pytest.raises(WhyError) as raised:
        find_cluster(doubled, "aks-payments-prod")
    assert "ambiguous" in str(raised.value) and twin["id"] in str(raised.value) and cluster.id in str(raised.value)
    with pytest.raises(WhyError, match="no cluster"):
        find_cluster(estate, "aks-nope")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aksaudit.cli", "why", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args, verdict", [
    (("aks-payments-prod", "--to", "203.0.113.40:443"), ALLOWED),
    (("aks-payments-prod", "--to", "203.0.113.40:80"), DENIED),
    (("aks-payments-prod", "--to", "20.103.42.17"), UNFILTERED),
    (("aks-analytics-prod", "--to", "51.124.1.1:9000"), UNKNOWN),
])
def test_cli_exit_codes_and_json_schema(args, verdict):
    done = _cli(*args, "--snapshot", str(ESTATES["H"]), "--json")
    assert done.returncode == EXIT_BY_VERDICT[verdict], done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    assert document["verdict"] == verdict
    text = _cli(*args, "--snapshot", str(ESTATES["H"]))
    assert text.returncode == EXIT_BY_VERDICT[verdict] and verdict.upper() in text.stdout


def test_cli_usage_errors_exit_2_with_one_line():
    for args in (("nope", "--to", "1.2.3.4"), ("aks-payments-prod", "--to", "1.2.3.4:0")):
        done = _cli(*args, "--snapshot", str(ESTATES["H"]))
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_exit_codes_are_distinct_and_avoid_usage():
    codes = list(EXIT_BY_VERDICT.values())
    assert len(set(codes)) == 4 and 2 not in codes
