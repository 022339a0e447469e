"""Reading a saved JSON v1 result back.

`scan --baseline` compares a scan with a saved one, and `remediate --from` renders fixes from
one; both read the file the same guarded way: anything that is not a JSON v1 result is an input
error naming the file and what is wrong, never a traceback.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .collect.snapshot import InputError
from .findings import Finding, Severity, Status, fingerprint, subscription_of


def read_document(path: str | Path) -> dict[str, Any]:
    """The parsed JSON v1 document at `path`."""
    name = str(path)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise InputError(f"{name}: no such file") from error
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{name}: cannot be read ({error})") from error
    except json.JSONDecodeError as error:
        raise InputError(f"{name}: is not valid JSON (line {error.lineno}: {error.msg})") from error
    if not isinstance(document, dict) or document.get("schema_version") != 1:
        raise InputError(f"{name}: not an aksaudit JSON v1 result (schema_version 1 expected)")
    return document


@dataclass(frozen=True)
class SavedResult:
    """The parts of a saved result that a later command acts on."""

    source: str
    tool_version: str
    started_at: str
    scopes: tuple[str, ...]
    complete: bool
    findings: tuple[Finding, ...]


def _text(item: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = item.get(key, None if required else "")
    if not isinstance(value, str):
        raise InputError(f"{where}: '{key}' is missing or not a string")
    return value


def finding_from_dict(item: Any, where: str) -> Finding:
    """A finding as `json_report.finding_dict` wrote it."""
    if not isinstance(item, dict):
        raise InputError(f"{where}: expected an object")
    check_id, resource_id = _text(item, "check_id", where), _text(item, "resource_id", where)
    locus = _text(item, "locus", where, required=False)
    try:
        severity, status = Severity(item.get("severity")), Status(item.get("status", "fail"))
    except ValueError as error:
        raise InputError(f"{where}: {error}") from error
    evidence = item.get("evidence") or {}
    suppression = item.get("suppression")
    if not isinstance(evidence, dict) or not (suppression is None or isinstance(suppression, dict)):
        raise InputError(f"{where}: 'evidence' and 'suppression' must be objects")
    return Finding(
        check_id=check_id, title=_text(item, "title", where, required=False), severity=severity, status=status,
        resource_id=resource_id, locus=locus,
        subscription_id=_text(item, "subscription_id", where, required=False) or subscription_of(resource_id),
        message=_text(item, "message", where, required=False), evidence=evidence,
        fingerprint=_text(item, "fingerprint", where, required=False) or fingerprint(check_id, resource_id, locus),
        baseline_state=_text(item, "baseline_state", where, required=False), suppression=suppression)


def load_result(path: str | Path) -> SavedResult:
    name = str(path)
    document = read_document(path)
    tool, scan = document.get("tool") or {}, document.get("scan") or {}
    items = document.get("findings", [])
    if not isinstance(items, list) or not isinstance(tool, dict) or not isinstance(scan, dict):
        raise InputError(f"{name}: 'tool', 'scan' and 'findings' do not have the JSON v1 shape")
    findings = tuple(finding_from_dict(item, f"{name}: findings[{index}]") for index, item in enumerate(items))
    scopes = scan.get("scopes") or []
    return SavedResult(name, str(tool.get("version", "")), str(scan.get("started_at", "")),
                       tuple(str(s) for s in scopes) if isinstance(scopes, list) else (),
                       bool(scan.get("complete", False)), findings)
