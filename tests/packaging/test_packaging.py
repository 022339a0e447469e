"""The wheel installs exactly one top-level package, `aksaudit`, with every check and its data."""
from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_has_only_the_aksaudit_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("aksaudit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith((".dist-info", ".data"))}
    assert top_level == {"aksaudit"}
    for required in ("aksaudit/checks/routing/udr001_no_route_table/__init__.py",
                     "aksaudit/checks/routing/udr001_no_route_table/bad.json",
                     "aksaudit/checks/firewall/fw003_any_network_rule/good.json",
                     "aksaudit/reports/aksaudit-v1.schema.json",
                     "aksaudit/reports/json_report.py"):
        assert required in names, required
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[aksaudit.checks]" in text and "builtin = aksaudit.checks.builtin:builtin_checks" in text
