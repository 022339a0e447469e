"""Run the selected checks over an estate and turn their outcomes into a scan result.

Checks are pure; the engine adds identity (fingerprint, subscription), merges duplicate
outcomes (a route table shared by subnets is judged once, worst status wins), isolates a check
that raises, and decides completeness: any data gap makes the scan incomplete.
"""
from __future__ import annotations

import traceback
from typing import Any, Iterable, Mapping

from aksaudit import __version__
from aksaudit.results.findings import Finding, Outcome, Severity, Status, fingerprint, subscription_of
from aksaudit.results.scan_result import ScanResult, SkippedOutcome, now_iso
from aksaudit.model.estate import Estate
from aksaudit.results.cluster_concern import ClusterIndex
from aksaudit.results.path_summaries import summarize_paths
from aksaudit.run.registry import CheckDoc, LoadedCheck, Registry
from aksaudit.model.row_fields import id_key

_STATUS_WEIGHT = {Status.PASS: 0, Status.SKIPPED: 1, Status.ERROR: 2, Status.FAIL: 3}





def select_checks(registry: Registry, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> tuple[LoadedCheck, ...]:
    """Checks named by id, slug, alias or id prefix; unknown names are an error naming them."""
    def resolve(tokens: Iterable[str]) -> set[str]:
        ids = set()
        for token in tokens:
            checks = registry.matching(token)
            if not checks:
                raise ValueError(f"unknown check '{token}' (see 'aksaudit checks list')")
            ids.update(check.id for check in checks)
        return ids

    chosen = resolve(select) if list(select) else {c.id for c in registry.checks}
    dropped = resolve(ignore)
    return tuple(c for c in registry.checks if c.id in chosen and c.id not in dropped)


def _run_one(check: LoadedCheck, estate: Estate, options: Mapping[str, Any]) -> tuple[list[Outcome], str]:
    merged = {**check.meta.options, **options}
    try:
        return list(check.evaluate(estate, merged)), ""
    except Exception as error:  # a bug in one check must not hide the others' results
        frame = traceback.extract_tb(error.__traceback__)[-1]
        return [], f"check {check.id} failed: {type(error).__name__}: {error} (at {frame.filename}:{frame.lineno})"


def _merge(outcomes: Iterable[Outcome]) -> dict[tuple[str, str], Outcome]:
    """The worst outcome per (resource id key, lower-cased locus), keyed so: the scan then counts
    the resources evaluated without deriving each key again."""
    best: dict[tuple[str, str], Outcome] = {}
    for outcome in outcomes:
        key = (id_key(outcome.resource_id), outcome.locus.lower())
        current = best.get(key)
        if current is None or _STATUS_WEIGHT[outcome.status] > _STATUS_WEIGHT[current.status]:
            best[key] = outcome
    return best


def _subscriptions(estate: Estate, findings: Iterable[Finding]) -> tuple[str, ...]:
    """Subscriptions the scan read resources of (or found problems in), lower-cased and sorted."""
    indexes = (estate.clusters, estate.vnets, estate.route_tables, estate.firewalls, estate.policies,
               estate.rule_collection_groups, estate.ip_groups, estate.public_ips)
    seen = {subscription_of(key) for index in indexes for key in index} | {f.subscription_id for f in findings}
    return tuple(sorted(s for s in seen - estate.unreadable_scopes if s))


def run_scan(estate: Estate, checks: Iterable[LoadedCheck], *, options: Mapping[str, Mapping[str, Any]] | None = None,
             scopes: Iterable[str] = (), warnings: Iterable[str] = (), errors: Iterable[str] = (),
             started_at: str | None = None, meta: Mapping[str, Any] | None = None,
             severities: Mapping[str, Severity] | None = None) -> ScanResult:
    started = started_at or now_iso()
    options = options or {}
    checks = tuple(checks)
    all_warnings = list(warnings) + [r.describe() for r in estate.rejected] + list(estate.data_gaps)
    all_errors = list(errors)
    findings: list[Finding] = []
    skipped: list[SkippedOutcome] = []
    evaluated: set[str] = set()
    for check in checks:
        outcomes, error = _run_one(check, estate, options.get(check.id, {}))
        if error:
            all_errors.append(error)
        for (resource_key, _), outcome in _merge(outcomes).items():
            evaluated.add(resource_key)
            if outcome.status is Status.PASS:
                continue
            if outcome.status is Status.FAIL:
                findings.append(Finding(
                    check_id=check.id, title=check.meta.title,
                    severity=(severities or {}).get(check.id) or outcome.severity or check.meta.severity,
                    status=Status.FAIL, resource_id=outcome.resource_id, locus=outcome.locus,
                    subscription_id=subscription_of(outcome.resource_id), message=outcome.message,
                    evidence=outcome.evidence, fingerprint=fingerprint(check.id, outcome.resource_id, outcome.locus)))
            elif outcome.status in (Status.SKIPPED, Status.ERROR):
                skipped.append(SkippedOutcome(check.id, outcome.resource_id, outcome.locus, outcome.message))
    findings.sort(key=Finding.sort_key)
    skipped.sort(key=lambda s: (s.check_id, s.resource_id.lower(), s.locus))
    if estate.rejected:
        all_errors.append(f"{len(estate.rejected)} row(s) could not be read; results that depend on them are skipped")
    if estate.data_gaps:
        all_errors.append(f"{len(estate.data_gaps)} resource(s) lack data they always have; results that depend on "
                          "it are skipped")

    paths = summarize_paths(estate)
    index = ClusterIndex.of(paths)
    return ScanResult(
        tool_version=__version__, started_at=started, finished_at=now_iso(), scopes=tuple(scopes),
        warnings=tuple(all_warnings), errors=tuple(all_errors), findings=tuple(findings), skipped=tuple(skipped),
        checks_run=tuple(c.documentation for c in checks), resources_evaluated=len(evaluated), clusters_total=len(index.clusters),
        clusters_compliant=index.compliant(findings, skipped), meta=dict(meta or {}), paths=paths,
        subscriptions=_subscriptions(estate, findings),
    )
