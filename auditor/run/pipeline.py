"""One scan, in one fixed order: read the source, evaluate the checks with the configuration's
options and severities, compare with the previous result, add who changed what, then apply
the configuration's suppressions as of the request's date, and judge the frameworks' controls.

The order is the same for every command. Comparing with the previous result comes before change
history, which is asked only for findings that are new by then; suppressions come last, so an
accepted risk is still compared and still gets its history, and stays in every report, marked. Controls are judged last, from the findings as reported: a
suppressed finding makes its controls an accepted risk, never satisfied.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Callable, Mapping

from aksaudit.analysis.effective_egress import effective_egress
from aksaudit.results.finding_baseline import apply_baseline
from aksaudit.run.bulk import gc_paused
from aksaudit.run.engine import ScanResult, now_iso, run_scan
from aksaudit.results.suppressions import apply_suppressions
from .control_results import controls_of
from .request import ScanRequest
from .sources import read_source, with_change_history

# Inputs a request carries for the checks, by the option name a check declares in its META to
# receive them: a check asks for an input by declaring the option, so no check is named here.
REQUEST_INPUTS: Mapping[str, Callable[[ScanRequest], Any]] = {
    "approved": lambda request: request.approved_egress,
}


def check_options(request: ScanRequest) -> dict[str, dict[str, Any]]:
    """Per check id, its options: the configuration's, then the request's inputs it declares."""
    options = {check_id: dict(values) for check_id, values in request.config.options.items()}
    for check in request.checks:
        for name, supply in REQUEST_INPUTS.items():
            value = supply(request)
            if name in check.meta.options and value is not None:
                options.setdefault(check.id, {})[name] = value
    return options


def unsupplied_checks(request: ScanRequest) -> frozenset[str]:
    """Checks that run without an input they declare and the request does not supply (a drift
    check without an approved baseline): they judge nothing, so no control takes them as evidence."""
    options = check_options(request)
    return frozenset(check.id for check in request.checks for name in REQUEST_INPUTS
                     if name in check.meta.options and options.get(check.id, {}).get(name) is None)


def run(request: ScanRequest) -> ScanResult:
    """The result of the request; see the module docstring for the order."""
    started = now_iso()
    collected = read_source(request.source, request.checks, check_options(request))
    snapshot = collected.snapshot
    with gc_paused():  # millions of short-lived acyclic objects on large estates: see aksaudit.run.bulk
        result = run_scan(collected.estate, request.checks, scopes=snapshot.scope_labels, started_at=started,
                          warnings=request.warnings, errors=snapshot.gaps if not snapshot.complete else (),
                          meta=snapshot.meta, options=check_options(request), severities=request.config.severity)
        result = replace(result, egress=effective_egress(collected.estate, request.approved_egress))
    if request.previous is not None:
        result = apply_baseline(result, request.previous)
    result = with_change_history(result, collected, request.source, request.approved_egress)
    result = apply_suppressions(result, request.config.suppressions, request.as_of or date.today())
    return replace(result, controls=controls_of(result, request.frameworks, unsupplied_checks(request)))
