"""The built-in checks, as one explicit list behind one `aksaudit.checks` entry point.

pyproject.toml declares `builtin = "aksaudit.checks.builtin:builtin_checks"` once; this list is
read at run time, so a new built-in check (see scripts/new_check.py) is one line here and no
reinstall. Each name is a module under `aksaudit.checks`; the registry imports them one by one,
so one that fails to import is reported and the others still load. A contract test holds this
list and the check folders to each other.
"""
from __future__ import annotations

BUILTIN_CHECKS: tuple[str, ...] = (
    "cluster.aks001_public_outbound_type",
    "cluster.aks002_node_public_ip",
    "cluster.aks003_required_egress_blocked",
    "cluster.aks004_service_cidr_overlap",
    "cluster.aks005_dns_service_ip",
    "cluster.aks006_asymmetric_public_load_balancer",
    "cluster.aks007_api_server_excludes_firewall_egress",
    "drift.drift001_egress_path_changed",
    "firewall.fw001_wrong_subnet",
    "firewall.fw002_firewall_subnet_too_small",
    "firewall.fw003_any_network_rule",
    "firewall.fw004_wildcard_application_rule",
    "firewall.fw005_network_rule_bypasses_fqdn_filtering",
    "firewall.fw006_threat_intel_off",
    "firewall.fw007_multi_tenant_domain_wildcard",
    "routing.udr001_no_route_table",
    "routing.udr002_no_default_route",
    "routing.udr003_next_hop_not_appliance",
    "routing.udr004_next_hop_not_firewall",
    "routing.udr005_next_hop_public_ip",
    "routing.udr006_route_bypasses_firewall",
    "routing.udr007_firewall_vnet_not_peered",
    "routing.udr008_ipv6_egress_unfiltered",
    "routing.udr009_effective_route_bypasses_firewall",
    "routing.udr010_gateway_route_propagation_unverified",
)


def builtin_checks() -> tuple[str, ...]:
    """The dotted module names of the built-in checks (what the entry point returns)."""
    return tuple(f"aksaudit.checks.{name}" for name in BUILTIN_CHECKS)
