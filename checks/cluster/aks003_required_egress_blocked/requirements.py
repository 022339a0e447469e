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


class Requirements:
    """What each cluster of an estate must reach, and why its own list may be unread, with the
    options and the estate's rejected rows read once for all its clusters (thousands of them)."""

    def __init__(self, estate: Estate, options: Mapping[str, Any]) -> None:
        self.estate = estate
        self.excluded = {str(c).lower() for c in options.get("excluded_endpoint_categories", ())}
        documented = []
        for entry in options.get("required_fqdns", ()):
            names = tuple(n for n in str(entry).split() if n.lower() != "or")  # 'a or b': either will do
            if names:
                documented.append(Requirement(" or ".join(names), names, "documented"))
        self.documented = tuple(documented)
        self.public_cluster_fqdns = tuple(str(entry) for entry in options.get("public_cluster_fqdns", ()))
        self._public: dict[str, tuple[tuple[str, str], ...]] = {}
        self._rejected = tuple(r for r in estate.rejected if r.could_be(T_OUTBOUND_ENDPOINTS))

    def unread(self, cluster: ManagedCluster) -> str:
        """Why the cluster's own dependency list may be one that could not be read ('' when it cannot):
        reading the documented list instead would judge the firewall against other FQDNs."""
        if not self._rejected:
            return ""
        prefix = id_key(cluster.id) + "/"
        return "; ".join(r.describe() for r in self._rejected
                         if not r.resource_id or id_key(r.resource_id).startswith(prefix))

    def _patterns(self, location: str) -> tuple[tuple[str, str], ...]:
        """(pattern, what the cluster's own API server FQDN ends with to be one of its names) per
        `public_cluster_fqdns` entry, for the region of `location`."""
        found = self._public.get(location)
        if found is None:
            region = _region(location)
            patterns = (entry.replace("{region}", region) for entry in self.public_cluster_fqdns)
            found = self._public[location] = tuple((pattern, pattern.lstrip("*").lower()) for pattern in patterns)
        return found

    def of(self, cluster: ManagedCluster) -> list[Requirement]:
        """The cluster's own HTTPS dependencies when the live collector read them (they track what this
        cluster really uses: add-ons, region, private API server), else the documented list from the
        options, with the API server's `*.hcp.<region>.azmk8s.io` only when the cluster is public."""
        if self.estate.outbound_endpoints:
            listed = [e for group in self.estate.outbound_endpoints_of(cluster.id)
                      if group.category.lower() not in self.excluded
                      for e in group.endpoints if any(port == HTTPS_PORT for port, _ in e.ports) and e.domain]
            if listed:
                return [Requirement(d, (d,), "cluster") for d in sorted({e.domain for e in listed})]
        wanted = list(self.documented)
        if not cluster.private_cluster:
            fqdn = cluster.fqdn
            for pattern, suffix in self._patterns(cluster.header.location):
                own = (fqdn,) if fqdn and fqdn.lower().endswith(suffix) else ()
                wanted.append(Requirement(pattern, (pattern, *own), "documented"))
        return wanted
