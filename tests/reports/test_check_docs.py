"""Generated documentation (README rule table, docs/checks/) stays in step with the registry."""
from __future__ import annotations

import subprocess
import sys

import pytest

from aksaudit.reports.check_docs import GENERATED, builtin_registry, check_page, check_pages, stale_pages, write_pages
from aksaudit.reports.check_explain import explain_text
from aksaudit.run.registry import doc_sections
from conftest import ROOT


def test_generated_docs_are_current():
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


def test_readme_quick_start_installs_into_its_own_venv():
    """Debian and Ubuntu refuse `pip install` into the system Python (externally-managed-environment)
    and may lack python3-venv's ensurepip: the first command makes a venv, falling back to one
    without pip that sees the system's pip, and both commands use only that venv's programs."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    first, second = (b.split("```", 1)[0].strip() for b in section.split("```bash")[1:])
    steps = first.split(" && ")
    make_venv, fallback = steps[0].split(" || ")
    assert make_venv.startswith("python3 -m venv .venv")
    assert fallback == "python3 -m venv --without-pip --system-site-packages .venv"
    assert steps[1] == ".venv/bin/python -m pip install ."
    assert steps[2].startswith(".venv/bin/aksaudit scan ")
    assert second == ".venv/bin/python -m pip install '.[test]' && .venv/bin/python -m pytest"
    assert first.count("pip install") == 1


# --- docs/checks --------------------------------------------------------------------------------

CHECK_DOCS = ROOT / "docs" / "checks"


@pytest.fixture(scope="module")
def builtin():
    return builtin_registry()


def test_every_built_in_check_has_a_page_and_no_page_outlives_its_check(builtin):
    pages = {p.name for p in CHECK_DOCS.glob("*.md")}
    assert pages == {f"{c.id}.md" for c in builtin.checks} | {"README.md"}


@pytest.fixture(scope="module")
def generated(builtin) -> dict[str, str]:
    """The pages as generated now (test_generated_docs_are_current holds the files to them)."""
    return check_pages(builtin)


def test_a_page_carries_the_same_text_as_checks_explain(builtin, generated):
    for check in builtin.checks:
        page = generated[f"{check.id}.md"]
        explained = explain_text(check)
        for heading, text in doc_sections(check.doc).items():
            assert f"## {heading}\n\n{text}\n" in page, (check.id, heading)
            assert text in explained, (check.id, heading)


def test_pages_show_the_fixtures_and_the_rendered_remediation_where_a_template_exists(builtin, generated):
    for check in builtin.checks:
        page = generated[f"{check.id}.md"]
        assert page.startswith(GENERATED)
        assert ("### Fails (`bad.json`)" in page) == (check.folder / "bad.json").is_file(), check.id
        has_template = (check.folder / "remediation.sh.j2").is_file()
        assert ("## Remediation script" in page) == has_template, check.id
        if has_template:
            assert "```bash\n" in page


def test_docs_generate_without_a_remediation_renderer(builtin):
    """The remediation section is optional: no renderer (or no template) means no section."""
    check = next((c for c in builtin.checks if (c.folder / "remediation.sh.j2").is_file()), builtin.checks[0])
    page = check_page(check, remediation=lambda _: ())
    assert "## Remediation script" not in page
    assert "## What it checks" in page and "### Passes (`good.json`)" in page


def test_staleness_names_changed_missing_and_orphaned_pages_but_spares_hand_written_ones(builtin, tmp_path):
    wanted = check_pages(builtin, remediation=lambda _: ())
    write_pages(tmp_path, wanted, wanted, ())
    assert stale_pages(tmp_path, wanted) == ([], [])
    first, second = sorted(n for n in wanted if n != "README.md")[:2]
    (tmp_path / first).write_text(wanted[first] + "edited by hand\n")
    (tmp_path / second).unlink()
    (tmp_path / "ZZZ999.md").write_text(GENERATED + "\n# a check that is gone\n")
    (tmp_path / "notes.md").write_text("# hand-written, not generated\n")
    assert stale_pages(tmp_path, wanted) == (sorted([first, second]), ["ZZZ999.md"])
    differ, orphans = stale_pages(tmp_path, wanted)
    write_pages(tmp_path, wanted, differ, orphans)
    assert stale_pages(tmp_path, wanted) == ([], [])
    assert (tmp_path / "notes.md").is_file() and not (tmp_path / "ZZZ999.md").exists()


def test_the_readme_links_every_check_to_its_page(builtin):
    text = (ROOT / "README.md").read_text()
    assert {c.id for c in builtin.checks if f"[`{c.id}`](docs/checks/{c.id}.md)" not in text} == set()
