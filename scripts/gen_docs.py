#!/usr/bin/env python3
"""Regenerate documentation derived from the check registry: the README rule table, one page
per check under docs/checks/ (plus its index), docs/configuration.md and docs/frameworks.md.

Only the checks aksaudit ships are documented, even when plugins are installed. `--check` exits 1
when a generated file is stale or orphaned instead of writing anything, so CI catches a check
whose docstring, metadata, fixtures or remediation template changed without its docs.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aksaudit.reports.control_docs import frameworks_page
from aksaudit.reports.check_docs import configuration_page, RULES_END, RULES_START, builtin_registry, check_pages, replace_block, rule_table, stale_pages, write_pages

ROOT = Path(__file__).resolve().parent.parent
CHECK_DOCS = ROOT / "docs" / "checks"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a generated file is out of date")
    args = parser.parse_args(argv)
    registry = builtin_registry()
    for problem in registry.problems:
        print(f"warning: {problem}", file=sys.stderr)

    readme = ROOT / "README.md"
    current = readme.read_text(encoding="utf-8")
    wanted_readme = replace_block(current, RULES_START, RULES_END, rule_table(registry, link_base="docs/checks/"))
    pages = check_pages(registry)
    differ, orphans = stale_pages(CHECK_DOCS, pages)

    configuration = ROOT / "docs" / "configuration.md"
    wanted_configuration = configuration_page(registry)
    configuration_stale = not configuration.is_file() or configuration.read_text(encoding="utf-8") != wanted_configuration
    frameworks = ROOT / "docs" / "frameworks.md"
    wanted_frameworks = frameworks_page()
    frameworks_stale = not frameworks.is_file() or frameworks.read_text(encoding="utf-8") != wanted_frameworks
    stale = ([str(readme.relative_to(ROOT))] if wanted_readme != current else []) + \
            (["docs/configuration.md"] if configuration_stale else []) + \
            (["docs/frameworks.md"] if frameworks_stale else []) + \
            [f"docs/checks/{name}" for name in differ] + [f"docs/checks/{name} (no such check)" for name in orphans]
    if args.check:
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        if stale:
            print("run scripts/gen_docs.py to regenerate", file=sys.stderr)
        return 1 if stale else 0
    if wanted_readme != current:
        readme.write_text(wanted_readme, encoding="utf-8")
    if configuration_stale:
        configuration.write_text(wanted_configuration, encoding="utf-8")
    if frameworks_stale:
        frameworks.write_text(wanted_frameworks, encoding="utf-8")
    write_pages(CHECK_DOCS, pages, differ, orphans)
    for name in stale:
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
