"""The built-in list (checks/builtin.py) and the check folders stay one set, and a new check
scaffolded by scripts/new_check.py shows up without reinstalling the package."""
from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from aksaudit.api import CheckMeta
from aksaudit.checks.builtin import BUILTIN_CHECKS
from conftest import ROOT


def _check_folders() -> set[str]:
    """Every folder under checks/<area>/ whose module defines a check (META and evaluate)."""
    found = set()
    for init in (ROOT / "checks").glob("*/*/__init__.py"):
        text = init.read_text()
        if "META = CheckMeta(" in text and "def evaluate(" in text:
            found.add(f"{init.parent.parent.name}.{init.parent.name}")
    return found


def test_every_check_folder_is_listed_once_and_every_listed_module_is_a_folder():
    assert _check_folders(), "no check folder found: the glob no longer matches the layout"
    assert len(BUILTIN_CHECKS) == len(set(BUILTIN_CHECKS))
    assert set(BUILTIN_CHECKS) == _check_folders()


def test_each_listed_check_is_named_by_its_id(registry):
    ids = {c.id for c in registry.checks}
    for name in BUILTIN_CHECKS:
        meta = importlib.import_module(f"aksaudit.checks.{name}").META
        assert isinstance(meta, CheckMeta)
        folder = name.rpartition(".")[2]
        prefix, _, rest = folder.partition("_")
        assert prefix == meta.id.lower() and rest and rest == rest.lower(), f"{name}: expected {meta.id.lower()}_<slug>"
        assert meta.id in ids, f"{meta.id} is listed but not registered"


def _installed_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the source tree as an install made before the new check existed sees it: the
    package folders on the path, and the entry points pyproject.toml declares beside them."""
    repo, site = tmp_path / "repo", tmp_path / "site"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("auditor", "checks", "reports", "scripts"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=ignore)
    (repo / "auditor" / "checks").symlink_to(repo / "checks", target_is_directory=True)
    (repo / "auditor" / "reports").symlink_to(repo / "reports", target_is_directory=True)
    site.mkdir()
    (site / "aksaudit").symlink_to(repo / "auditor", target_is_directory=True)
    metadata = site / "aksaudit-0.1.0.dist-info"
    metadata.mkdir()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (metadata / "METADATA").write_text(f"Metadata-Version: 2.1\nName: aksaudit\nVersion: {project['version']}\n")
    points = project["entry-points"]["aksaudit.checks"]
    (metadata / "entry_points.txt").write_text("[aksaudit.checks]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))
    return repo, site


def test_a_scaffolded_check_is_listed_without_reinstalling(tmp_path):
    repo, site = _installed_copy(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(site)}

    def aksaudit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "aksaudit.cli", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    before = aksaudit("checks", "explain", "UDR099")
    assert before.returncode != 0
    made = subprocess.run([sys.executable, str(repo / "scripts" / "new_check.py"), "UDR099", "route-to-nowhere",
                           "--area", "routing", "--root", str(repo)], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert made.returncode == 0, made.stderr
    folder = repo / "checks" / "routing" / "udr099_route_to_nowhere"
    assert {p.name for p in folder.iterdir()} >= {"__init__.py", "good.json", "bad.json", "remediation.sh.j2"}
    listed = aksaudit("checks", "list")
    assert listed.returncode == 0, listed.stderr
    assert "UDR099" in listed.stdout and str(repo) not in listed.stderr
    explained = aksaudit("checks", "explain", "UDR099")
    assert explained.returncode == 0, explained.stderr
    for heading in ("What it checks", "Why it matters", "How to fix"):
        assert heading in explained.stdout
    again = subprocess.run([sys.executable, str(repo / "scripts" / "new_check.py"), "UDR099", "other-name",
                            "--area", "routing", "--root", str(repo)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "taken" in again.stderr and "Traceback" not in again.stderr
