"""Every renderer the product has, for tests that must run them all (fuzzing, hostile input)."""
from __future__ import annotations

import importlib
from typing import Callable, Iterator

# module, function: pure renderers of a ScanResult. A module that does not exist (yet) is a
# test failure, not a skip: the list names what the product ships.
RENDERERS = (
    ("aksaudit.reports.json_report", "render"),
)


def all_renderers() -> Iterator[tuple[str, Callable]]:
    for module, function in RENDERERS:
        yield f"{module}.{function}", getattr(importlib.import_module(module), function)
