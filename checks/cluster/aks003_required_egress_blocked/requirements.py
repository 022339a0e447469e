"""The FQDNs a cluster needs to reach: its own dependency list when read live, else the documented one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from aksaudit.api import T_OUTBOUND_ENDPOINTS, Estate, ManagedCluster, id_key

HTTPS_PORT = 443


@dataclass(frozen=True)
class Requirement:
    """One destination AKS must reach; several alternatives when AKS accepts any of them (its
    binaries move from `acs-mirror.azureedge.net` to `packages.aks.azure.com`)."""

    label: str  # what the evidence names
    alternatives: tuple[str, ...]  # any one of them allowed satisfies the requirement
    source: str  # 'cluster' (the AKS API's own list) or 'documented'


def _region(location: str) -> str:
    return location.replace(" ", "").lower()


def unread_dependency_lists(estate: Estate, cluster: ManagedCluster) -> str:
    """Why the cluster's own dependency list may be one that could not be read ('' when it cannot):
    reading the documented list instead would judge the firewall against other FQDNs."""
    prefix = id_key(cluster.id) + "/"
    return "; ".join(r.describe() for r in estate.rejected if r.could_be(T_OUTBOUND_ENDPOINTS)
                     and (not r.resource_id or id_key(r.resource_id).startswith(prefix)))


def requirements(estate: Estate, cluster: ManagedCluster, options: Mapping[str, Any]) -> list[Requirement]:
    """The cluster's own HTTPS dependencies when the live collector read them (they track what this
    cluster really uses: add-ons, region, private API server), else the documented list from the
    options, with the API server's `*.hcp.<region>.azmk8s.io` only when the cluster is public."""
    excluded = {str(c).lower() for c in options.get("excluded_endpoint_categories", ())}
    listed = [e for group in estate.outbound_endpoints_of(cluster.id) if group.category.lower() not in excluded
              for e in group.endpoints if any(port == HTTPS_PORT for port, _ in e.ports) and e.domain]
    if listed:
        return [Requirement(d, (d,), "cluster") for d in sorted({e.domain for e in listed})]
    wanted = []
    for entry in options.get("required_fqdns", ()):
        names = tuple(n for n in str(entry).split() if n.lower() != "or")  # 'a or b': either will do
        if names:
            wanted.append(Requirement(" or ".join(names), names, "documented"))
    if not cluster.private_cluster:
        region = _region(cluster.header.location)
        for entry in options.get("public_cluster_fqdns", ()):
            pattern = str(entry).replace("{region}", region)
            own = (cluster.fqdn,) if cluster.fqdn and cluster.fqdn.lower().endswith(pattern.lstrip("*").lower()) else ()
            wanted.append(Requirement(pattern, (pattern, *own), "documented"))
    return wanted
