"""Every report a scan result renders to, chosen by one enum: the command line asks for a format
by its flag (`--json`, `--sarif`, ...) and gets text or bytes back, without knowing which module
draws it. Each renderer is a pure function of a plain `ScanResult` (findings, scan facts, the
checks' documentation); none sees the estate or a check's code.

The terminal summary is not here: it writes to a live console (colour, width) rather than
returning a document.
"""
from __future__ import annotations

import importlib
from enum import Enum
from typing import Callable, Iterable

from aksaudit.run.engine import ScanResult

Renderer = Callable[[ScanResult], "str | bytes"]


class ReportFormat(str, Enum):
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"
    MARKDOWN = "markdown"

    @property
    def machine_contract(self) -> bool:
        """JSON feeds other commands (`--baseline`, `remediate --from`, `merge`): it is rendered
        from the result itself, never from the copy people read (subscription ids pseudonymised)."""
        return self is ReportFormat.JSON

    @property
    def renderer(self) -> Renderer:
        """The module's `render`, imported on first use (HTML and SARIF pull in what JSON does not need)."""
        return importlib.import_module(f"aksaudit.reports.{_MODULES[self]}").render

    def render(self, result: ScanResult) -> str | bytes:
        return self.renderer(result)

    def pieces(self, result: ScanResult) -> "str | bytes | Iterable[str]":
        """What to write: the document piece by piece where its module makes it so (`chunks`:
        JSON, the largest at scale), else whole."""
        module = importlib.import_module(f"aksaudit.reports.{_MODULES[self]}")
        chunks = getattr(module, "chunks", None)
        return chunks(result) if chunks is not None else module.render(result)


_MODULES = {ReportFormat.JSON: "json_report", ReportFormat.SARIF: "sarif", ReportFormat.HTML: "html",
            ReportFormat.MARKDOWN: "markdown"}
