"""Who changed it, and when: Resource Graph change records attached to the findings that need them.

Which findings: every new one (baseline state `new` or `reappeared`; every finding when there is
no baseline) and every DRIFT001. Which resources: the one the finding points at and its ARM
parents (a route's changes may be recorded on its route table, a subnet's on its VNet, a rule
collection group's on its policy); for DRIFT001 also every resource on the cluster's egress
path, now and as approved (subnets, route tables, firewalls, policies, rule collection groups),
since the finding is about the path as a whole.

The history goes into the evidence as `change_history`: `{"available": true, "changes": [...]}`
with the newest `PER_FINDING` changes, or `{"available": false, "reason": ...}` when it is not
known: an offline scan, or a change query that failed. It is context, not a verdict: a missing
history never makes the compliance result incomplete.
"""
from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from aksaudit.collect.changes import RETENTION_DAYS, ChangeHistory
from aksaudit.results.scan_result import ScanResult
from aksaudit.results.findings import Finding
from aksaudit.model.estate import Estate
from aksaudit.model.row_fields import id_key
from aksaudit.analysis.rulesets import effective_rules

DRIFT_CHECK = "DRIFT001"
PER_FINDING = 10
OFFLINE_REASON = "offline scan: change history needs a live scan"
NEW_STATES = ("", "new", "reappeared")  # "": no baseline, so every finding is news


def wants_history(finding: Finding) -> bool:
    return finding.check_id == DRIFT_CHECK or finding.baseline_state in NEW_STATES


def lineage(resource_id: str) -> list[str]:
    """The id and its ARM parents up to the top-level resource:
    .../routeTables/rt/routes/r -> [.../routes/r, .../routeTables/rt]."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return [resource_id] if resource_id else []
    top = lowered.index("providers") + 4  # providers/<namespace>/<type>/<name>
    ids = []
    end = len(parts)
    while end >= top:
        ids.append("/" + "/".join(parts[:end]))
        end -= 2
    return ids or [resource_id]


def egress_ids(estate: Estate, approved: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Per cluster (lower-cased id): the resources its egress path is made of, now and as approved."""
    found: dict[str, dict[str, str]] = {}

    def add(cluster_id: str, *resource_ids: str) -> None:
        bucket = found.setdefault(id_key(cluster_id), {})
        for resource_id in resource_ids:
            if resource_id:
                bucket.setdefault(id_key(resource_id), resource_id)

    for path in estate.egress_paths:
        add(path.cluster.id, path.cluster.id, path.subnet_id)
        if path.vnet is not None:
            add(path.cluster.id, path.vnet.id)
        if path.route_table is not None:
            add(path.cluster.id, path.route_table.id, *(route.id for route in path.route_table.routes))
        for firewall in path.firewalls:
            add(path.cluster.id, firewall.id, firewall.policy_id, *effective_rules(estate, firewall).owner_ids)
    clusters = (approved or {}).get("clusters") if isinstance(approved, Mapping) else None
    for key, view in (clusters or {}).items():
        if not isinstance(view, Mapping):
            continue
        cluster_id = str(view.get("cluster") or key)
        add(cluster_id, cluster_id)
        for subnet in (view.get("subnets") or {}).values():
            if isinstance(subnet, Mapping):
                add(cluster_id, str(subnet.get("subnet") or ""), str(subnet.get("route_table") or ""))
        for firewall in (view.get("firewalls") or {}).values():
            if isinstance(firewall, Mapping):
                add(cluster_id, str(firewall.get("firewall") or ""), str(firewall.get("policy") or ""))
    return {key: list(ids.values()) for key, ids in found.items()}


def affected_ids(finding: Finding, egress: Mapping[str, list[str]]) -> list[str]:
    """The resources whose changes explain this finding (the finding's own first)."""
    ids = dict.fromkeys(lineage(finding.resource_id))
    if finding.check_id == DRIFT_CHECK:
        for resource_id in egress.get(id_key(finding.resource_id), ()):
            ids.update(dict.fromkeys(lineage(resource_id)))
    return list(ids)


def wanted(result: ScanResult, estate: Estate, approved: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Fingerprint -> affected ids, for every finding that gets a change history."""
    egress = egress_ids(estate, approved) if any(f.check_id == DRIFT_CHECK for f in result.findings) else {}
    return {f.fingerprint: affected_ids(f, egress) for f in result.findings if wants_history(f)}


def _with(finding: Finding, history: Mapping[str, Any]) -> Finding:
    return replace(finding, evidence=MappingProxyType({**finding.evidence, "change_history": history}))


def unavailable(result: ScanResult, reason: str = OFFLINE_REASON) -> ScanResult:
    """Every finding that would get a history says it is unavailable, and why."""
    entry = {"available": False, "reason": reason}
    return replace(result, findings=tuple(_with(f, entry) if wants_history(f) else f for f in result.findings))


def attach(result: ScanResult, history: ChangeHistory, wanted_ids: Mapping[str, list[str]]) -> ScanResult:
    """Each wanted finding's changes, newest first, at most PER_FINDING; a failed query becomes
    'unavailable' on the findings it concerned and a warning on the scan (never a gap)."""
    findings = []
    for finding in result.findings:
        ids = wanted_ids.get(finding.fingerprint)
        if ids is None:
            findings.append(finding)
            continue
        changes, reasons = history.of(ids)
        if reasons and not changes:
            entry: dict[str, Any] = {"available": False, "reason": "; ".join(reasons)}
        else:
            entry = {"available": True, "window_days": RETENTION_DAYS,
                     "changes": [c.as_evidence() for c in changes[:PER_FINDING]]}
            if len(changes) > PER_FINDING:
                entry["more"] = len(changes) - PER_FINDING
            if reasons:
                entry["partial"] = "; ".join(reasons)
        findings.append(_with(finding, entry))
    warnings = tuple(f"change history unavailable: {error}" for error in history.errors)
    return replace(result, findings=tuple(findings), warnings=result.warnings + warnings)


def all_ids(wanted_ids: Mapping[str, Iterable[str]]) -> list[str]:
    return list(dict.fromkeys(i for ids in wanted_ids.values() for i in ids))
