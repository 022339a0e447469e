"""Accepted risks shown as accepted: which alerts to dismiss, update or reopen. Pure: alerts and
uploaded results in, actions out.

Code scanning ignores SARIF `suppressions`, so a suppressed finding's alert is dismissed through
the API, with the suppression's reason and expiry in the comment. The comment starts with a
marker, so a later run knows which dismissals are aksaudit's: those it reopens when the
suppression expires or is removed; a dismissal someone made on GitHub is left as it is.

An alert is found by category, rule id and path (the resource); when one resource holds several
results of one rule, the message text (what the latest upload said) tells them apart.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .limits import MAX_DISMISSED_COMMENT
from .runs import SarifRun, UploadedResult, category_key

MARKER = "aksaudit: accepted risk"


@dataclass(frozen=True)
class Action:
    number: int
    state: str  # dismissed | open
    reason: str | None
    comment: str | None
    why: str  # dismiss | update | reopen


@dataclass(frozen=True)
class Triage:
    actions: tuple[Action, ...]
    unmatched_suppressed: tuple[UploadedResult, ...]  # accepted risks no alert was found for
    absent: Mapping[str, int]  # category -> its open or dismissed alerts, for scopes not in this scan


def dismissal_comment(suppression: Mapping[str, Any]) -> str:
    reason = str(suppression.get("reason") or "no reason given").strip()
    expires = suppression.get("expires")
    source = suppression.get("source")
    text = f"{MARKER} {'until ' + str(expires) if expires else 'with no expiry'}: {reason}"
    text += f" (from {source})" if source else ""
    return text if len(text) <= MAX_DISMISSED_COMMENT else text[: MAX_DISMISSED_COMMENT - 1] + "…"


def _instance(alert: Mapping[str, Any]) -> Mapping[str, Any]:
    return alert.get("most_recent_instance") or {}


def _alert_key(alert: Mapping[str, Any]) -> tuple[str, str, str]:
    instance = _instance(alert)
    return (category_key(str(instance.get("category", ""))), str((alert.get("rule") or {}).get("id", "")),
            str((instance.get("location") or {}).get("path", "")))


def match(runs: Iterable[SarifRun], alerts: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], UploadedResult]]:
    """(alert, result) pairs: by category, rule and path, then by message where those repeat."""
    index: dict[tuple[str, str, str], list[UploadedResult]] = {}
    for run in runs:
        for result in run.results:
            index.setdefault((category_key(run.category), result.rule_id, result.path), []).append(result)
    pairs = []
    for alert in alerts:
        candidates = index.get(_alert_key(alert), [])
        if len(candidates) > 1:
            text = str((_instance(alert).get("message") or {}).get("text", ""))
            candidates = [c for c in candidates if c.message == text]
        if len(candidates) == 1:
            pairs.append((alert, candidates[0]))
    return pairs


def _ours(alert: Mapping[str, Any]) -> bool:
    return str(alert.get("dismissed_comment") or "").startswith(MARKER)


def decide(alert: Mapping[str, Any], result: UploadedResult, reason: str) -> Action | None:
    state = alert.get("state")
    number = int(alert["number"])
    if result.suppression is not None:
        comment = dismissal_comment(result.suppression)
        if state == "open":
            return Action(number, "dismissed", reason, comment, "dismiss")
        if state == "dismissed" and _ours(alert) and (alert.get("dismissed_comment") != comment
                                                      or alert.get("dismissed_reason") != reason):
            return Action(number, "dismissed", reason, comment, "update")
        return None
    if state == "dismissed" and _ours(alert):
        return Action(number, "open", None, None, "reopen")
    return None


def triage(uploaded: Iterable[SarifRun], scanned: Iterable[SarifRun], alerts: Iterable[Mapping[str, Any]],
           reason: str) -> Triage:
    """Actions for the alerts of the uploaded runs, and the categories this scan did not produce.

    `scanned` is every run of this scan, held back ones included: a held-back subscription is
    not absent, only not uploaded.
    """
    uploaded = tuple(uploaded)
    alerts = tuple(alerts)
    current = {category_key(run.category) for run in uploaded}
    known = {category_key(run.category) for run in scanned}
    relevant = [a for a in alerts if _alert_key(a)[0] in current]
    pairs = match(uploaded, relevant)
    actions = tuple(action for alert, result in pairs if (action := decide(alert, result, reason)) is not None)
    matched = {id(result) for _, result in pairs}
    unmatched = tuple(r for run in uploaded for r in run.results if r.suppression is not None and id(r) not in matched)
    absent: dict[str, int] = {}
    for alert in alerts:
        category = _alert_key(alert)[0]
        if category.startswith("aksaudit/") and category not in known and alert.get("state") in ("open", "dismissed"):
            absent[category] = absent.get(category, 0) + 1
    return Triage(actions, unmatched, dict(sorted(absent.items())))
