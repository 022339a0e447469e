"""What reports say about a check: its metadata, docstring sections and folder; plain data."""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

from aksaudit.api import CheckMeta
from aksaudit.results.findings import Severity


@dataclass(frozen=True)
class CheckDoc:
    """What reports say about a check: its metadata, its docstring and the folder holding its fix
    template. Plain data, no code: a scan result carries these, so renderers and a result read
    back from JSON never hold a check's `evaluate`."""

    meta: CheckMeta
    doc: str = ""
    folder: Path | None = None  # where good.json / bad.json / remediation.sh.j2 live, if anywhere

    @property
    def id(self) -> str:
        return self.meta.id

    def section(self, heading: str) -> str:
        return doc_sections(self.doc).get(heading, "")

    @classmethod
    def recorded(cls, check_id: str) -> "CheckDoc":
        """A check a saved result names but this installation does not have (a plugin installed
        where the result was written): known by its id only."""
        return cls(CheckMeta(id=check_id, slug="", title=check_id, severity=Severity.INFO, requires=()))


def doc_sections(doc: str) -> dict[str, str]:
    """Split a check docstring into its '**Heading**' sections (text up to the next heading)."""
    sections: dict[str, str] = {}
    current = None
    lines: list[str] = []
    for line in inspect.cleandoc(doc or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("**") and stripped.endswith("**") and len(stripped) > 4:
            if current:
                sections[current] = "\n".join(lines).strip()
            current, lines = stripped.strip("*").strip(), []
        elif current:
            lines.append(line)
    if current:
        sections[current] = "\n".join(lines).strip()
    return sections
