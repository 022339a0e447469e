"""The example plugin, installed for real and seen through the normal CLI and reports.

Each plugin is built by pip (the real setuptools backend) into a throwaway `--target` folder that
only the subprocesses see, through PYTHONPATH: importlib.metadata then finds its entry points
exactly as it would in site-packages, while the interpreter running the tests stays untouched
and no virtual environment has to be created. Builds run on a copy, so the source tree gets no
build/ or egg-info folders.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import EXAMPLES, ROOT, aksaudit_cmd
from renderers import html_text

PLUGIN = EXAMPLES / "plugin"
CHECK_FOLDER = PLUGIN / "aksaudit_owner_tag" / "own001_route_table_owner_tag"
BAD = CHECK_FOLDER / "bad.json"


def pip_install(source: Path, target: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target), str(source)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def write_package(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> Path:
    """A minimal installable plugin package (pyproject + modules) in `root`."""
    root.mkdir(parents=True)
    points = "\n".join(f'{check_id} = "{target}"' for check_id, target in entry_points.items())
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=69"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name.replace('_', '-')}"
        version = "0.0.1"

        [project.entry-points."aksaudit.checks"]
        """) + points + "\n")
    package = root / name
    package.mkdir()
    for module, source in modules.items():
        (package / f"{module}.py").write_text(textwrap.dedent(source))
    return root


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """site folders: 'example' holds the example plugin plus one that cannot import; 'duplicate'
    holds a plugin that claims a built-in check's id."""
    work = tmp_path_factory.mktemp("plugins")
    example_source = work / "src" / "plugin"
    shutil.copytree(PLUGIN, example_source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    broken = write_package(work / "src" / "broken", "aksaudit_broken_plugin", {"BRK001": "aksaudit_broken_plugin.brk001"},
                           {"__init__": "", "brk001": "import aksaudit_module_that_does_not_exist\n"})
    duplicate = write_package(work / "src" / "duplicate", "aksaudit_duplicate_plugin",
                              {"UDR001": "aksaudit_duplicate_plugin.udr001"},
                              {"__init__": "", "udr001": '''\
                                   """Claims a built-in id.

                                   **What it checks**
                                   Nothing.

                                   **Why it matters**
                                   Ids are permanent identities.

                                   **How to fix**
                                   Pick a new id.
                                   """
                                   from aksaudit.api import T_ROUTE_TABLE, CheckMeta, Severity

                                   META = CheckMeta(id="UDR001", slug="impostor", title="Impostor",
                                                    severity=Severity.LOW, requires=(T_ROUTE_TABLE,))


                                   def evaluate(estate, options):
                                       return ()
                                   '''})
    sites = {"example": work / "site-example", "duplicate": work / "site-duplicate"}
    pip_install(example_source, sites["example"])
    pip_install(broken, sites["example"])
    pip_install(duplicate, sites["duplicate"])
    return sites


def with_site(site: Path) -> dict[str, str]:
    """The environment plus the plugin folder in front of whatever PYTHONPATH already holds."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))


def run(site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, env=with_site(site), cwd=cwd)


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> str:
    """bad.json's estate as a snapshot file (a fixture also holds its expectations)."""
    path = tmp_path_factory.mktemp("estate") / "estate.json"
    path.write_text(json.dumps(json.loads(BAD.read_text())["estate"]))
    return str(path)


def expected_failures() -> set[tuple[str, str]]:
    return {(check_id, resource.lower()) for check_id, resource, _ in json.loads(BAD.read_text())["expected"]}


def test_the_plugin_is_listed_and_explained_beside_the_built_in_checks(installed):
    listing = run(installed["example"], "checks", "list")
    assert listing.returncode == 0, listing.stderr
    assert "OWN001" in listing.stdout and "UDR001" in listing.stdout
    explain = run(installed["example"], "checks", "explain", "route-table-without-owner-tag")
    assert explain.returncode == 0, explain.stderr
    assert {"What it checks", "Why it matters", "How to fix"} <= {
        line.strip("* ") for line in explain.stdout.splitlines()}


def test_the_plugin_runs_in_a_scan_and_its_findings_reach_json(installed, estate):
    proc = run(installed["example"], "scan", "--snapshot", estate, "--json", "-", "--quiet", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    own = {(f["check_id"], f["resource_id"].lower()) for f in document["findings"] if f["check_id"] == "OWN001"}
    assert own == expected_failures()
    assert "OWN001" in document["summary"]["checks_run"]


def test_a_plugin_that_cannot_import_is_reported_and_left_out(installed, estate):
    proc = run(installed["example"], "scan", "--snapshot", estate, "--json", "-", "--quiet", "--fail-on", "never")
    document = json.loads(proc.stdout)
    assert "BRK001" not in document["summary"]["checks_run"]
    warnings = [w for w in document["scan"]["warnings"] if "BRK001" in w]
    assert warnings and "aksaudit_module_that_does_not_exist" in warnings[0]
    # ...and the rest of the scan is untouched: built-in checks and the working plugin still ran.
    assert {"OWN001", "UDR001"} <= set(document["summary"]["checks_run"])


def test_a_plugin_claiming_a_built_in_id_stops_the_run(installed, estate):
    proc = run(installed["duplicate"], "scan", "--snapshot", estate, "--json", "-", "--quiet")
    assert proc.returncode == 2
    assert "UDR001" in proc.stderr and "aksaudit_duplicate_plugin" in proc.stderr
    assert proc.stdout == ""


def test_the_plugin_findings_reach_sarif(installed, estate, tmp_path):
    out = tmp_path / "report.sarif"
    proc = run(installed["example"], "scan", "--snapshot", estate, "--sarif", str(out), "--quiet", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(out.read_text())["runs"]
    rules = {rule["id"]: rule for run_ in runs for rule in run_["tool"]["driver"].get("rules", ())}
    assert "OWN001" in rules and "owner" in rules["OWN001"]["help"]["markdown"]
    # Code scanning locates a cloud resource by the pseudo-path azure/<lower-cased ARM id>.
    located = {(result["ruleId"], "/" + unquote(location["physicalLocation"]["artifactLocation"]["uri"]).removeprefix("azure/"))
               for run_ in runs for result in run_["results"] if result["ruleId"] == "OWN001"
               for location in result["locations"]}
    assert located == expected_failures()


def test_the_plugin_findings_reach_html(installed, estate, tmp_path):
    out = tmp_path / "report.html"
    proc = run(installed["example"], "scan", "--snapshot", estate, "--html", str(out), "--quiet", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    html = html_text(out.read_text())
    assert "OWN001" in html
    assert {name for name in ("rt-aks", "rt-aks-b") if name not in html} == set()


def test_the_plugin_own_tests_pass_against_the_installed_package(installed, tmp_path):
    """The plugin's suite, run as its authors run it; the installed copy (with its package data)
    is imported, not the source folder."""
    tests = tmp_path / "tests"
    shutil.copytree(PLUGIN / "tests", tests)
    env = with_site(installed["example"])
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           str(tests)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_installed_plugin_stays_out_of_the_project_docs(installed):
    """gen_docs documents aksaudit's own checks only: a plugin in the environment changes nothing."""
    script = [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"]
    plain = subprocess.run(script, capture_output=True, text=True)
    with_plugin = subprocess.run(script, capture_output=True, text=True, env=with_site(installed["example"]))
    assert "OWN001" not in with_plugin.stdout + with_plugin.stderr
    assert (with_plugin.returncode, with_plugin.stderr) == (plain.returncode, plain.stderr)
