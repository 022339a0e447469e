"""Approved egress baselines and snapshot diffs, both built on the canonical egress view."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from aksaudit.collect.snapshot import InputError, read_json
from aksaudit.analysis.egress_view import VIEW_FORMAT, cluster_views, diff_cluster_view
from aksaudit.model.estate import Estate

FORMAT = "aksaudit-egress-baseline"
# 2: firewalls described by the traffic they allow per subnet. Version 1 files described them by
# rule names and text; comparing them with today's view would report every cluster as drifted,
# so they are refused with a request to re-approve (an error fails closed: no scan can read a
# stale approval as "no drift").
VERSION = VIEW_FORMAT


def approval_document(estate: Estate, *, source: str, approved_at: str) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "approved_at": approved_at, "source": source,
            "clusters": cluster_views(estate)}


def load_approval(path: str | Path) -> dict[str, Any]:
    name = str(path)
    document = read_json(path)
    older = {1: "firewall rules by name and text", 2: "routes by prefix"}
    if isinstance(document, dict) and document.get("format") == FORMAT and document.get("version") in older:
        version = document["version"]
        raise InputError(f"{name}: approved in egress view format {version} ({older[version]}), which "
                         f"this version no longer compares; re-approve with 'aksaudit baseline approve "
                         f"--snapshot SNAPSHOT -o {name}' after reviewing the estate")
    if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("version") != VERSION:
        raise InputError(f"{name}: not an aksaudit egress baseline ('format': '{FORMAT}', 'version': {VERSION})")
    if not isinstance(document.get("clusters"), dict):
        raise InputError(f"{name}: 'clusters' is missing or not an object")
    return document


def diff_estates(old: Estate, new: Estate) -> list[dict[str, Any]]:
    """Per cluster, the egress-relevant changes from OLD to NEW (clusters added/removed included)."""
    before, after = cluster_views(old), cluster_views(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            lines = ["cluster removed"]
        elif key not in before:
            lines = ["cluster added"]
        else:
            lines = diff_cluster_view(before[key], after[key])
        if lines:
            view = after.get(key) or before[key]
            changes.append({"cluster": view["cluster"], "name": view["name"], "changes": lines})
    return changes


def diff_text(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return "No egress-relevant changes.\n"
    out = []
    for item in changes:
        out.append(f"{item['name']} ({item['cluster']})")
        out.extend(f"  - {line}" for line in item["changes"])
    return "\n".join(out) + "\n"
