"""Generated documentation stays in step with the registry."""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_readme_rule_table_is_current():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


def test_readme_quick_start_is_two_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0].strip() for b in section.split("```bash")[1:]]
    assert len(blocks) == 2
    assert "aksaudit scan --snapshot examples/" in blocks[0]
    assert "pytest" in blocks[1]
