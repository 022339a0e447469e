#!/usr/bin/env python3
"""Scaffold a built-in check: `python scripts/new_check.py UDR009 route-to-nowhere --area routing`.

Writes checks/<area>/<id lower>_<slug with underscores>/ holding
  __init__.py        the docstring sections every check needs (What it checks / Why it matters /
                     How to fix), its CheckMeta, and an `evaluate` that raises until written;
  good.json          an estate that must produce no failure (empty until filled in);
  bad.json           an estate plus the exact set of expected failures (empty until filled in);
  remediation.sh.j2  the fix block, starting as a printed manual procedure;
and adds the module to checks/builtin.py, so `aksaudit checks list` shows the check at once:
the entry point returns that list at run time, so no reinstall is needed. Asks nothing; refuses
an id or folder that already exists. The fixture tests fail until the check and its fixtures are
written, which is the point.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ID_PATTERN = re.compile(r"^[A-Z]{2,8}[0-9]{3}$")
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
LIST_END = "\n)\n"

CHECK = '''"""{title}.

**What it checks**
Describe the resources this check reads and the condition that makes one fail; name the
fields (e.g. `properties.routes[].nextHopType`) so a reader can verify it against Azure.

**Why it matters**
Say what goes wrong for the cluster's egress when this condition holds.

**How to fix**
Say how to change the estate so the check passes (the `az` command or portal step).
"""
from aksaudit.api import CheckMeta, Severity

META = CheckMeta(
    id="{id}",
    slug="{slug}",
    title="{title}",
    severity=Severity.MEDIUM,
    requires=("microsoft.network/routetables",),  # the lower-case ARG types evaluate reads
    references=(),
)


def evaluate(estate, options):
    """Yield `fail(...)`, `passed(...)` or `skipped(...)` (from aksaudit.api) for each resource
    judged; `skipped` names the datum that could not be read, never `passed`."""
    raise NotImplementedError("{id} is scaffolded but not written yet")
'''

REMEDIATION = '''{{# {id}: the fix for one finding. Until an automated fix is written this block prints a
    manual procedure (resolves = false); see reports/remediation/ for the shared operations. #}}
{{% set resolves = false %}}
{{% set summary = "fix {id} on '" ~ resource.name ~ "' by hand" %}}
    begin {{{{ index | shq }}}} {{{{ ("{id} on " ~ resource.name) | comment | shq }}}}
    info 'No automated fix yet: follow the How to fix section of aksaudit checks explain {id}.'
'''


def folder_name(check_id: str, slug: str) -> str:
    return f"{check_id.lower()}_{slug.replace('-', '_')}"


def scaffold(root: Path, check_id: str, slug: str, area: str, title: str) -> Path:
    if not ID_PATTERN.match(check_id):
        raise ValueError(f"check id {check_id!r}: expected capitals then three digits, e.g. UDR009")
    if not SLUG_PATTERN.match(slug):
        raise ValueError(f"slug {slug!r}: expected lower-case words joined by '-', e.g. route-to-nowhere")
    if not re.match(r"^[a-z][a-z0-9_]*$", area):
        raise ValueError(f"area {area!r}: expected a lower-case package name, e.g. routing")
    checks = root / "checks"
    existing = [p for p in checks.glob(f"*/{check_id.lower()}_*") if p.is_dir()]
    if existing:
        raise ValueError(f"check id {check_id} is taken by {existing[0].relative_to(root)}")
    folder = checks / area / folder_name(check_id, slug)
    if not (checks / area / "__init__.py").exists():
        (checks / area).mkdir(parents=True, exist_ok=True)
        (checks / area / "__init__.py").write_text(f'"""Checks of the {area} area."""\n')
    folder.mkdir()
    (folder / "__init__.py").write_text(CHECK.format(id=check_id, slug=slug, title=title))
    (folder / "good.json").write_text(json.dumps(
        {"description": "An estate in which no resource fails the check.", "estate": []}, indent=2) + "\n")
    (folder / "bad.json").write_text(json.dumps(
        {"description": "An estate with the failures listed in expected: [check id, resource id, locus].",
         "estate": [], "expected": []}, indent=2) + "\n")
    (folder / "remediation.sh.j2").write_text(REMEDIATION.format(id=check_id))
    builtin = checks / "builtin.py"
    text = builtin.read_text()
    entry = f'    "{area}.{folder.name}",\n'
    head, sep, tail = text.partition(LIST_END)
    if not sep:
        raise ValueError(f"{builtin}: the BUILTIN_CHECKS tuple's closing ')' was not found")
    builtin.write_text(head + "\n" + entry.rstrip("\n") + sep + tail)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("check_id", metavar="ID", help="permanent id, e.g. UDR009")
    parser.add_argument("slug", help="lower-case words joined by '-', e.g. route-to-nowhere")
    parser.add_argument("--area", required=True, help="checks/<area>/ (routing, firewall, cluster, drift, ...)")
    parser.add_argument("--title", help="one line shown in reports (default: from the slug)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    title = args.title or args.slug.replace("-", " ").capitalize()
    try:
        folder = scaffold(args.root, args.check_id, args.slug, args.area, title)
    except (ValueError, OSError) as error:
        print(f"new_check: {error}", file=sys.stderr)
        return 2
    print(f"created {folder.relative_to(args.root)}/ and listed it in checks/builtin.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
