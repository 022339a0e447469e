"""Egress path differs from the approved baseline.

**What it checks**
With `--approved egress-baseline.json` (written by `aksaudit baseline approve`), every cluster's
egress — its subnets, their route tables, where longest-prefix match over each table sends every
part of the address space, where each subnet's public traffic is steered (which firewall, or the
next hop that lets it out unfiltered) and the traffic that firewall allows from the subnet — must
equal the approved one. Routes and traffic are computed, not read off their text: renaming or
splitting a rule, splitting a CIDR, moving addresses into an IP group, or splitting a route into
two half-prefix routes to the same next hop is not drift; widening an IP group's contents, or a
narrower route sending a block elsewhere, is. An approval written by an older version (format 1
or 2) is refused with a request to re-approve. Clusters missing from the approval and approved
clusters that disappeared are reported too. Without an approved baseline the check has nothing
to compare and reports nothing.

**Why it matters**
A path can change and stay "compliant" — a next hop moved to another firewall, a new rule that
is narrow today — and still be a change nobody reviewed. Drift is how a locked-down estate
decays: the approval turns every such change into a visible, reviewable event.

**How to fix**
Review the change in the finding. If it was intended, re-approve (`aksaudit baseline approve
--snapshot NEW -o egress-baseline.json`) and commit the file; otherwise revert the change.
"""
from aksaudit.api import (
    T_CLUSTER, T_FIREWALL, T_IP_GROUP, T_POLICY, T_PUBLIC_IP, T_RCG, T_ROUTE_TABLE, T_VNET, CheckMeta, FixKind, Severity,
    ArmId,
    VIEW_FORMAT, cluster_views, diff_cluster_view, fail, passed, skipped,
)

META = CheckMeta(
    id="DRIFT001",
    slug="egress-path-drift",
    title="Egress path differs from the approved baseline",
    severity=Severity.MEDIUM,
    fix=FixKind.NONE,
    requires=(T_CLUSTER, T_VNET, T_ROUTE_TABLE, T_FIREWALL, T_POLICY, T_RCG, T_IP_GROUP, T_PUBLIC_IP),
    references=("https://learn.microsoft.com/azure/aks/limit-egress-traffic",),
    tags=("drift", "egress"),
    options={"approved": None},
)


def evaluate(estate, options):
    approved = options.get("approved")
    if not approved:
        return
    if approved.get("version") != VIEW_FORMAT:
        for view in sorted(cluster_views(estate).values(), key=lambda v: v["cluster"].lower()):
            yield skipped(view["cluster"], f"the approved egress baseline is format {approved.get('version')!r}, not "
                          f"{VIEW_FORMAT}: re-approve with 'aksaudit baseline approve'")
        return
    approved_clusters = approved.get("clusters", {})
    current = cluster_views(estate)
    gaps = {path.cluster.id.lower(): path.gap for path in estate.egress_paths if path.gap}
    for key, view in sorted(current.items()):
        cluster_id = view["cluster"]
        if key in gaps:
            yield skipped(cluster_id, f"egress path not fully readable: {gaps[key]}")
        elif key not in approved_clusters:
            yield fail(cluster_id, f"Cluster '{view['name']}' is not in the approved egress baseline.",
                       locus="unapproved", evidence={"changes": ["cluster not approved"], "current": view})
        else:
            changes = diff_cluster_view(approved_clusters[key], view)
            if changes:
                yield fail(cluster_id, f"Cluster '{view['name']}' egress path changed: " + "; ".join(changes),
                           evidence={"changes": changes})
            else:
                yield passed(cluster_id)
    seen_subscriptions = {ArmId.parse(key).subscription for key in (*estate.vnets, *estate.clusters)} - {""}
    for key, view in sorted(approved_clusters.items()):
        if key in current:
            continue
        subscription = ArmId.parse(key).subscription
        if estate.is_rejected(view["cluster"]) or subscription not in seen_subscriptions:
            yield skipped(view["cluster"], f"cannot tell whether it still exists: {estate.gap(view['cluster'])}",
                          locus="disappeared")
        else:
            yield fail(view["cluster"], f"Approved cluster '{view['name']}' is no longer in the estate.",
                       locus="disappeared", evidence={"changes": ["cluster disappeared"]})
