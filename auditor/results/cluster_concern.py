"""Which clusters a finding or a skipped outcome concerns: one rule for every count of clusters.

A finding concerns a cluster when it sits on a resource of the cluster's egress path, or names
the cluster in its evidence (`cluster`): some findings sit off the path proper (a load balancer
in the node resource group, a hub connection) yet are about one cluster. A skipped outcome has
no evidence, so only its resource counts. The compliant-cluster count of a scan and the
per-control cluster counts both ask this index, so they cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from aksaudit.model.row_fields import id_key
from aksaudit.results.findings import Finding
from aksaudit.results.path_summaries import FirewallSummary, PathSummary, firewall_resource_ids
from aksaudit.results.scan_result import SkippedOutcome


@dataclass(frozen=True)
class ClusterIndex:
    clusters: Mapping[str, str]  # lower-cased cluster id -> the id as first written
    by_resource: Mapping[str, frozenset[str]]  # lower-cased resource id -> the clusters whose path holds it

    @classmethod
    def of(cls, paths: Iterable[PathSummary]) -> "ClusterIndex":
        """Nearly every resource lies on one cluster's paths only (its subnet, route table, routes):
        those share that cluster's one-element set, and only resources on several clusters' paths
        (a hub's firewall and policies) get a set of their own. A set per resource, frozen at the
        end, cost more than the rest of the index at a million rows."""
        clusters: dict[str, str] = {}
        own: dict[str, frozenset[str]] = {}  # cluster -> {cluster}
        by_resource: dict[str, frozenset[str]] = {}
        shared: dict[str, set[str]] = {}
        behind: dict[int, tuple[FirewallSummary, set[str]]] = {}  # firewall summary -> clusters behind it
        for path in paths:
            cluster = id_key(path.cluster_id)
            clusters.setdefault(cluster, path.cluster_id)
            mine = own.get(cluster)
            if mine is None:
                mine = own[cluster] = frozenset((cluster,))
            for resource in path.own_resource_ids:
                first = by_resource.setdefault(resource, mine)
                if first is not mine and cluster not in first:
                    shared.setdefault(resource, set(first)).add(cluster)
            for firewall in path.firewalls:  # one summary object per firewall: its ids once
                behind.setdefault(id(firewall), (firewall, set()))[1].add(cluster)
        for firewall, owners in behind.values():
            for resource in firewall_resource_ids(firewall):
                shared.setdefault(resource, set()).update(owners)
        by_resource.update((resource, frozenset(owners | by_resource.get(resource, frozenset())))
                           for resource, owners in shared.items())
        return cls(clusters, by_resource)

    def concerned(self, findings: Iterable[Finding] = (), skipped: Iterable[SkippedOutcome] = ()) -> set[str]:
        """The clusters (lower-cased ids) any of the findings or skipped outcomes concerns.
        Resources are collected first: a hub firewall with thousands of findings is one union,
        not thousands."""
        resources: set[str] = set()
        touched: set[str] = set()
        for finding in findings:
            resources.add(id_key(finding.resource_id))
            named = id_key(str(finding.evidence.get("cluster", "") or ""))
            if named in self.clusters:
                touched.add(named)
        resources.update(id_key(outcome.resource_id) for outcome in skipped)
        for resource in resources:
            touched |= self.by_resource.get(resource, frozenset())
        return touched

    def compliant(self, findings: Iterable[Finding], skipped: Iterable[SkippedOutcome]) -> int:
        """Clusters no finding and no skipped outcome concerns."""
        return len(self.clusters) - len(self.concerned(findings, skipped))
