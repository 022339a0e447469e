"""Shared test fixtures: the registry of installed checks and the example estates."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from aksaudit.run.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(path: str | None, what: str) -> str:
    """A tool the tests need: skip locally when absent, but fail in CI where .ci/run installs it."""
    if path and (os.path.exists(path) or shutil.which(path)):
        return path
    message = f"{what} is not installed"
    if IN_CI:
        pytest.fail(f"{message}, but CI must provide it (see .ci/run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def registry():
    return load_registry()


@pytest.fixture(scope="session")
def expected_examples() -> dict:
    return json.loads((EXAMPLES / "expected.json").read_text())


def aksaudit_cmd() -> list[str]:
    """Run the CLI as users do, from the interpreter running the tests."""
    return [sys.executable, "-m", "aksaudit"]


from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("ci", max_examples=300, deadline=None)
_hypothesis_settings.register_profile("long", max_examples=20000, deadline=None)
_hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
