"""The self-contained HTML report: one file, no network, safe with hostile resource names.

Jinja2 renders the static parts with autoescaping. The findings table and the egress diagrams
are drawn by inline JavaScript from embedded JSON (see embedded.py), so a scan with 10,000 findings
puts 100 rows in the DOM instead of 10,000, and every name reaches the page through
`textContent`, never as markup. What the page reads only when someone opens a finding or a
diagram (evidence, fix text, path boxes: most of the bytes) is packed apart in deflated groups,
so the browser reads and parses only what the table and the cluster list need before the page
is usable. The Content-Security-Policy allows exactly the inline script
and style by hash and nothing else: no fetches, images, fonts, frames or forms.
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from aksaudit.run.engine import ScanResult
from aksaudit.model.row_fields import id_key

from .controls_view import STATUS_LABELS, FrameworkView, framework_views
from .egress_diagram import BROKEN, MISSING, STAGE_FIELDS, UNKNOWN_STATE, stages
from .embedded import embed_json, intern_strings, pack_groups
from .json_report import finding_dict
from .overview import check_overview
from .remediation import check_templates, finding_blocks
from .sarif_rules import unwrap
from .terminal import short_id

MAX_LISTED = 200  # gaps and warnings listed in the page itself; the JSON output has them all
MAX_PER_CONTROL = 50  # clusters, findings and skipped outcomes listed under one control
# What only a finding's detail view reads, packed apart from what the table needs at load.
DETAIL_KEYS = ("evidence", "fix", "fingerprint")
PACKED_GROUP = 200  # findings or paths per packed group: one group is inflated when one of them is needed
PROBLEM_STATES = frozenset({BROKEN, MISSING, UNKNOWN_STATE})  # a cluster with such a box is flagged

def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str]:
    folder = files("aksaudit.reports") / "templates"
    return (folder / "report.js").read_text(encoding="utf-8"), (folder / "report.css").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("aksaudit.reports", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


def _check_doc(check) -> dict[str, Any]:
    return {
        "title": check.meta.title,
        "severity": check.meta.severity.value,
        "what": unwrap(check.section("What it checks")),
        "why": unwrap(check.section("Why it matters")),
        "fix": unwrap(check.section("How to fix")),
        # Only web links become links: a plugin's 'javascript:' reference stays text.
        "references": [ref for ref in check.meta.references if ref.startswith(("https://", "http://"))],
    }


def _script_lines(body: str) -> list[str]:
    return [line[4:] if line.startswith("    ") else line for line in body.rstrip("\n").split("\n")]


def report_data(result: ScanResult) -> dict[str, Any]:
    """Everything the page's script draws: findings, check explanations and egress paths."""
    findings = []
    by_id: dict[str, list[int]] = {}
    fixes_from = check_templates(result.checks_run)
    fixes = finding_blocks(result.findings, fixes_from)
    for index, (finding, fix) in enumerate(zip(result.findings, fixes)):
        row = finding_dict(finding)
        row["short"] = short_id(finding.resource_id)
        # The fix as the remediation script writes it: what to change (summary) and the block.
        # Lines, not one text: lines that repeat across findings (notes, guards) are then stored
        # once by `intern_strings`. The block's indentation inside the script is left out.
        row["fix"] = {"summary": fix.summary, "script": _script_lines(str(fix.body)), "mode": fix.mode_text,
                      "automated": finding.check_id in fixes_from and fix.resolves}
        findings.append(row)
        by_id.setdefault(id_key(finding.resource_id), []).append(index)
    skipped_ids = {id_key(s.resource_id) for s in result.skipped}
    # Boxes as positional rows: with tens of thousands of paths, repeating six keys per box
    # would be most of the page.
    paths = [{"cluster": p.cluster_name, "cluster_id": p.cluster_id, "subscription_id": p.subscription_id,
              "subnet": p.subnet_name,
              "stages": [[box[field] for field in STAGE_FIELDS] for box in stages(p, by_id, skipped_ids)]}
             for p in result.paths]
    return {
        "checks": {check.id: _check_doc(check) for check in result.checks_run},
        "findings": findings,
        "stage_fields": list(STAGE_FIELDS),
        "paths": paths,
    }


def _subscriptions(result: ScanResult) -> list[str]:
    return sorted({*result.subscriptions, *(f.subscription_id for f in result.findings)} - {""})


def control_findings(result: ScanResult, frameworks: tuple[FrameworkView, ...]) -> dict[str, dict[str, str]]:
    """Fingerprint -> what a link to that finding says, for the findings the Controls view lists.

    A fingerprint the scan has no finding for gets no entry: the page names it without a link.
    """
    wanted = {fingerprint for framework in frameworks for control in framework.controls
              for fingerprint in (*control.findings[:MAX_PER_CONTROL], *control.accepted[:MAX_PER_CONTROL])}
    found: dict[str, dict[str, str]] = {}
    for index, finding in enumerate(result.findings):
        if finding.fingerprint in wanted and finding.fingerprint not in found:
            # The finding's position in the page's data: fingerprints are packed with the details.
            found[finding.fingerprint] = {"index": index, "check_id": finding.check_id, "severity": finding.severity.value,
                                          "short": short_id(finding.resource_id), "locus": finding.locus,
                                          "message": finding.message}
    return found


def packed_apart(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """(what the page reads at load, what it reads only for an opened finding or a drawn path).

    Each finding keeps what the table, filters and search read; its `DETAIL_KEYS` go apart, in
    finding order. Each path keeps what the cluster list reads, whether any box has a problem
    and which findings sit on its boxes; its boxes go apart, in path order.
    """
    findings = [{key: row.pop(key) for key in DETAIL_KEYS if key in row} for row in data["findings"]]
    state_at, findings_at = STAGE_FIELDS.index("state"), STAGE_FIELDS.index("findings")
    boxes = []
    for path in data["paths"]:
        rows = path.pop("stages")
        path["problems"] = any(row[state_at] in PROBLEM_STATES for row in rows)
        path["findings"] = sorted({index for row in rows for index in row[findings_at]})
        boxes.append(rows)
    return data, {"findings": findings, "paths": boxes}


def render(result: ScanResult) -> str:
    script, style = _assets()
    data, apart = packed_apart(report_data(result))
    strings, data = intern_strings(data)
    csp = (f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    template = _environment().get_template("report.html.j2")
    frameworks = framework_views(result.controls)
    return template.render(
        result=result, csp=csp, script=Markup(script), style=Markup(style), data=embed_json(data),
        strings=embed_json(strings),
        packed=embed_json({"group": PACKED_GROUP, **{kind: pack_groups(items, PACKED_GROUP) for kind, items in apart.items()}}),
        counts=result.by_severity(), subscriptions=_subscriptions(result),
        check_ids=sorted({c.id for c in result.checks_run} | {f.check_id for f in result.findings}),
        overview=check_overview(result),
        skipped=result.skipped[:MAX_LISTED], warnings=result.warnings[:MAX_LISTED], max_listed=MAX_LISTED,
        egress=result.egress.get("clusters", []), egress_allowed=result.egress.get("allowed", {}),
        egress_approved=any("changes" in entry for entry in result.egress.get("clusters", [])),
        frameworks=frameworks, control_findings=control_findings(result, frameworks),
        status_labels=STATUS_LABELS, max_per_control=MAX_PER_CONTROL, short=short_id,
    )
