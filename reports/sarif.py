"""SARIF 2.1.0 for GitHub code scanning: a pure function of the scan result.

Live Azure resources are not files, and code scanning rejects a whole upload when one result
lacks a physical location or uses a URI scheme other than the checkout's. So each result points
at a scheme-less relative pseudo-path `azure/<lower-cased ARM id>` with `startLine: 1`, and
carries its own `primaryLocationLineHash` (upload-sarif cannot compute one for a file that does
not exist). Both derive only from the check id, the lower-cased id and the locus, so an alert
keeps its identity across scans, id casing and rewording.

One run per file: `--sarif` writes the category `aksaudit/all/`, `--sarif-dir` one file per
subscription (`aksaudit/subscription-<id>/`). A scope with no failures still gets a run with
`results: []`, which is what closes its fixed alerts. Only failures become results; a
suppressed failure stays one, carrying a SARIF `suppressions` entry with its justification
(code scanning ignores it; `aksaudit.github` dismisses the alert instead).

Completeness is decided per run: a subscription whose data had a gap (a skipped outcome on one of
its resources, its scope unreadable, or a gap of the whole scan) gets `executionSuccessful:
false` and its reasons in `properties.gaps`, and is never uploaded, because its empty or partial
run would close alerts on resources that were not read. An unreadable subscription still gets
its file, so the uploader can name it.

Code scanning labels an alert from its rule's `security-severity` only, so each run's rule for a
check carries the severity of that check's results in the run (configuration overrides and
per-finding severities included), while the rule id stays the check id: see docs/github.md.

Messages quote resource names, which anyone who can create a resource chooses. A SARIF viewer
(GitHub's included) turns `[text](target)` in a plain-text message into a link (SARIF 2.1.0
§3.11.6), so every '[' and ']' in message text is escaped as the spec prescribes, and control
and bidi characters are replaced: the alert shows the name as text, never as a link or image.
Ids in locations and properties stay exact: they are data, not display text.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from aksaudit.run.engine import ScanResult
from aksaudit.results.findings import Finding, Severity, subscription_of
from aksaudit.model.row_fields import last_segment

from .sarif_rules import INFORMATION_URI, LEVEL, rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 5000  # GitHub shows only the top 5,000 results of a run; we choose which ones
MAX_LISTED_GAPS = 50  # reasons written into a run; the count says how many there were
ALL_SCOPE = "all"
NO_SUBSCRIPTION_SCOPE = "tenant"  # findings on ids outside any subscription
REGION = {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2}
_SAFE_SCOPE = re.compile(r"[^a-z0-9-]")
# C0 and C1 controls except newline and tab, and the bidi controls that reorder what is shown.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BRACKET = re.compile(r"(\\*)([\[\]])")


def message_text(text: str) -> str:
    """Plain text no SARIF viewer renders as an embedded link (brackets escaped, backslashes before
    them doubled so a name cannot cancel the escape) and with nothing that is not shown as itself."""
    text = _UNSHOWABLE.sub("\ufffd", text)
    return _BRACKET.sub(lambda m: m.group(1) * 2 + "\\" + m.group(2), text)


@dataclass(frozen=True)
class Run:
    """What one SARIF run holds: its scope and the findings kept after the cap."""

    scope: str
    findings: tuple[Finding, ...]
    omitted: int  # failures dropped by the cap (the lowest severities)
    gaps: tuple[str, ...] = ()  # why this scope was not read completely (empty: complete)

    @property
    def complete(self) -> bool:
        return not self.gaps


def artifact_uri(resource_id: str) -> str:
    """`azure/<lower-cased id>`: relative, no scheme, no leading slash, every odd byte encoded.

    Empty segments are dropped and dot segments encoded, so no hostile id can climb out of
    `azure/` or turn into something a URI parser would normalise away.
    """
    segments = [s for s in resource_id.strip().lower().split("/") if s]
    return "/".join(["azure", *(("%2E" * len(s)) if set(s) == {"."} else quote(s, safe="") for s in segments)])


def line_hash(finding: Finding) -> str:
    """CodeQL's `<16 hex>:<occurrence>` shape, from the finding's stable fingerprint."""
    return f"{finding.fingerprint[:16]}:1"


def _capped(findings: Iterable[Finding]) -> tuple[tuple[Finding, ...], int]:
    """Highest severities first, ties broken by stable identity, so the cut is deterministic."""
    ordered = sorted(findings, key=lambda f: (*f.sort_key(), f.fingerprint))
    return tuple(ordered[:MAX_RESULTS]), max(0, len(ordered) - MAX_RESULTS)


def scope_name(subscription_id: str) -> str:
    """A category segment and file name: no '/', no path tricks, distinct for distinct inputs."""
    if not subscription_id:
        return NO_SUBSCRIPTION_SCOPE
    safe = _SAFE_SCOPE.sub("-", subscription_id.lower())
    if safe != subscription_id.lower():
        safe += "-" + hashlib.sha256(subscription_id.encode("utf-8")).hexdigest()[:8]
    return f"subscription-{safe}"


def unreadable_subscriptions(result: ScanResult) -> tuple[str, ...]:
    """Subscriptions the collector named unreadable (lower-cased), from the scan's snapshot meta."""
    named = (result.meta or {}).get("unreadable_subscriptions") or ()
    return tuple(sorted({str(s).lower() for s in named if str(s).strip()}))


