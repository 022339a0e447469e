#!/usr/bin/env python3
"""Regenerate documentation derived from the check registry (the README rule table).

`--check` exits 1 when a generated file is stale instead of writing it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aksaudit.docs import RULES_END, RULES_START, replace_block, rule_table
from aksaudit.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when a generated file is out of date")
    args = parser.parse_args()
    readme = ROOT / "README.md"
    current = readme.read_text(encoding="utf-8")
    wanted = replace_block(current, RULES_START, RULES_END, rule_table(load_registry()))
    if wanted == current:
        return 0
    if args.check:
        print(f"{readme} is stale: run scripts/gen_docs.py", file=sys.stderr)
        return 1
    readme.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
