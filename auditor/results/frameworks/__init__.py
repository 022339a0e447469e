"""The compliance frameworks aksaudit maps its checks to, read from the TOML files beside this module.

Auditors ask about controls (NIST SP 800-53 SC-7(5), PCI DSS 1.3.2), not check ids. Each file
here is one framework: its controls in document order, and for each control the checks whose
results give evidence for it, `sufficient` or `partial`, with the reason. The mapping is data so
that it can be reviewed line by line against the published framework, and validated against
`framework.schema.json` before anything uses it: a mistyped mapping must fail loudly, never
silently evidence nothing.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SUFFICIENT = "sufficient"
PARTIAL = "partial"
UNMAPPED_FILE = "unmapped.toml"


class FrameworkError(ValueError):
    """A mapping file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class ControlCheck:
    """One check giving evidence for a control, and how much."""

    check_id: str
    coverage: str  # sufficient | partial
    reason: str


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    checks: tuple[ControlCheck, ...]

    @property
    def check_ids(self) -> frozenset[str]:
        return frozenset(c.check_id for c in self.checks)


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    version: str
    url: str
    controls: tuple[Control, ...]  # in the framework document's order

    def controls_of(self, check_id: str) -> tuple[Control, ...]:
        return tuple(c for c in self.controls if check_id in c.check_ids)


def _schema(name: str) -> Mapping[str, Any]:
    return json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


def problems(document: Any, schema_name: str = "framework.schema.json") -> list[str]:
    """Every way `document` breaks the schema, as 'where: what' lines (empty when it is valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(_schema(schema_name))
    return [f"{'/'.join(str(p) for p in error.absolute_path) or 'the document'}: {error.message}"
            for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]


def parse_framework(document: Mapping[str, Any], source: str) -> Framework:
    """The framework a mapping document describes; FrameworkError naming `source` when it is not one."""
    found = problems(document)
    if found:
        raise FrameworkError(f"{source}: {found[0]}")
    controls = tuple(Control(c["id"], c["title"], tuple(ControlCheck(m["check"], m["coverage"], m["reason"])
                                                        for m in c["checks"]))
                     for c in document["controls"])
    seen: set[str] = set()
    for control in controls:
        if control.id in seen:
            raise FrameworkError(f"{source}: control {control.id} is listed twice")
        seen.add(control.id)
        if len(control.check_ids) != len(control.checks):
            raise FrameworkError(f"{source}: control {control.id} names a check twice")
    return Framework(document["id"], document["name"], document["version"], document["url"], controls)


def mapping_files() -> tuple[str, ...]:
    """The framework files shipped in the package, by name."""
    return tuple(sorted(entry.name for entry in resources.files(__name__).iterdir()
                        if entry.name.endswith(".toml") and entry.name != UNMAPPED_FILE))


def read_toml(name: str) -> Mapping[str, Any]:
    try:
        return tomllib.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise FrameworkError(f"{name}: is not valid TOML ({error})") from error


@lru_cache(maxsize=1)
def builtin_frameworks() -> tuple[Framework, ...]:
    """Every bundled framework, sorted by id; each file is named after its framework's id."""
    frameworks = []
    for name in mapping_files():
        framework = parse_framework(read_toml(name), name)
        if f"{framework.id}.toml" != name:
            raise FrameworkError(f"{name}: id {framework.id!r} does not match the file name")
        frameworks.append(framework)
    return tuple(sorted(frameworks, key=lambda f: f.id))


@lru_cache(maxsize=1)
def unmapped_checks() -> Mapping[str, str]:
    """Built-in checks deliberately mapped to no control, with the reason."""
    document = read_toml(UNMAPPED_FILE)
    found = problems(document, "unmapped.schema.json")
    if found:
        raise FrameworkError(f"{UNMAPPED_FILE}: {found[0]}")
    return dict(document["unmapped"])


def select_frameworks(names: Iterable[str], frameworks: Iterable[Framework] | None = None) -> tuple[Framework, ...]:
    """The frameworks `names` choose, by id or id prefix, any case (`nist`, `PCI`); all of them
    when no name is given. An unknown name is a ValueError naming the valid ones."""
    available = tuple(frameworks if frameworks is not None else builtin_frameworks())
    names = [n.strip() for n in names if n.strip()]
    if not names:
        return available
    chosen: set[str] = set()
    for name in names:
        folded = name.casefold()
        exact = [f for f in available if f.id.casefold() == folded]
        matching = exact or [f for f in available if f.id.casefold().startswith(folded)]
        if not matching:
            raise ValueError(f"unknown framework '{name}' (valid: {', '.join(f.id for f in available)})")
        chosen.update(f.id for f in matching)
    return tuple(f for f in available if f.id in chosen)
