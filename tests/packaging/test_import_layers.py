"""The layering of DESIGN.md holds: import-linter's contracts (.importlinter) pass, and break.

import-linter reads a package from one folder, while the repository keeps `aksaudit`,
`aksaudit.checks` and `aksaudit.reports` in three (setup.py maps them), so the test assembles the
installed layout in a temporary folder first. The second test plants one upward import and
expects the contracts to fail: a contract that cannot fail would guard nothing.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LINT = "import sys; from importlinter.cli import lint_imports_command; sys.argv[1:] = ['--no-cache', sys.argv[1]]; lint_imports_command()"


def _assemble(into: Path) -> Path:
    package = into / "aksaudit"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "auditor", package, ignore=ignore)
    shutil.copytree(ROOT / "checks", package / "checks", ignore=ignore)
    shutil.copytree(ROOT / "reports", package / "reports", ignore=ignore)
    return package


def _lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LINT, str(ROOT / ".importlinter")], cwd=folder, capture_output=True,
                          text=True, timeout=300, env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"})


def test_the_import_contracts_hold(tmp_path):
    _assemble(tmp_path)
    proc = _lint(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in proc.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    package = _assemble(tmp_path)
    (package / "analysis" / "upward.py").write_text("from aksaudit.results.findings import Finding\n")
    (package / "checks" / "sideways.py").write_text("from aksaudit.model.estate import Estate\n")
    proc = _lint(tmp_path)
    assert proc.returncode != 0
    assert "aksaudit.analysis.upward -> aksaudit.results.findings" in proc.stdout
    assert "aksaudit.checks.sideways -> aksaudit.model.estate" in proc.stdout
