"""The public surface for check authors, built-in and third-party alike.

A check is a module (or any object) with three attributes:

* `META`: a `CheckMeta`;
* `evaluate(estate, options) -> Iterable[Outcome]`: a pure function of the estate;
* a docstring with the sections **What it checks**, **Why it matters**, **How to fix**.

It registers through the `aksaudit.checks` entry-point group, with the check id as the name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable, Mapping, Protocol

from aksaudit.analysis.egress_paths import (
    FIREWALL, FIREWALL_PUBLIC_IP, UNKNOWN, UNRESOLVED, EgressPath, Hop, NextHop, reachable_firewall_ips,
    reachable_firewalls,
)
from aksaudit.analysis.egress_view import VIEW_FORMAT, cluster_views, diff_cluster_view
from aksaudit.results.findings import Finding, Outcome, Severity, Status, fail, fingerprint, passed, skipped
from aksaudit.model.firewall_rules import (
    APPLICATION, NAT, NETWORK, FirewallRule, is_full_port_range, is_unrestricted_address,
)
from aksaudit.model.estate import Estate
from aksaudit.model.resources import (
    T_CLUSTER, T_FIREWALL, T_IP_GROUP, T_POLICY, T_PUBLIC_IP, T_RCG, T_ROUTE_TABLE, T_VNET, THREAT_INTEL_MODE,
    T_OUTBOUND_ENDPOINTS,
    AgentPool, Firewall, FirewallPolicy, IpGroup, ManagedCluster, Peering, PublicIp, Route, RouteTable,
    RuleCollectionGroup, Subnet, VirtualNetwork, parse_network,
)
from aksaudit.analysis.route_partition import RouteDecision
from aksaudit.analysis.rulesets import RuleSet, effective_rules, policy_chain, policy_ruleset, rulesets_by_owner

# The traffic-set core: address, port and protocol sets, and what firewall rules permit over them.
from .analysis.addresses import (
    EVERYTHING, PUBLIC, PUBLIC_V4, PUBLIC_V6, AddressSet, Addresses, parse_address, parse_addresses,
)
from .analysis.breadth import Cover, covering_rules
from .analysis.destination_reach import (
    ALLOWED, DENIED, UNDECIDED, Reach, SourceCells, atom_reach, reach_host, source_parts,
)
from .analysis.firewall_egress_ips import EgressAddresses, firewall_egress_addresses
from .analysis.fqdn import DEFAULT_MULTI_TENANT_DOMAINS, domain_covered, every_name, matches, public_suffix_covered, target_host
from .analysis.intervals import IntervalSet
from .analysis.network_rules import (
    AS_WRITTEN, LOWER, UPPER, CompiledRule, NetworkRules, Region, SourceAtom, ip_group_addresses, network_rules, region,
    source_atoms,
)
from .analysis.ports import ALL_PORTS, ALL_PROTOCOLS, ICMP, TCP, UDP, USABLE_PORTS, parse_ports, parse_protocols
from .analysis.service_tags import canonical_tag, is_broad

# Virtual WAN routing, load balancers and the cluster's own dependency list.
from aksaudit.analysis.egress_paths import HubRoute
from aksaudit.model.resources import (
    SPECIAL_SUBNETS, T_HUB_CONNECTION, T_HUB_ROUTE_TABLE, T_LOAD_BALANCER, T_OUTBOUND_ENDPOINTS, T_ROUTING_INTENT,
    T_VIRTUAL_HUB, Endpoint, Frontend, HubConnection, HubRouteTable, HubStaticRoute, LoadBalancer, OutboundEndpoints,
    RoutingIntent, RoutingPolicy, VirtualHub,
)

DOC_SECTIONS = ("What it checks", "Why it matters", "How to fix")


class FixKind(str, Enum):
    """What a check's remediation does, from least to most: the worst case over its findings.

    * `none`: no fix is written (the script names the finding and `aksaudit checks explain`);
    * `manual`: a procedure for people; the script may prepare a step, but running it does not
      make the finding go away;
    * `safe`: the script makes the change, and it cuts no traffic that the finding's intent allows;
    * `disruptive`: the script makes the change, and it can cut traffic; such blocks are written
      commented out unless `--include-disruptive` is given.

    A check's template may narrow this for one finding (say, a route that cannot be fixed without
    a new peering is `manual`), never widen it: the renderer refuses a block more disruptive than
    the check declares.
    """

    NONE = "none"
    MANUAL = "manual"
    SAFE = "safe"
    DISRUPTIVE = "disruptive"

    @property
    def rank(self) -> int:
        return tuple(FixKind).index(self)

    @property
    def changes_azure(self) -> bool:
        """Running the block with --apply makes the finding go away."""
        return self in (FixKind.SAFE, FixKind.DISRUPTIVE)


@dataclass(frozen=True)
class CheckMeta:
    """What a check declares about itself. `id` is permanent and never reused."""

    id: str
    slug: str
    title: str
    severity: Severity
    requires: tuple[str, ...]  # ARG resource types (lower-case); the collector queries their union
    references: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # former ids or slugs that still select this check
    options: Mapping[str, Any] = field(default_factory=dict)  # option name -> default value
    evidence: type | None = None  # the dataclass of the evidence its remediation template reads
    fix: FixKind = FixKind.NONE  # what its remediation does (the docs and `checks list` show it)


class Check(Protocol):
    META: CheckMeta
    __doc__: str | None

    def evaluate(self, estate: Estate, options: Mapping[str, Any]) -> Iterable[Outcome]: ...


__all__ = [
    "APPLICATION", "DOC_SECTIONS", "FIREWALL", "FIREWALL_PUBLIC_IP", "NAT", "NETWORK", "UNKNOWN", "UNRESOLVED",
    "T_CLUSTER", "T_FIREWALL", "T_IP_GROUP", "T_POLICY", "T_PUBLIC_IP", "T_RCG", "T_ROUTE_TABLE", "T_VNET",
    "AgentPool", "Check", "CheckMeta", "FixKind", "THREAT_INTEL_MODE", "T_OUTBOUND_ENDPOINTS", "EgressPath", "Estate", "Finding", "Firewall", "FirewallPolicy",
    "FirewallRule", "Hop", "IpGroup", "ManagedCluster", "NextHop", "Outcome", "Peering", "PublicIp", "Route",
    "RouteDecision", "RouteTable", "RuleCollectionGroup", "RuleSet", "Severity", "Status", "Subnet",
    "VIEW_FORMAT", "VirtualNetwork", "cluster_views", "diff_cluster_view", "effective_rules", "fail", "fingerprint", "is_full_port_range", "is_unrestricted_address",
    "parse_network", "passed", "reachable_firewall_ips", "reachable_firewalls", "skipped",
]
__all__ += [
    "SPECIAL_SUBNETS", "T_HUB_CONNECTION", "T_HUB_ROUTE_TABLE", "HubRouteTable", "HubStaticRoute", "T_LOAD_BALANCER", "T_OUTBOUND_ENDPOINTS", "T_ROUTING_INTENT",
    "T_VIRTUAL_HUB", "Endpoint", "Frontend", "HubConnection", "HubRoute", "LoadBalancer", "OutboundEndpoints",
    "RoutingIntent", "RoutingPolicy", "VirtualHub", "policy_chain",
]
__all__ += [
    "ALL_PORTS", "ALL_PROTOCOLS", "AS_WRITTEN", "EVERYTHING", "ICMP", "LOWER", "PUBLIC", "PUBLIC_V4", "PUBLIC_V6", "TCP", "UDP",
    "UPPER", "USABLE_PORTS", "AddressSet", "Addresses", "CompiledRule", "Cover", "IntervalSet", "NetworkRules",
    "Region", "SourceAtom", "canonical_tag", "covering_rules", "ip_group_addresses", "is_broad", "network_rules",
    "parse_address", "parse_addresses", "parse_ports", "parse_protocols", "policy_ruleset", "region",
    "rulesets_by_owner", "source_atoms",
]
__all__ += ["EgressAddresses", "firewall_egress_addresses"]
__all__ += ["ALLOWED", "DENIED", "UNDECIDED", "Reach", "SourceCells", "atom_reach", "reach_host", "source_parts"]
__all__ += ["DEFAULT_MULTI_TENANT_DOMAINS", "domain_covered", "every_name", "matches", "public_suffix_covered",
            "target_host"]
# ARM ids: taken apart one way everywhere (ids are case-insensitive; never split on a spelling).
from aksaudit.model.arm_id import ArmId  # noqa: E402
from aksaudit.model.row_fields import id_key, parent_id  # noqa: E402
__all__ += ["ArmId", "id_key", "parent_id"]
# The evidence a fix reads, typed (see fix_evidence): built by the shared evidence helpers.
from aksaudit.fix_evidence import (  # noqa: E402
    PathEvidence, RouteEvidence, RouteState, RuleEvidence, evidence_dict, evidence_problems,
)
__all__ += ["PathEvidence", "RouteEvidence", "RouteState", "RuleEvidence", "evidence_dict", "evidence_problems"]
# Azure's effective routes (live scans with --effective-routes) and how they compare with the model.
from aksaudit.model.resources import T_EFFECTIVE_ROUTES, EffectiveRoute, EffectiveRouteTable  # noqa: E402
from aksaudit.analysis.effective_routes import Disagreement, ModelHop, compare_effective_routes  # noqa: E402
__all__ += ["T_EFFECTIVE_ROUTES", "Disagreement", "EffectiveRoute", "EffectiveRouteTable", "ModelHop",
            "compare_effective_routes"]