def scope_gaps(result: ScanResult) -> tuple[dict[str, list[str]], list[str]]:
    """Gaps by scope name, and the gaps no single subscription owns (they hold back every scope).

    A skipped outcome belongs to its resource's subscription; an error belongs to the
    subscriptions it names; anything else (a check that crashed, a row that could not be read)
    is the whole scan's, because any subscription may have lost results to it.
    """
    by_scope: dict[str, list[str]] = {}
    everywhere: list[str] = []
    unreadable = unreadable_subscriptions(result)
    known = sorted({*result.subscriptions, *unreadable, *(f.subscription_id for f in result.findings)} - {""},
                   key=len, reverse=True)
    for error in result.errors:
        named = [s for s in known if s in error.lower()]
        if not named:
            everywhere.append(f"scan-wide gap: {error}")
        for subscription in named:
            by_scope.setdefault(scope_name(subscription), []).append(error)
    for subscription in unreadable:  # named unreadable by the collector, whatever its errors said
        by_scope.setdefault(scope_name(subscription), []).append(f"subscription {subscription} could not be read")
    for skip in result.skipped:
        reason = f"{skip.check_id} skipped on {skip.resource_id}: {skip.reason}"
        subscription = subscription_of(skip.resource_id)
        if subscription:
            by_scope.setdefault(scope_name(subscription), []).append(reason)
        else:
            everywhere.append(reason)
    return by_scope, everywhere


def plan_runs(result: ScanResult, per_subscription: bool = False) -> tuple[Run, ...]:
    """The runs to write: one for the whole scan, or one per subscription seen (clean and unreadable
    ones too), each with the gaps that keep it from being uploaded."""
    by_scope, everywhere = scope_gaps(result)
    if not per_subscription:
        kept, omitted = _capped(result.findings)
        gaps = [*everywhere, *(gap for scope in sorted(by_scope) for gap in by_scope[scope])]
        if not result.complete and not gaps:
            gaps = ["the scan is incomplete"]
        return (Run(ALL_SCOPE, kept, omitted, tuple(gaps)),)
    groups: dict[str, list[Finding]] = {scope_name(s): [] for s in (*result.subscriptions, *unreadable_subscriptions(result))}
    for finding in result.findings:
        groups.setdefault(scope_name(finding.subscription_id), []).append(finding)
    return tuple(Run(scope, *_capped(findings), tuple([*everywhere, *by_scope.get(scope, ())]))
                 for scope, findings in sorted(groups.items()))


def _suppressions(finding: Finding) -> dict[str, Any]:
    """An accepted risk stays a result, marked: code scanning still opens an alert for it, which
    `aksaudit.github` dismisses with this justification (and reopens once it is gone)."""
    if finding.suppression is None:
        return {}
    reason = str(finding.suppression.get("reason") or "accepted risk")
    expires = finding.suppression.get("expires")
    justification = f"{reason} (until {expires})" if expires else reason
    return {"suppressions": [{"kind": "external", "status": "accepted", "justification": justification}]}


def _suppression_property(finding: Finding) -> dict[str, Any]:
    """The suppression's parts, for the uploader's dismissal comment (ignored by code scanning)."""
    if finding.suppression is None:
        return {}
    return {"suppression": {key: finding.suppression.get(key) for key in ("reason", "expires", "source")}}


def last_change_line(finding: Finding) -> str:
    """'Last change: <time> by <who> (<operation>)' from the finding's change history ('' if none).
    The time, not the actor, is what is always known; a missing actor is said, not guessed."""
    history = finding.evidence.get("change_history")
    if not isinstance(history, Mapping) or not history.get("available"):
        return ""
    changes = history.get("changes") or ()
    latest = changes[0] if changes and isinstance(changes[0], Mapping) else None
    if latest is None:
        return ""
    line = f"Last change: {latest.get('timestamp') or 'unknown time'} by {latest.get('changed_by') or 'unknown'}"
    details = [str(latest[key]) for key in ("operation",) if latest.get(key)]
    return line + (f" ({', '.join(details)})" if details else "")


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    text = finding.message.strip() or finding.title
    last = last_change_line(finding)
    return {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index[finding.check_id],
        "level": LEVEL[finding.severity],
        "message": {"text": message_text(f"{text}\n{last}" if last else text)},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": artifact_uri(finding.resource_id)}, "region": dict(REGION)},
            "logicalLocations": [{"name": last_segment(finding.resource_id), "fullyQualifiedName": finding.resource_id,
                                  "kind": "resource"}],
        }],
        "partialFingerprints": {"primaryLocationLineHash": line_hash(finding)},
        "properties": {
            "severity": finding.severity.value,
            "azure": {"resourceId": finding.resource_id, "subscriptionId": finding.subscription_id,
                      "locus": finding.locus},
            "fingerprint": finding.fingerprint,
            **_suppression_property(finding),
        },
        **_suppressions(finding),
    }


