"""Discovering checks through the `aksaudit.checks` entry-point group.

Built-in checks are listed in pyproject.toml under the same group third-party plugins use, so
both load one way. A plugin that fails to import or breaks the contract is reported and left
out; two checks claiming one id is an error, because ids are permanent identities.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .api import DOC_SECTIONS, CheckMeta
from .findings import Outcome, Severity

GROUP = "aksaudit.checks"


class RegistryError(Exception):
    """The set of checks cannot be trusted (e.g. a duplicate id)."""


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


@dataclass(frozen=True, kw_only=True)
class LoadedCheck(CheckDoc):
    """A registered check: its documentation and the function that evaluates it."""

    evaluate: Callable[[Any, Mapping[str, Any]], Iterable[Outcome]]
    source: str  # entry point 'name = value', for messages

    @property
    def documentation(self) -> CheckDoc:
        return CheckDoc(self.meta, self.doc, self.folder)


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


def contract_problems(obj: Any, name: str) -> list[str]:
    """Everything wrong with a check object; empty when it honours the contract."""
    meta = getattr(obj, "META", None)
    if not isinstance(meta, CheckMeta):
        return ["META is missing or is not a CheckMeta"]
    problems = []
    if meta.id != name:
        problems.append(f"entry point name '{name}' differs from META.id '{meta.id}'")
    if not isinstance(meta.severity, Severity):
        problems.append("META.severity is not a Severity")
    if not meta.requires:
        problems.append("META.requires names no resource type")
    if any(t != t.lower() for t in meta.requires):
        problems.append("META.requires must use lower-case ARG types")
    if not callable(getattr(obj, "evaluate", None)):
        problems.append("evaluate is missing or not callable")
    sections = doc_sections(getattr(obj, "__doc__", "") or "")
    for heading in DOC_SECTIONS:
        if not sections.get(heading):
            problems.append(f"docstring lacks a '**{heading}**' section")
    return problems


@dataclass(frozen=True)
class Registry:
    checks: tuple[LoadedCheck, ...]
    problems: tuple[str, ...]  # plugins left out, and why

    def by_id(self) -> dict[str, LoadedCheck]:
        return {c.id: c for c in self.checks}

    def find(self, token: str) -> LoadedCheck | None:
        """A check by id, slug or alias (case-insensitive)."""
        token = token.strip().lower()
        for check in self.checks:
            names = {check.id.lower(), check.meta.slug.lower(), *(a.lower() for a in check.meta.aliases)}
            if token in names:
                return check
        return None

    def matching(self, token: str) -> tuple[LoadedCheck, ...]:
        """The check a token names (id, slug or alias), else every check whose id starts with it
        (`UDR` selects UDR001, UDR002, ...), as ruff selects rules by prefix; () when none does."""
        exact = self.find(token)
        if exact is not None:
            return (exact,)
        prefix = token.strip().lower()
        return tuple(c for c in self.checks if prefix and c.id.lower().startswith(prefix))


def load_registry(entries: Iterable[Any] | None = None) -> Registry:
    found = list(entries if entries is not None else entry_points(group=GROUP))
    checks: dict[str, LoadedCheck] = {}
    problems: list[str] = []
    for entry in sorted(found, key=lambda e: e.name):
        source = f"{entry.name} = {entry.value}"
        try:
            obj = entry.load()
        except Exception as error:  # a broken plugin must not take the scan down
            problems.append(f"check {source} failed to load: {type(error).__name__}: {error}")
            continue
        issues = contract_problems(obj, entry.name)
        if issues:
            problems.append(f"check {source} left out: " + "; ".join(issues))
            continue
        if entry.name in checks:
            raise RegistryError(f"check id {entry.name} is registered twice: {checks[entry.name].source} and {source}")
        module_file = getattr(obj, "__file__", None) or getattr(inspect.getmodule(obj), "__file__", None)
        checks[entry.name] = LoadedCheck(meta=obj.META, doc=inspect.cleandoc(obj.__doc__ or ""),
                                         folder=Path(module_file).parent if module_file else None,
                                         evaluate=obj.evaluate, source=source)
    return Registry(tuple(sorted(checks.values(), key=lambda c: c.id)), tuple(problems))
