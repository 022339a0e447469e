"""`why` agrees with the packet-by-packet oracle on random destinations.

A random firewall policy (tests/traffic_estates.py: base policies, IP groups, Allow and Deny
collections, plus an application rule allowing every name on HTTPS 443 and a DNAT collection
ahead of every network collection) is attached to the tutorial's firewall, and the AKS subnet
is moved to a random /29 near the policy's address anchors. For destinations at every rule
boundary and at random, `why` must name the network rule the oracle (tests/traffic_oracle.py)
says decides the packet from each address of the subnet; where no network rule decides, only an
application rule (TCP 443, the policy's allow-everything rule) or the default deny may.
"""
from __future__ import annotations

import copy
import ipaddress
import json
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aksaudit.analysis.why import _NOT_FOLLOWED, ALLOWED, DENIED, find_cluster, parse_destination, why
from aksaudit.model.estate import build_estate

from traffic_estates import PolicySpec, policy_specs, render
from traffic_oracle import Oracle, Packet

TUTORIAL = json.loads((Path(__file__).resolve().parent.parent.parent / "examples/tutorial.json").read_text())


def estate_rows(spec: PolicySpec, subnet: ipaddress.IPv4Network) -> list[dict]:
    rows = copy.deepcopy([r for r in TUTORIAL if not r["type"].endswith("publicipaddresses")])
    for row in rows:
        props = row["properties"]
        if row["type"] == "microsoft.network/virtualnetworks":
            props["addressSpace"]["addressPrefixes"].append(str(subnet))
            aks = next(s for s in props["subnets"] if s["name"] == "aks-subnet")
            aks["properties"]["addressPrefix"] = str(subnet)
        if row["type"] == "microsoft.network/azurefirewalls":
            props["networkRuleCollections"] = props["applicationRuleCollections"] = props["natRuleCollections"] = []
            props["firewallPolicy"] = {"id": spec.policy_id}
            for config in props["ipConfigurations"]:
                config["properties"].pop("publicIPAddress", None)
    return rows + render(spec)


def destinations(oracle: Oracle, rng: random.Random) -> list[int]:
    cuts = sorted(oracle.address_cuts("destination", 4))
    found = {v for c in cuts for v in (c - 1, c) if 0 <= v < 2 ** 32}
    found |= {rng.randrange(2 ** 32) for _ in range(12)}
    return sorted(v for v in found if v not in _NOT_FOLLOWED.v4)


@settings(max_examples=max(20, settings.default.max_examples // 3),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=policy_specs(version=4), offset=st.integers(0, 140), rng=st.randoms(use_true_random=False))
def test_why_names_the_rule_the_oracle_decides_by(spec: PolicySpec, offset: int, rng):
    subnet = ipaddress.IPv4Network((int(ipaddress.IPv4Address("10.0.0.0")) + 8 * offset, 29))
    estate = build_estate(estate_rows(spec, subnet))
    assert not estate.rejected, estate.rejected
    oracle = Oracle(render(spec), spec.policy_id)
    cluster = find_cluster(estate, "myAksCluster")
    candidates = destinations(oracle, rng)
    for destination in rng.sample(candidates, min(25, len(candidates))):
        port = rng.choice((443, 80, 53, 1, 65535, rng.randint(1, 65535)))
        protocol = rng.choice(("tcp", "udp"))
        address = ipaddress.IPv4Address(destination)
        answer = why(estate, cluster, parse_destination(f"{address}:{port}/{protocol}"))
        [subnet_answer] = answer.subnets
        for source in subnet:
            expected = oracle.decide(Packet(source, address, port, protocol))
            [part] = [p for p in subnet_answer.parts
                      if any(source in ipaddress.ip_network(s) if "/" in s else _in_range(source, s) for s in p.sources)]
            got = (part.verdict, part.rule and (part.rule.kind, part.rule.owner_id.lower(), part.rule.locus))
            if expected is not None:
                assert got == (ALLOWED if expected.allow else DENIED,
                               ("network", expected.group_id.lower(), expected.locus)), (source, address, port, protocol)
            elif protocol == "tcp" and port == 443:
                assert part.verdict == ALLOWED and part.rule.kind == "application", part.as_dict()
            else:
                assert (part.verdict, part.rule) == (DENIED, None), part.as_dict()


def _in_range(address: ipaddress.IPv4Address, text: str) -> bool:
    low, _, high = text.partition("-")
    return ipaddress.ip_address(low) <= address <= ipaddress.ip_address(high)