def _notifications(run: Run) -> list[dict[str, Any]]:
    notes = [{"level": "error", "message": {"text": message_text(f"Scan incomplete: {gap}")}}
             for gap in run.gaps[:MAX_LISTED_GAPS]]
    if len(run.gaps) > MAX_LISTED_GAPS:
        notes.append({"level": "error", "message": {"text": f"... and {len(run.gaps) - MAX_LISTED_GAPS} more gap(s)."}})
    if run.omitted:
        notes.append({"level": "warning", "message": {"text": truncation_warning(run)}})
    return notes


def rule_severities(run: Run) -> dict[str, Severity]:
    """The label each check's rule carries in this run: its results' severity, the highest when
    they differ (configuration overrides give every result of a check the same one)."""
    shown: dict[str, Severity] = {}
    for finding in run.findings:
        current = shown.get(finding.check_id)
        if current is None or finding.severity.rank > current.rank:
            shown[finding.check_id] = finding.severity
    return shown


def shown_higher(run: Run) -> tuple[Finding, ...]:
    """Findings whose alert shows a higher severity than theirs (one check, several severities in
    one run: a rule carries one label)."""
    shown = rule_severities(run)
    return tuple(f for f in run.findings if shown[f.check_id] is not f.severity)


def truncation_warning(run: Run) -> str:
    return (f"SARIF run aksaudit/{run.scope}/ holds the {MAX_RESULTS} most severe of "
            f"{MAX_RESULTS + run.omitted} failures; {run.omitted} lower-severity ones are only in the other reports.")


def run_dict(result: ScanResult, run: Run) -> dict[str, Any]:
    severities = rule_severities(run)
    used = {finding.check_id for finding in run.findings}
    # The whole-scan run documents every check that ran; a subscription's run only the rules its
    # results use: at 2,000 subscriptions, twenty help texts in every clean run would be most of
    # what is uploaded, for nothing code scanning shows.
    rules = [rule(check, severities.get(check.id)) for check in sorted(result.checks_run, key=lambda c: c.id)
             if run.scope == ALL_SCOPE or check.id in used]
    rule_index = {r["id"]: index for index, r in enumerate(rules)}
    for finding in run.findings:  # a finding of a check that is no longer loaded still needs a rule
        if finding.check_id not in rule_index:
            rule_index[finding.check_id] = len(rules)
            rules.append({"id": finding.check_id, "shortDescription": {"text": finding.title},
                          "fullDescription": {"text": finding.title}, "help": {"text": finding.title}})
    return {
        "tool": {"driver": {"name": "aksaudit", "semanticVersion": result.tool_version,
                            "informationUri": INFORMATION_URI, "rules": rules}},
        "automationDetails": {"id": f"aksaudit/{run.scope}/"},
        "invocations": [{"executionSuccessful": run.complete, "toolExecutionNotifications": _notifications(run)}],
        "results": [_result(finding, rule_index) for finding in run.findings],
        "properties": {"complete": run.complete, "omittedResults": run.omitted,
                       "gaps": list(run.gaps[:MAX_LISTED_GAPS]), "gapCount": len(run.gaps),
                       "shownHigher": sorted(f.fingerprint for f in shown_higher(run))},
    }


def sarif_log(result: ScanResult, run: Run) -> dict[str, Any]:
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run_dict(result, run)]}


def _dump(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def render(result: ScanResult) -> str:
    """The whole scan as one run (category `aksaudit/all/`), for `--sarif PATH`."""
    return _dump(sarif_log(result, plan_runs(result)[0]))


def render_per_subscription(result: ScanResult) -> dict[str, str]:
    """File name -> SARIF text, one per subscription, for `--sarif-dir DIR`."""
    return {f"{run.scope}.sarif": _dump(sarif_log(result, run)) for run in plan_runs(result, per_subscription=True)}


def warnings(result: ScanResult, per_subscription: bool = False) -> list[str]:
    """What the caller should tell the user: runs cut by the cap, and upload limits at risk."""
    runs = plan_runs(result, per_subscription)
    found = [truncation_warning(run) for run in runs if run.omitted]
    held = [run.scope for run in runs if not run.complete]
    if held and per_subscription:
        found.append(f"the scan is incomplete for {len(held)} of {len(runs)} subscription(s): their files say "
                     "executionSuccessful false and `python -m aksaudit.github upload` holds them back, because "
                     "uploading them would mark alerts on resources that were not read as fixed")
    elif held:
        found.append("the scan is incomplete: uploading this SARIF would mark alerts on resources it could not read "
                     "as fixed; upload only complete scans (exit code other than 3)")
    if len(runs) > 20:
        found.append(f"{len(runs)} SARIF files: code scanning takes at most 20 runs per upload; "
                     "upload them with `python -m aksaudit.github upload`, which batches them.")
    return found
