"""One job's upload: every complete subscription in batches, each waited for until processed,
then accepted risks dismissed (and expired ones reopened) on the alerts of what was uploaded.

Subscriptions with a data gap are held back: their runs would mark alerts on resources that
were not read as fixed. Scopes with alerts on GitHub (or in the previous result) that this scan
did not produce at all are reported, never closed: only a human knows whether a subscription
was retired or merely fell out of the scan's reach.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from .batches import Batch, plan_batches
from .client import ApiError, CodeScanning
from .runs import SarifRun, category_key, read_sarif_dir
from .triage import Triage, triage

TOOL_NAME = "aksaudit"


@dataclass(frozen=True)
class Rejection:
    categories: tuple[str, ...]
    errors: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    scanned: tuple[SarifRun, ...]
    uploaded: tuple[SarifRun, ...]  # processed: their categories are current on GitHub
    held_back: tuple[SarifRun, ...]
    uploads: int  # batches sent
    rejections: tuple[Rejection, ...]
    triage: Triage | None
    applied: Mapping[str, int] = field(default_factory=dict)  # dismiss | update | reopen -> count
    action_errors: tuple[str, ...] = ()
    previous_absent: tuple[str, ...] = ()  # categories of the previous result missing now

    @property
    def ok(self) -> bool:
        return not self.rejections and not self.action_errors


def previous_categories(path: str | Path) -> tuple[str, ...]:
    """Categories of a previous scan: a SARIF directory, or a JSON v1 result (its findings'
    subscriptions, plus `scan.subscriptions` where the result lists them)."""
    from aksaudit.reports.sarif import scope_name
    source = Path(path)
    if source.is_dir():
        return tuple(category_key(run.category) for run in read_sarif_dir(source))
    document = json.loads(source.read_text(encoding="utf-8"))
    subscriptions = {str(f.get("subscription_id", "")) for f in document.get("findings", ())}
    subscriptions |= {str(s) for s in (document.get("scan") or {}).get("subscriptions", ()) or ()}
    return tuple(sorted(f"aksaudit/{scope_name(s)}" for s in subscriptions))


def _send(client: CodeScanning, batches: Sequence[Batch], commit_sha: str, ref: str) -> tuple[dict[str, Batch], list[Rejection]]:
    sent, rejected = {}, []
    for batch in batches:
        try:
            sent[client.upload(batch.gzipped, commit_sha, ref)] = batch
        except ApiError as error:
            rejected.append(Rejection(batch.categories, (str(error),)))
    return sent, rejected


def _wait(client: CodeScanning, sent: Mapping[str, Batch], poll_interval: float, timeout: float,
          clock: Callable[[], float], sleep: Callable[[float], None]) -> tuple[list[SarifRun], list[Rejection]]:
    """Poll every upload until processed; a failed one is a rejection with GitHub's errors."""
    pending = dict(sent)
    done: list[SarifRun] = []
    rejected: list[Rejection] = []
    deadline = clock() + timeout
    while pending:
        for sarif_id, batch in list(pending.items()):
            try:
                status = client.processing(sarif_id)
            except ApiError as error:
                if error.status == 404:  # not visible yet right after the upload
                    continue
                rejected.append(Rejection(batch.categories, (str(error),)))
                del pending[sarif_id]
                continue
            state = status.get("processing_status")
            if state == "complete":
                done.extend(batch.runs)
                del pending[sarif_id]
            elif state == "failed":
                errors = tuple(str(e) for e in status.get("errors") or ()) or ("processing failed without errors",)
                rejected.append(Rejection(batch.categories, errors))
                del pending[sarif_id]
        if pending and clock() >= deadline:
            rejected.extend(Rejection(b.categories, (f"upload {i} not processed within {timeout:.0f} s",))
                            for i, b in pending.items())
            break
        if pending:
            sleep(poll_interval)
    return done, rejected


def upload(runs: Iterable[SarifRun], client: CodeScanning, *, commit_sha: str, ref: str, reason: str,
           previous: Iterable[str] = (), poll_interval: float = 5.0, timeout: float = 900.0,
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    scanned = tuple(runs)
    complete = tuple(r for r in scanned if r.complete)
    held = tuple(r for r in scanned if not r.complete)
    batches = plan_batches(complete)
    sent, rejected = _send(client, batches, commit_sha, ref)
    done, failed = _wait(client, sent, poll_interval, timeout, clock, sleep)
    rejected += failed
    current = {category_key(r.category) for r in scanned}
    previous_absent = tuple(sorted({category_key(c) for c in previous} - current))
    try:
        alerts = [a for state in ("open", "dismissed") for a in client.alerts(tool_name=TOOL_NAME, ref=ref, state=state)]
    except ApiError as error:
        return Outcome(scanned, tuple(done), held, len(batches), tuple(rejected), None,
                       action_errors=(f"alerts could not be listed: {error}",), previous_absent=previous_absent)
    decided = triage(done, scanned, alerts, reason)
    applied: dict[str, int] = {}
    errors = []
    for action in decided.actions:
        try:
            client.update_alert(action.number, action.state, action.reason, action.comment)
            applied[action.why] = applied.get(action.why, 0) + 1
        except ApiError as error:
            errors.append(f"alert {action.number} ({action.why}): {error}")
    return Outcome(scanned, tuple(done), held, len(batches), tuple(rejected), decided, applied, tuple(errors),
                   previous_absent)

