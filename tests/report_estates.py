"""Estates for the report tests and the HTML benchmark, built from the example rows.

Everything goes through the real model, checks and engine: a hostile estate is the drifted
example with names swapped for markup, and a large estate is the drifted example's spokes
cloned under new names. Nothing here fakes a finding.
"""
from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from aksaudit.config import Suppression
from aksaudit.run.engine import ScanResult, run_scan, select_checks
from aksaudit.model.estate import build_estate
from aksaudit.run.registry import load_registry
from aksaudit.results.suppressions import apply_suppressions

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DRIFTED = "hub-spoke-drifted.json"
HUB_SUBSCRIPTION = "2d8f6a13-9c4e-4b7a-8e25-6f1c0d3b9a72"
SPOKE_SUBSCRIPTION = "e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64"
FIREWALL_PUBLIC_IP = "20.103.42.17"  # pip-afw-hub-weu in the drifted example
# Tests that name the exact findings of an example run these checks only, so a new check
# does not change what they expect.
SEED_CHECKS = ("UDR001", "UDR002", "UDR003", "UDR004", "UDR005", "FW001", "FW003", "FW004", "AKS004")

HOSTILE_CLUSTER = "<img src=x onerror=alert(1)>"
HOSTILE_ROUTE = "\"><svg onload=alert(2)>"
HOSTILE_RULE = "</script><script>alert(3)</script>"
HOSTILE_COLLECTION = "[click](javascript:alert(4)) ![x](https://example.invalid/x.png) @everyone `|`"


def example_rows(name: str = DRIFTED) -> list[dict[str, Any]]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def renamed(rows: list[dict[str, Any]], replacements: dict[str, str]) -> list[dict[str, Any]]:
    """Every occurrence of each name, in ids and names alike, so the joins still hold."""
    text = json.dumps(rows)
    for old, new in replacements.items():
        text = text.replace(old, json.dumps(new)[1:-1])
    return json.loads(text)


def hostile_rows() -> list[dict[str, Any]]:
    """The drifted example with markup where a cluster, route, rule and collection name was."""
    return renamed(example_rows(), {"aks-analytics-prod": HOSTILE_CLUSTER, "default-to-afw": HOSTILE_ROUTE,
                                    "temp-debug": HOSTILE_RULE, "net-temp": HOSTILE_COLLECTION})


def scan(rows: list[dict[str, Any]], select: Iterable[str] = (), source: str = "test") -> ScanResult:
    checks = select_checks(load_registry(), list(select))
    return run_scan(build_estate(rows, source=source), checks, scopes=(f"snapshot:{source}",))


def scan_example(name: str = DRIFTED, select: Iterable[str] = ()) -> ScanResult:
    return scan(example_rows(name), select, source=f"examples/{name}")


def with_unreadable_row(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows plus a route table the model must reject: the scan becomes incomplete."""
    broken = {"id": "/subscriptions/x/resourceGroups/r/providers/Microsoft.Network/routeTables/broken",
              "type": "microsoft.network/routetables", "name": "broken", "properties": {"routes": "not a list"}}
    return [*rows, broken]


def suppressed(result: ScanResult, check: str, reason: str = "accepted until the hub migration") -> ScanResult:
    """The result with every finding of `check` suppressed, as a configuration file would."""
    rule = Suppression(index=0, check=check, resource="", resource_glob="*", locus="", reason=reason,
                       expires=date(2099, 12, 31), source="test")
    return apply_suppressions(result, (rule,), date(2026, 1, 1))


def _rows_named(rows: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [row for row in rows if row.get("name") in names]


def cloned_spokes(payments: int, analytics: int, *, payments_next_hop: str = "") -> list[dict[str, Any]]:
    """The drifted example plus `payments` copies of its payments spoke (UDR004: next hop is no
    firewall, or UDR005 with the firewall's public IP as `payments_next_hop`) and `analytics`
    copies of its analytics spoke (UDR001: pod subnet without route table)."""
    base = example_rows()
    rows = list(base)
    templates = {
        "payments": _rows_named(base, "vnet-spoke-payments-weu", "rt-spoke-payments-egress", "aks-payments-prod",
                                "aks-payments-staging"),
        "analytics": _rows_named(base, "vnet-spoke-analytics-weu", "rt-spoke-analytics-egress", "aks-analytics-prod"),
    }
    if payments_next_hop:
        templates["payments"] = renamed(templates["payments"], {"10.0.1.5": payments_next_hop})
    for word, count in (("payments", payments), ("analytics", analytics)):
        for index in range(count):
            rows += renamed(templates[word], {word: f"{word}{index:05d}"})
    return rows


def with_wildcard_rules(rows: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` extra application rules allowing '*.com' (FW004, medium) in rcg-aks-workloads."""
    rows = copy.deepcopy(rows)
    group = _rows_named(rows, "rcg-aks-workloads")[0]
    collection = group["properties"]["ruleCollections"][0]
    template = collection["rules"][0]
    for index in range(count):
        rule = copy.deepcopy(template)
        rule.update(name=f"wide-{index:05d}", targetFqdns=["*.com"])
        collection["rules"].append(rule)
    return rows
