"""What a remediation template gets to work with for one finding.

Templates stay declarative: everything that needs computing (names out of ARM ids, the firewall
IP to route to, ARM URLs, the JMESPath that guards an edit) is computed here, in code the tests
reach directly.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Mapping
from urllib.parse import quote

from aksaudit.results.findings import Finding, plain

from . import jmes
from .operations.firewall_rule import guard as rule_guard
from .operations.firewall_subnet import guard as subnet_guard
from .operations.route import guard as route_guard
from .shell import ShellWord, shq

NETWORK_API_VERSION = "2024-05-01"  # rule collection groups and classic firewalls, GET and PUT
FIREWALL_IP_FROM_ENVIRONMENT = ShellWord('"$FIREWALL_IP"')
ABSENT = "<absent>"  # what the script's az_read prints for a resource that does not exist


@dataclass(frozen=True)
class ArmId:
    """The parts of an ARM id a command line needs: `az` takes names, not ids."""

    id: str
    subscription: str
    resource_group: str
    names: tuple[tuple[str, str], ...]  # (type segment, name) after 'providers/<namespace>'

    @property
    def name(self) -> str:
        return self.names[-1][1] if self.names else ""

    def named(self, type_segment: str) -> str:
        """The name that follows `type_segment` (case-insensitive), e.g. 'routeTables'."""
        for kind, name in self.names:
            if kind.lower() == type_segment.lower():
                return name
        raise ValueError(f"{self.id} has no '{type_segment}' segment")


def parse_arm_id(resource_id: str) -> ArmId:
    if not isinstance(resource_id, str):  # evidence from a findings file may hold anything
        raise ValueError(f"{resource_id!r} is not a resource id")
    parts = resource_id.strip().strip("/").split("/")
    lowered = [p.lower() for p in parts]
    try:
        subscription = parts[lowered.index("subscriptions") + 1]
        group = parts[lowered.index("resourcegroups") + 1]
        provider = lowered.index("providers")
    except (ValueError, IndexError) as error:
        raise ValueError(f"'{resource_id}' is not a resource id inside a resource group") from error
    if not subscription or not group:
        raise ValueError(f"'{resource_id}' names no subscription or resource group")
    rest = parts[provider + 2:]
    if len(rest) % 2:
        raise ValueError(f"'{resource_id}' has a type without a name")
    return ArmId(resource_id, subscription, group, tuple(zip(rest[0::2], rest[1::2])))


def arm_url(resource_id: str, api_version: str = NETWORK_API_VERSION) -> str:
    """A URL `az rest` accepts for the resource (it prefixes the cloud's ARM endpoint itself);
    names are percent-encoded so that no character in them can change the request."""
    if not isinstance(resource_id, str):
        raise ValueError(f"{resource_id!r} is not a resource id")
    return f"{quote(resource_id.strip(), safe='/')}?api-version={api_version}"


def choose_firewall_ip(evidence: Mapping[str, Any]) -> str:
    """The one firewall private IP a route should use, or '' when the estate does not say.

    Candidates are the firewalls the subnet's VNet reaches (same VNet, or a Connected peering);
    when a finding names a particular firewall (UDR005: its public IP was used), only that one's
    IPs count. Several candidates are as bad as none: the script then asks for FIREWALL_IP
    rather than guessing.
    """
    def valid(ip: Any) -> bool:
        try:
            return isinstance(ip, str) and ipaddress.ip_address(ip).version == 4
        except ValueError:
            return False

    reachable = [ip for ip in evidence.get("firewall_private_ips", ()) or () if valid(ip)]
    target = evidence.get("target_firewall_private_ips")
    candidates = {ip for ip in reachable if not target or ip in target}
    return candidates.pop() if len(candidates) == 1 else ""


def free_name(base: str, taken: Any) -> str:
    """`base`, or `base-2`, `base-3` ... : a route name the scan saw nowhere in the table (a
    create under an existing name would silently replace that route)."""
    used = {str(name).lower() for name in taken}
    name, counter = base, 1
    while name.lower() in used:
        counter += 1
        name = f"{base}-{counter}"
    return name


def route_table_name(subnet_name: str) -> str:
    """A new route table is named after the subnet (route table names stop at 80 characters)."""
    return f"rt-{subnet_name}"[:80]


def peering_name(vnet_name: str, remote_vnet_name: str) -> str:
    """A new peering is named after the two VNets (peering names stop at 80 characters)."""
    return f"peer-{vnet_name}-to-{remote_vnet_name}"[:80]


def dns_service_ip_for(service_cidrs: Any) -> str:
    """A usable DNS service IP for these service CIDRs: the conventional `.10` of the first IPv4
    range (its second address when the range is too small), or '' when there is none."""
    for cidr in service_cidrs or ():
        try:
            network = ipaddress.ip_network(str(cidr).strip(), strict=False)
        except ValueError:
            continue
        if network.version == 4 and network.num_addresses >= 4:
            return str(network.network_address + (10 if network.num_addresses > 11 else 2))
    return ""


def finding_context(finding: Finding, index: int) -> dict[str, Any]:
    """The variables a check's `remediation.sh.j2` renders with."""
    evidence = plain(finding.evidence)  # plain dicts and lists, as JSON v1 has them
    ip = choose_firewall_ip(evidence)
    return {
        "finding": finding,
        "evidence": evidence,
        "index": index,
        "resource": parse_arm_id(finding.resource_id) if "/resourcegroups/" in finding.resource_id.lower() else None,
        "firewall_ip": shq(ip) if ip else FIREWALL_IP_FROM_ENVIRONMENT,
        "firewall_ip_known": bool(ip),
        "firewall_ip_text": ip or "$FIREWALL_IP",
    }


def template_globals() -> dict[str, Any]:
    """Functions every remediation template may call."""
    return {
        "ABSENT": ABSENT,
        "arm": parse_arm_id,
        "arm_url": arm_url,
        "dns_service_ip_for": dns_service_ip_for,
        "free_name": free_name,
        "peering_name": peering_name,
        "route_table_name": route_table_name,
        "jmes": SimpleNamespace(
            ROUTE_STATE=route_guard.ROUTE_STATE, ROUTES_STATE=route_guard.ROUTES_STATE,
            VNET_STATE=subnet_guard.VNET_STATE, to_string=jmes.to_string, route_state=route_guard.route_state,
            routes_state=route_guard.routes_state, vnet_state=subnet_guard.vnet_state,
            rule_place=rule_guard.rule_place, rule_state_query=rule_guard.rule_state_query,
            rule_state=rule_guard.rule_state, rule_removal_query=rule_guard.rule_removal_query),
    }
