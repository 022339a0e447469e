"""The cassette scenarios: what each recording asks, of which emulated tenant, with which faults.

`scripts/record_cassettes.py` records them and `tests/collect/test_live_cassettes.py` replays them with
the very same parameters from here, so a replay sends byte-for-byte the requests recorded. The
resource types are fixed (not read from the installed checks): a new check must not silently
change the queries a cassette was recorded with.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aksaudit.collect.changes import ChangeHistory, change_reader, read_change_history
from aksaudit.collect.live import LiveOptions, ScopeRequest, collect_live
from aksaudit.collect.snapshot import Snapshot
from aksaudit.model.resources import (
    T_CLUSTER, T_EFFECTIVE_ROUTES, T_FIREWALL, T_HUB_CONNECTION, T_HUB_ROUTE_TABLE, T_IP_GROUP, T_OUTBOUND_ENDPOINTS, T_POLICY,
    T_PUBLIC_IP, T_RCG, T_ROUTE_TABLE, T_ROUTING_INTENT, T_VIRTUAL_HUB, T_VNET,
)

from .server import Fault
from .tenant import FAKE_TENANT, Tenant

ROOT = Path(__file__).resolve().parents[2]
ESTATE = ROOT / "examples" / "hub-spoke-drifted.json"
CHANGES = ROOT / "tests" / "data" / "hub-spoke-drifted-changes.json"  # resourcechanges rows for ESTATE
CASSETTES = ROOT / "cassettes"

HUB = "2d8f6a13-9c4e-4b7a-8e25-6f1c0d3b9a72"
SPOKE = "e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64"
NAMES = {HUB: "Contoso Connectivity Hub", SPOKE: "Contoso Landing Zone Workloads"}
MANAGEMENT_GROUP = "mg-contoso-landing-zones"
CLIENT_ID = "3c9e7a21-5b4d-4f8e-a6c2-1d0b9e8f7a63"
RECORDING_SECRET = "emulator-recording-secret"
TYPES = (T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP, T_PUBLIC_IP)
# The Virtual WAN estates: routing intent, hub route tables and hub connections exist only as ARM
# child lists there. The classic one steers by a static route in the hub's default route table.
VWAN_ESTATE = ROOT / "tests" / "scenarios" / "vwan-secured-hub.json"
VWAN_CLASSIC_ESTATE = ROOT / "tests" / "scenarios" / "vwan-classic-hub.json"
VWAN_HUB = "8e2d4f6a-1b3c-4d5e-9f7a-2c4e6a8b0d13"
VWAN_SPOKES = "c4a8e3f2-6b1d-4e9a-a7c5-2f8d0e6b1a39"
VWAN_TYPES = (T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_VIRTUAL_HUB, T_ROUTING_INTENT, T_HUB_ROUTE_TABLE,
              T_HUB_CONNECTION)
ENDPOINT_TYPES = (T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP, T_OUTBOUND_ENDPOINTS)
_SHOP = (f"/subscriptions/{VWAN_SPOKES}/resourcegroups/rg-aks-shop-weu/providers/Microsoft.ContainerService/"
         "managedClusters/aks-shop-prod")
# What the AKS API answers for the shop cluster (the data cluster has no list: it answers empty).
ENDPOINT_ROWS = tuple({"id": f"{_SHOP}/outboundNetworkDependenciesEndpoints/{category}", "name": category,
                       "type": T_OUTBOUND_ENDPOINTS, "properties": {"category": category, "endpoints": [
                           {"domainName": name, "endpointDetails": [{"port": 443, "protocol": "Https"}]}
                           for name in names]}}
                      for category, names in (("azure-container-registry", ("mcr.microsoft.com",
                                                                            "*.data.mcr.microsoft.com")),
                                              ("azure-resource-management", ("management.azure.com",))))
# A VNet with a VPN gateway: one AKS subnet's table sends 0.0.0.0/0 to the firewall (Azure agrees),
# the other's has no default route and a 0.0.0.0/0 learned from the gateway wins there. Each subnet
# holds a standalone node NIC whose effective routes the network API serves.
ROUTES_ESTATE = ROOT / "tests" / "data" / "effective-routes.json"
ROUTES_SUB = "1a2b3c4d-0000-4000-8000-00000000aa01"
ROUTES_TYPES = (T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_PUBLIC_IP, T_EFFECTIVE_ROUTES)
ROUTES_ACTION = "Microsoft.Network/networkInterfaces/effectiveRouteTable/action"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    scope: ScopeRequest
    page_size: int = 1000
    forbidden: tuple[str, ...] = ()
    rules_in_graph: bool = True
    faults: tuple[dict[str, Any], ...] = field(default=())  # Fault(**kwargs), built fresh per run
    change_ids: tuple[str, ...] = ()  # after collecting: the change history of these resources
    estate: Path = ESTATE
    types: tuple[str, ...] = TYPES
    extra_rows: tuple[dict[str, Any], ...] = ()  # rows added to the estate (served by ARM lists only)
    effective_routes: bool = False  # --effective-routes
    denied_actions: tuple[str, ...] = ()  # actions the identity's role lacks (403 AuthorizationFailed)

    @property
    def cassette(self) -> Path:
        return CASSETTES / f"{self.name}.yaml"

    def tenant(self) -> Tenant:
        tenant = Tenant.from_file(self.estate, subscription_names=dict(NAMES),
                                  management_groups={MANAGEMENT_GROUP: [HUB, SPOKE]}, forbidden=set(self.forbidden),
                                  rule_groups_without_rules=not self.rules_in_graph, client_id=CLIENT_ID,
                                  client_secret=RECORDING_SECRET, tenant_id=FAKE_TENANT,
                                  denied_actions=set(self.denied_actions))
        if self.change_ids:
            tenant.rows.extend(Tenant.from_file(CHANGES).rows)
        tenant.rows.extend(dict(row) for row in self.extra_rows)
        return tenant

    def fresh_faults(self) -> list[Fault]:
        return [Fault(**kwargs) for kwargs in self.faults]

    def collect(self, clients: Any, clock: Any) -> Snapshot:
        """One collection, sequential so the recorded order is the order replayed."""
        # One lookup at a time with --effective-routes: an operation's polls then follow its POST in
        # the recording, as the replay sends them.
        options = LiveOptions(concurrency=1, page_size=self.page_size, effective_routes=self.effective_routes,
                              **({"arm_concurrency": 1} if self.effective_routes else {}))
        return collect_live(self.types, self.scope, clients, options=options, clock=clock)

    def collect_all(self, clients: Any, clock: Any) -> tuple[Snapshot, ChangeHistory | None]:
        """The collection, then (for a change-history scenario) the change queries, one at a time."""
        snapshot = self.collect(clients, clock)
        if not self.change_ids:
            return snapshot, None
        reader = change_reader(clients, LiveOptions(page_size=self.page_size), clock=clock)
        return snapshot, read_change_history(reader, self.change_ids, workers=1)


BOTH = ScopeRequest(subscriptions=(HUB, SPOKE))
# What the drifted estate's findings point at: UDR004's route, FW003's rule collection group, the
# analytics pod subnet that lost its route table (UDR001), with their ARM parents.
_PAYMENTS_RT = (f"/subscriptions/{SPOKE}/resourceGroups/rg-spoke-payments-weu/providers/Microsoft.Network/"
                "routeTables/rt-spoke-payments-egress")
_ANALYTICS_VNET = (f"/subscriptions/{SPOKE}/resourceGroups/rg-spoke-analytics-weu/providers/Microsoft.Network/"
                   "virtualNetworks/vnet-spoke-analytics-weu")
_POLICY = f"/subscriptions/{HUB}/resourceGroups/rg-hub-fwpolicy-weu/providers/Microsoft.Network/firewallPolicies/afwp-hub-weu"
CHANGE_IDS = (f"{_PAYMENTS_RT}/routes/default-to-afw", _PAYMENTS_RT, f"{_ANALYTICS_VNET}/subnets/snet-aks-pods",
              _ANALYTICS_VNET, f"{_POLICY}/ruleCollectionGroups/rcg-aks-workloads", _POLICY)

SCENARIOS = {s.name: s for s in (
    Scenario("single_subscription", "one subscription by id: the spoke with the clusters", ScopeRequest((SPOKE,))),
    Scenario("management_group", "a management group holding hub and spoke",
             ScopeRequest(management_groups=(MANAGEMENT_GROUP,))),
    Scenario("three_page_pagination", "both subscriptions, 6 rows a page: resources comes in 3 pages", BOTH,
             page_size=6),
    Scenario("throttled_quota_headers", "a 429 carrying x-ms-user-quota-remaining 0 and resets-after 3 s, then success",
             BOTH, faults=({"kind": "throttle", "table": "resources", "resets_after": 3.0},)),
    Scenario("throttled_no_retry_after", "a 429 with neither Retry-After nor quota headers, then success", BOTH,
             faults=({"kind": "throttle", "table": "resources", "quota_headers": False},)),
    Scenario("forbidden_subscription", "two subscriptions asked, the identity may read only the hub", BOTH,
             forbidden=(SPOKE,)),
    Scenario("result_truncated", "the resources query answers resultTruncated \"true\"", BOTH,
             faults=({"kind": "truncate", "table": "resources"},)),
    Scenario("rule_group_fallback", "networkresources rows without ruleCollections, completed through ARM",
             ScopeRequest((HUB,)), rules_in_graph=False),
    Scenario("subscription_name_resolution", "subscriptions given by display name",
             ScopeRequest(tuple(NAMES[s] for s in (HUB, SPOKE)))),
    Scenario("change_history", "both subscriptions, then resourcechanges and networkresourcechanges for the "
             "resources the findings point at", BOTH, change_ids=CHANGE_IDS),
    Scenario("vwan_hub_lookups", "the vWAN estate: each virtual hub's routingIntent, hubRouteTables and "
             "hubVirtualNetworkConnections listed through ARM", ScopeRequest((VWAN_HUB, VWAN_SPOKES)), estate=VWAN_ESTATE, types=VWAN_TYPES),
    Scenario("vwan_routing_intent_forbidden", "the vWAN estate, every ARM list refused with 403 AuthorizationFailed",
             ScopeRequest((VWAN_HUB, VWAN_SPOKES)), estate=VWAN_ESTATE, types=VWAN_TYPES,
             faults=({"kind": "error", "route": "arm", "status": 403, "code": "AuthorizationFailed", "times": -1},)),
    Scenario("vwan_classic_hub_route_tables", "the classic secured hub (routing intent off): its hubRouteTables, "
             "whose defaultRouteTable sends 0.0.0.0/0 to the hub firewall, listed through ARM",
             ScopeRequest((VWAN_HUB, VWAN_SPOKES)), estate=VWAN_CLASSIC_ESTATE, types=VWAN_TYPES),
    Scenario("vwan_hub_route_tables_forbidden", "the classic secured hub; only the hubRouteTables list is refused "
             "with 403 AuthorizationFailed", ScopeRequest((VWAN_HUB, VWAN_SPOKES)), estate=VWAN_CLASSIC_ESTATE,
             types=VWAN_TYPES, faults=({"kind": "error", "route": "arm", "status": 403, "code": "AuthorizationFailed",
                                        "times": -1, "table": "hubroutetables"},)),
    Scenario("outbound_endpoints", "the vWAN estate's clusters: their outbound network dependencies from the AKS API",
             ScopeRequest((VWAN_HUB, VWAN_SPOKES)), estate=VWAN_ESTATE, types=ENDPOINT_TYPES,
             extra_rows=ENDPOINT_ROWS),
    Scenario("outbound_endpoints_unavailable", "the AKS API refuses the outbound dependencies list (400)",
             ScopeRequest((VWAN_HUB, VWAN_SPOKES)), estate=VWAN_ESTATE, types=ENDPOINT_TYPES,
             faults=({"kind": "error", "route": "arm", "status": 400, "code": "BadRequest", "times": -1},)),
    Scenario("effective_routes", "--effective-routes: each AKS subnet's node NIC's effective route table through the "
             "network API's long-running POST (202, Azure-AsyncOperation polled, result read from Location)",
             ScopeRequest((ROUTES_SUB,)), estate=ROUTES_ESTATE, types=ROUTES_TYPES, effective_routes=True),
    Scenario("effective_routes_forbidden", "--effective-routes with a role lacking "
             "Microsoft.Network/networkInterfaces/effectiveRouteTable/action: 403 AuthorizationFailed",
             ScopeRequest((ROUTES_SUB,)), estate=ROUTES_ESTATE, types=ROUTES_TYPES, effective_routes=True,
             denied_actions=(ROUTES_ACTION,)),
)}
