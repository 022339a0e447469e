"""The job summary of an upload: what reached code scanning, what was held back and why, which
scopes are missing, and which accepted risks were dismissed or reopened.

Gap reasons quote resource ids and messages from the estate, so every such cell is a code span
(`aksaudit.reports.markdown.code`); lists are capped to keep the summary far below GitHub's
1 MiB limit at any tenant size.
"""
from __future__ import annotations

from aksaudit.reports.markdown import code

from .upload import Outcome

MAX_ROWS = 50


def _more(total: int) -> list[str]:
    return [f"\n… and {total - MAX_ROWS:,} more." ] if total > MAX_ROWS else []


def render(outcome: Outcome) -> str:
    applied = outcome.applied
    lines = ["## aksaudit: code scanning upload", "",
             "| | |", "|---|---|",
             f"| Subscriptions uploaded and processed | {len(outcome.uploaded):,} of {len(outcome.scanned):,} "
             f"in {outcome.uploads:,} upload(s) |",
             f"| Held back (data gaps, alerts left as they were) | {len(outcome.held_back):,} |",
             f"| Rejected uploads | {len(outcome.rejections):,} |",
             f"| Accepted risks dismissed / updated / reopened | {applied.get('dismiss', 0):,} / "
             f"{applied.get('update', 0):,} / {applied.get('reopen', 0):,} |"]
    absent = dict(outcome.triage.absent) if outcome.triage else {}
    for category in outcome.previous_absent:
        absent.setdefault(category, 0)
    lines.append(f"| Scopes absent from this scan (not closed) | {len(absent):,} |")
    if outcome.rejections:
        lines += ["", "### Rejected uploads", "", "| Categories | GitHub said |", "|---|---|"]
        for rejection in outcome.rejections[:MAX_ROWS]:
            categories = ", ".join(rejection.categories[:3]) + (" …" if len(rejection.categories) > 3 else "")
            lines.append(f"| {code(categories)} | {code('; '.join(rejection.errors))} |")
        lines += _more(len(outcome.rejections))
    if outcome.held_back:
        lines += ["", "### Held back: not uploaded, because part of their data could not be read", "",
                  "Their alerts stay as the last complete scan left them. The first gap is shown; the SARIF file "
                  "and the JSON results list them all.", "",
                  "| Scope | Gaps | First gap |", "|---|---|---|"]
        for run in outcome.held_back[:MAX_ROWS]:
            lines.append(f"| {code(run.scope)} | {run.gap_count:,} | {code(run.gaps[0] if run.gaps else '')} |")
        lines += _more(len(outcome.held_back))
    if absent:
        lines += ["", "### Absent from this scan: alerts left open", "",
                  "These scopes were scanned before but not now. Their alerts are not closed: if a subscription was "
                  "retired, delete its configuration (category) on the repository's code scanning tool status page; "
                  "if it fell out of reach, restore the identity's access.", "",
                  "| Category | Open or dismissed alerts |", "|---|---|"]
        for category, count in list(absent.items())[:MAX_ROWS]:
            lines.append(f"| {code(category)} | {count:,} |")
        lines += _more(len(absent))
    higher = sum(run.shown_higher for run in outcome.uploaded)
    if higher:
        lines += ["", f"{higher:,} result(s) share a rule with a more severe result of the same check in the same "
                  "subscription: code scanning shows one severity per rule, so their alerts show the higher one "
                  "(the JSON and HTML reports have each finding's own)."]
    unmatched = outcome.triage.unmatched_suppressed if outcome.triage else ()
    if unmatched:
        lines += ["", f"{len(unmatched):,} accepted risk(s) had no alert to dismiss yet; the next run dismisses them."]
    if outcome.action_errors:
        lines += ["", "### Alert updates that failed", ""]
        lines += [f"- {code(error)}" for error in outcome.action_errors[:MAX_ROWS]]
        lines += _more(len(outcome.action_errors))
    return "\n".join(lines) + "\n"
