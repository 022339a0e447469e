"""`scan --redact-subscriptions`: subscription ids replaced by stable pseudonyms in what people read.

SARIF alerts, the HTML report, the Markdown step summary and the terminal summary of a public
repository's workflow are read by people who need the finding, not the subscription id (which
is half of what an attacker needs to address a resource). With the flag, those outputs are
rendered from a copy of the result in which every subscription id, wherever it appears (inside
resource ids, messages, evidence, gaps, scopes, egress paths), is `sub-` plus the first 8 hex
digits of an HMAC-SHA256 of the lower-cased id under a fixed product key. The same id always
gets the same pseudonym, in every scan and on every machine, so alerts and reports stay
comparable over time; the pseudonym cannot be turned back into the id, though someone who
already knows an id can check whether it is the one behind a pseudonym.

Fingerprints are left exactly as they are: they identify the problem (and the SARIF alert) by
the real id, so turning redaction on or off never opens or closes an alert by itself. The JSON
result, snapshots and remediation scripts keep the real ids: they are inputs to other commands
(`--baseline`, `remediate --from`, `az`), which need the resources' real addresses.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
from enum import Enum
from typing import Any, Callable, Iterable, Mapping

from aksaudit.results.scan_result import ScanResult

PSEUDONYM_KEY = b"aksaudit/subscription-pseudonym/v1"
# Fields that are identity or provenance, not display text: never rewritten.
KEEP_FIELDS = frozenset({"fingerprint", "checks_run", "tool_version", "started_at", "finished_at"})
_SEGMENT = re.compile(r"(/subscriptions/)([^/\s'\"`]+)", re.IGNORECASE)
_GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)


def pseudonym(subscription_id: str) -> str:
    """`sub-` + 8 hex digits, the same for every casing and spacing of the same id."""
    digest = hmac.new(PSEUDONYM_KEY, subscription_id.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"sub-{digest[:8]}"


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, Enum):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _strings(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            if field.name not in KEEP_FIELDS:
                yield from _strings(getattr(value, field.name))


def known_subscriptions(result: ScanResult) -> frozenset[str]:
    """Every subscription id the result mentions: the ones it scanned, and any inside an ARM id."""
    found = {s.lower() for s in result.subscriptions} | {f.subscription_id.lower() for f in result.findings}
    meta = result.meta or {}
    found |= {str(s).lower() for s in meta.get("unreadable_subscriptions", ()) or ()}
    found |= {str(s).lower() for s in (meta.get("subscription_names") or {})}
    for text in _strings(result):
        found |= {m.group(2).lower() for m in _SEGMENT.finditer(text)}
    return frozenset(s for s in found if s.strip())


def _text_rewriter(known: frozenset[str]) -> Callable[[str], str]:
    def rewrite(text: str) -> str:
        if text.strip().lower() in known:  # a field holding just the id (subscription_id, scopes lists)
            return pseudonym(text)
        text = _SEGMENT.sub(lambda m: m.group(1) + pseudonym(m.group(2)), text)
        return _GUID.sub(lambda m: pseudonym(m.group(0)) if m.group(0).lower() in known else m.group(0), text)
    return rewrite


def _rewrite(value: Any, text: Callable[[str], str]) -> Any:
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping):
        return {_rewrite(k, text): _rewrite(v, text) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_rewrite(item, text) for item in value)
    if isinstance(value, (set, frozenset)):
        return type(value)(_rewrite(item, text) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _rewrite(getattr(value, f.name), text) for f in dataclasses.fields(value)
                   if f.init and f.name not in KEEP_FIELDS}
        return dataclasses.replace(value, **changes)
    return value


def redact_result(result: ScanResult) -> ScanResult:
    """A copy of the result with every subscription id pseudonymised and fingerprints unchanged."""
    rewrite = _text_rewriter(known_subscriptions(result))
    meta = {k: v for k, v in (result.meta or {}).items() if k != "subscription_names"}  # names identify too
    return _rewrite(dataclasses.replace(result, meta=meta), rewrite)
