"""DNS service IP is not a usable address of the service CIDR.

**What it checks**
The cluster's `networkProfile.dnsServiceIP` must lie inside one of its `serviceCidr(s)` of the
same IP version, and must not be that range's network address or its first address (`.1` in an
IPv4 range, which Kubernetes gives to the `kubernetes` API service).

When the service CIDRs or the DNS service IP could not be read, the check is `skipped`, naming
the datum.

**Why it matters**
CoreDNS gets the DNS service IP as its ClusterIP. Outside the service range it cannot be
allocated; on the first address it collides with the API server's service. Either way pods
cannot resolve names, so they cannot reach the FQDNs the firewall allows: a broken DNS setup
usually surfaces as "the firewall blocks everything" and leads to rules being loosened.

**How to fix**
Pick an address inside the service CIDR that is neither the network nor the first address
(conventionally `.10`, e.g. `--dns-service-ip 192.168.0.10` for `192.168.0.0/20`). Both values
are fixed at creation: recreate the cluster with consistent values.
"""
import ipaddress

from dataclasses import dataclass

from aksaudit.api import T_CLUSTER, CheckMeta, FixKind, Severity, fail, parse_network, passed, skipped

@dataclass(frozen=True, kw_only=True)
class FixEvidence:
    """What the fix reads of the evidence (the rest is for people reading the finding)."""

    dns_service_ip: str
    service_cidrs: tuple[str, ...]
    problem: str


META = CheckMeta(
    id="AKS005",
    slug="dns-service-ip-outside-service-cidr",
    title="DNS service IP is not a usable address of the service CIDR",
    severity=Severity.MEDIUM,
    fix=FixKind.MANUAL,
    evidence=FixEvidence,
    requires=(T_CLUSTER,),
    references=("https://learn.microsoft.com/azure/aks/concepts-network-ip-address-planning",
                "https://learn.microsoft.com/azure/aks/configure-azure-cni"),
    tags=("cluster", "addressing"),
)


def _problem(dns_ip: str, services: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """Why the address is unusable, or '' when it is fine."""
    try:
        address = ipaddress.ip_address(dns_ip.strip())
    except ValueError:
        return f"'{dns_ip}' is not an IP address"
    same_version = [n for n in services if n.version == address.version]
    home = next((n for n in same_version if address in n), None)
    if home is None:
        return f"{address} is outside the service CIDR {', '.join(map(str, same_version or services))}"
    if address == home.network_address:
        return f"{address} is the network address of {home}"
    if address == home.network_address + 1:
        return f"{address} is the first address of {home}, which the kubernetes API service takes"
    return ""


def evaluate(estate, options):
    for cluster in estate.clusters.values():
        services = [n for n in (parse_network(c) for c in cluster.service_cidrs) if n is not None]
        unparsed = [c for c in cluster.service_cidrs if parse_network(c) is None]
        gap = cluster.service_cidrs_unread or cluster.dns_service_ip_unread or "; ".join(
            f"service CIDR '{c}' is not a CIDR prefix" for c in unparsed)
        if gap or not services or not cluster.dns_service_ip:
            yield skipped(cluster.id, gap or f"cluster {cluster.id}: it reports no serviceCidr or no dnsServiceIP")
            continue
        problem = _problem(cluster.dns_service_ip, services)
        if not problem:
            yield passed(cluster.id)
            continue
        yield fail(cluster.id, f"Cluster '{cluster.header.name}' dnsServiceIP is unusable: {problem}.",
                   evidence={"cluster": cluster.id, "dns_service_ip": cluster.dns_service_ip,
                             "service_cidrs": list(cluster.service_cidrs), "problem": problem})
