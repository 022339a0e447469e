"""The FQDNs a cluster needs to reach: its own dependency list when read live, else the documented one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

HTTPS_PORT = 443


@dataclass(frozen=True)
class Requirement:
    label: str  # what the evidence names
    alternatives: tuple[str, ...]  # any one of them allowed satisfies the requirement
    source: str  # 'cluster' (the AKS API's own list) or 'documented'


def _region(location: str) -> str:
    return location.replace(" ", "").lower()


def requirements(estate: Any, cluster: Any, options: Mapping[str, Any]) -> list[Requirement]:
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
