"""Every generated script parses (`bash -n`) and is shellcheck clean: for every example estate and
every check's bad fixture, with disruptive blocks enabled and commented out."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from aksaudit.testing import load_fixture
from conftest import require_tool
from remediation_harness import EXAMPLE_ESTATES, REGISTRY, WITH_TEMPLATES, copy_estate, generate, scan, write_rows

SOURCES = [*EXAMPLE_ESTATES, *(f"{check_id}/bad.json" for check_id in WITH_TEMPLATES)]


def _script(source: str, tmp_path, include_disruptive: bool):
    if source in EXAMPLE_ESTATES:
        estate = copy_estate(source, tmp_path)
    else:
        fixture = load_fixture(REGISTRY.by_id()[source.split("/")[0]].folder / "bad.json")
        estate = write_rows(fixture.rows, tmp_path / "estate.json")
    path = tmp_path / "fix.sh"
    path.write_text(generate(scan(estate), include_disruptive=include_disruptive).text, encoding="utf-8")
    return path


@pytest.mark.parametrize("include_disruptive", [False, True], ids=["default", "disruptive"])
@pytest.mark.parametrize("source", SOURCES)
def test_bash_parses_it(source, include_disruptive, tmp_path):
    done = subprocess.run(["bash", "-n", str(_script(source, tmp_path, include_disruptive))],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("include_disruptive", [False, True], ids=["default", "disruptive"])
@pytest.mark.parametrize("source", SOURCES)
def test_shellcheck_is_clean(source, include_disruptive, tmp_path):
    shellcheck = require_tool(shutil.which("shellcheck"), "shellcheck")
    done = subprocess.run([shellcheck, "--shell=bash", str(_script(source, tmp_path, include_disruptive))],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
