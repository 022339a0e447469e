"""Configuration from `aksaudit.toml` or `[tool.aksaudit]` in `pyproject.toml`.

Discovered from the working directory upward (`--config PATH` overrides; CLI flags override the
file). Every unknown key or bad value is an error naming the key and the file: a typo in a
security tool's configuration must never silently weaken it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from aksaudit.results.findings import Severity
from aksaudit.results.suppressions import Suppression
from aksaudit.run.registry import Registry
from .run.exit_policy import FAIL_ON

TOP_KEYS = {"select", "ignore", "fail-on", "severity", "checks", "output", "suppress"}
OUTPUT_KEYS = {"json", "sarif", "sarif-dir", "html", "markdown", "remediation"}
SUPPRESS_KEYS = {"check", "resource", "resource-glob", "locus", "reason", "expires"}


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Config:
    source: str = ""  # the file it came from ('' when none was found)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    severity: Mapping[str, Severity] = field(default_factory=dict)
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    suppressions: tuple[Suppression, ...] = ()


def discover(start: Path) -> Path | None:
    """The nearest aksaudit.toml, or pyproject.toml holding [tool.aksaudit], from start upward."""
    for folder in (start, *start.parents):
        candidate = folder / "aksaudit.toml"
        if candidate.is_file():
            return candidate
        project = folder / "pyproject.toml"
        if project.is_file():
            try:
                if "aksaudit" in tomllib.loads(project.read_text(encoding="utf-8")).get("tool", {}):
                    return project
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                continue  # somebody else's broken pyproject is not our configuration
    return None


def _read(path: Path) -> Mapping[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: no such file") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read ({error})") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: is not valid TOML ({error})") from error
    if path.name == "pyproject.toml":
        return document.get("tool", {}).get("aksaudit", {})
    return document


def _check_id(registry: Registry, token: Any, where: str) -> str:
    if not isinstance(token, str):
        raise ConfigError(f"{where}: expected a check id or slug, found {type(token).__name__}")
    check = registry.find(token)
    if check is None:
        raise ConfigError(f"{where}: unknown check '{token}'")
    return check.id


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(value)


def _option_value(default: Any, value: Any, where: str) -> Any:
    """Options take the shape of their default: sequences stay lists of strings, scalars keep type."""
    if isinstance(default, (tuple, list)):
        return _strings(value, where)
    if default is not None and not isinstance(value, type(default)):
        raise ConfigError(f"{where}: expected {type(default).__name__}, found {type(value).__name__}")
    return value


def _suppression(registry: Registry, index: int, raw: Any, source: str) -> Suppression:
    where = f"{source}: suppress[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = set(raw) - SUPPRESS_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for required in ("check", "reason"):
        if not isinstance(raw.get(required), str) or not raw[required].strip():
            raise ConfigError(f"{where}.{required}: required, a non-empty string")
    resource, glob = raw.get("resource", ""), raw.get("resource-glob", "")
    if bool(resource) == bool(glob) or not isinstance(resource, str) or not isinstance(glob, str):
        raise ConfigError(f"{where}: give exactly one of 'resource' (an exact id) or 'resource-glob'")
    expires = raw.get("expires")
    if expires is not None and not (isinstance(expires, date) and not hasattr(expires, "hour")):
        raise ConfigError(f"{where}.expires: expected a TOML date such as 2026-12-31")
    locus = raw.get("locus", "")
    if not isinstance(locus, str):
        raise ConfigError(f"{where}.locus: expected a string")
    return Suppression(index, _check_id(registry, raw["check"], f"{where}.check"), resource, glob, locus,
                       raw["reason"].strip(), expires, source)


def parse_config(document: Mapping[str, Any], source: str, registry: Registry) -> Config:
    unknown = set(document) - TOP_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(TOP_KEYS))})")
    select = tuple(_check_id(registry, t, f"{source}: select") for t in _strings(document.get("select", []), f"{source}: select"))
    ignore = tuple(_check_id(registry, t, f"{source}: ignore") for t in _strings(document.get("ignore", []), f"{source}: ignore"))
    fail_on = document.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ConfigError(f"{source}: fail-on: '{fail_on}' is not one of {', '.join(FAIL_ON)}")
    severity = {}
    for token, value in dict(document.get("severity", {})).items():
        check_id = _check_id(registry, token, f"{source}: severity")
        try:
            severity[check_id] = Severity(value)
        except ValueError as error:
            raise ConfigError(f"{source}: severity.{token}: '{value}' is not a severity") from error
    options: dict[str, dict[str, Any]] = {}
    checks = document.get("checks", {})
    if not isinstance(checks, dict):
        raise ConfigError(f"{source}: checks: expected a table of [checks.<ID>] tables")
    for token, values in checks.items():
        check_id = _check_id(registry, token, f"{source}: checks")
        known = registry.by_id()[check_id].meta.options
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: checks.{token}: expected a table")
        for name, value in values.items():
            if name not in known:
                raise ConfigError(f"{source}: checks.{token}.{name}: unknown option "
                                  f"(known: {', '.join(sorted(known)) or 'none'})")
            options.setdefault(check_id, {})[name] = _option_value(known[name], value, f"{source}: checks.{token}.{name}")
    outputs = document.get("output", {})
    if not isinstance(outputs, dict) or set(outputs) - OUTPUT_KEYS or not all(isinstance(v, str) for v in outputs.values()):
        raise ConfigError(f"{source}: output: keys must be among {', '.join(sorted(OUTPUT_KEYS))}, values paths")
    raw_suppress = document.get("suppress", [])
    if not isinstance(raw_suppress, list):
        raise ConfigError(f"{source}: suppress: expected [[suppress]] tables")
    suppressions = tuple(_suppression(registry, i, raw, source) for i, raw in enumerate(raw_suppress))
    return Config(source, select, ignore, fail_on, severity, options, dict(outputs), suppressions)


def load_config(registry: Registry, explicit: str | None, cwd: Path | None = None) -> Config:
    path = Path(explicit) if explicit else discover((cwd or Path.cwd()).resolve())
    if path is None:
        return Config()
    return parse_config(_read(path), str(path), registry)
