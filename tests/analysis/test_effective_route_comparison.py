"""Azure's effective routes against the analysed steering: properties, not recorded outputs.

Azure's own effective route list for a subnet always holds the table's user routes; when that is
all it adds to the system routes, the two views must agree whatever the table holds. A route
learned from a gateway that is longer than every user route covering some public address must
disagree exactly there.
"""
from __future__ import annotations

import ipaddress

import pytest

from aksaudit.analysis.effective_routes import compare_effective_routes
from aksaudit.model.estate import build_estate
from aksaudit.testing import load_fixture
from aksaudit.run.registry import load_registry

CHECK = load_registry().by_id()["UDR009"]
GOOD = load_fixture(CHECK.folder / "good.json").rows
ROUTES = "microsoft.network/networkinterfaces/effectiveroutetable"


def _with(routes: list[dict], base: list[dict] = GOOD) -> list[dict]:
    rows = [dict(r) for r in base]
    table = next(r for r in rows if r["type"] == ROUTES)
    rows[rows.index(table)] = {**table, "properties": {**table["properties"], "routes": routes}}
    return rows


def _system() -> list[dict]:
    return [{"source": "Default", "state": "Active", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "Internet",
             "nextHopIpAddress": []}]


def _user(table: dict) -> list[dict]:
    return [{"source": "User", "state": "Active", "addressPrefix": [r["properties"]["addressPrefix"]],
             "nextHopType": r["properties"]["nextHopType"],
             "nextHopIpAddress": [r["properties"]["nextHopIpAddress"]] if r["properties"].get("nextHopIpAddress") else []}
            for r in table["properties"]["routes"]]


def _disagreements(rows: list[dict]):
    estate = build_estate(rows, source="test")
    (path,) = [p for p in estate.egress_paths if p.subnet_id.lower() in estate.effective_routes]
    return compare_effective_routes(estate, path, estate.effective_routes[path.subnet_id.lower()])


TABLES = [
    [("0.0.0.0/0", "VirtualAppliance", "10.50.1.4")],
    [("0.0.0.0/1", "VirtualAppliance", "10.50.1.4"), ("128.0.0.0/1", "VirtualAppliance", "10.50.1.4")],
    [("0.0.0.0/0", "VirtualAppliance", "10.50.1.4"), ("20.0.0.0/8", "Internet", None)],
    [("52.0.0.0/8", "VirtualAppliance", "10.50.1.4")],
    [("0.0.0.0/0", "None", None)],
]


@pytest.mark.parametrize("routes", TABLES, ids=range(len(TABLES)))
def test_azure_listing_only_the_tables_own_routes_agrees_with_the_model(routes):
    rows = [dict(r) for r in GOOD]
    table = next(r for r in rows if r["type"] == "microsoft.network/routetables")
    table["properties"] = {**table["properties"], "routes": [
        {"name": f"r{i}", "properties": {"addressPrefix": p, "nextHopType": h, **({"nextHopIpAddress": ip} if ip else {})}}
        for i, (p, h, ip) in enumerate(routes)]}
    rows = [table if r["type"] == "microsoft.network/routetables" else r for r in rows]
    assert _disagreements(_with(_system() + _user(table), rows)) == ()


@pytest.mark.parametrize("prefix", ["52.0.0.0/8", "0.0.0.0/1", "104.16.0.0/13", "8.8.8.8/32"])
def test_a_longer_learned_prefix_disagrees_exactly_over_its_public_addresses(prefix):
    table = next(r for r in GOOD if r["type"] == "microsoft.network/routetables")
    learned = {"source": "VirtualNetworkGateway", "state": "Active", "addressPrefix": [prefix],
               "nextHopType": "VirtualNetworkGateway", "nextHopIpAddress": ["10.50.2.4"]}
    (found,) = _disagreements(_with(_system() + _user(table) + [learned]))
    assert found.learned and found.model.steered
    covered = {ipaddress.ip_network(r) for r in found.ranges if "-" not in r}
    assert all(n.subnet_of(ipaddress.ip_network(prefix)) for n in covered)


def test_an_invalid_learned_default_route_is_not_applied_and_a_tie_goes_to_the_user_route():
    table = next(r for r in GOOD if r["type"] == "microsoft.network/routetables")
    learned = {"source": "VirtualNetworkGateway", "addressPrefix": ["0.0.0.0/0"], "nextHopType": "VirtualNetworkGateway",
               "nextHopIpAddress": ["10.50.2.4"]}
    assert _disagreements(_with(_system() + _user(table) + [{**learned, "state": "Invalid"}])) == ()
    assert _disagreements(_with(_system() + _user(table) + [{**learned, "state": "Active"}])) == ()
