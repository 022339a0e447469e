"""Discovering checks through the `aksaudit.checks` entry-point group.

Built-in checks come through the same group third-party plugins use: one entry point that
returns the explicit list of checks/builtin.py (read at run time, so a new built-in needs no
reinstall); a plugin's entry point is the check itself, named by its id. A check that fails to
import or breaks the contract is reported and left out; two checks claiming one id is an error,
because ids are permanent identities.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from aksaudit.api import DOC_SECTIONS, CheckMeta
from aksaudit.results.check_doc import CheckDoc, doc_sections
from aksaudit.results.findings import Outcome, Severity

GROUP = "aksaudit.checks"


class RegistryError(Exception):
    """The set of checks cannot be trusted (e.g. a duplicate id)."""


@dataclass(frozen=True, kw_only=True)
class LoadedCheck(CheckDoc):
    """A registered check: its documentation and the function that evaluates it."""

    evaluate: Callable[[Any, Mapping[str, Any]], Iterable[Outcome]]
    source: str  # entry point 'name = value', for messages

    @property
    def documentation(self) -> CheckDoc:
        return CheckDoc(self.meta, self.doc, self.folder)


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


def _is_check_list(obj: Any) -> bool:
    """An entry point that returns a list of check modules (how the built-ins register), rather
    than being a check itself."""
    return callable(obj) and not inspect.ismodule(obj) and getattr(obj, "META", None) is None


def load_registry(entries: Iterable[Any] | None = None) -> Registry:
    found = list(entries if entries is not None else entry_points(group=GROUP))
    checks: dict[str, LoadedCheck] = {}
    problems: list[str] = []

    def add(obj: Any, name: str, source: str) -> None:
        issues = contract_problems(obj, name)
        if issues:
            problems.append(f"check {source} left out: " + "; ".join(issues))
            return
        if name in checks:
            raise RegistryError(f"check id {name} is registered twice: {checks[name].source} and {source}")
        module_file = getattr(obj, "__file__", None) or getattr(inspect.getmodule(obj), "__file__", None)
        checks[name] = LoadedCheck(meta=obj.META, doc=inspect.cleandoc(obj.__doc__ or ""),
                                   folder=Path(module_file).parent if module_file else None,
                                   evaluate=obj.evaluate, source=source)

    for entry in sorted(found, key=lambda e: e.name):
        source = f"{entry.name} = {entry.value}"
        try:
            obj = entry.load()
            listed = tuple(obj()) if _is_check_list(obj) else None
        except Exception as error:  # a broken plugin must not take the scan down
            problems.append(f"check {source} failed to load: {type(error).__name__}: {error}")
            continue
        if listed is None:
            add(obj, entry.name, source)
            continue
        for module_name in listed:
            item = f"{source}: {module_name}"
            try:
                module = importlib.import_module(module_name)
            except Exception as error:  # one broken check must not hide the others of its list
                problems.append(f"check {item} failed to load: {type(error).__name__}: {error}")
                continue
            meta = getattr(module, "META", None)
            add(module, meta.id if isinstance(meta, CheckMeta) else module_name, item)
    return Registry(tuple(sorted(checks.values(), key=lambda c: c.id)), tuple(problems))
