"""Configuration from `aksaudit.toml` or `[tool.aksaudit]` in `pyproject.toml`.

Discovered from the working directory upward (`--config PATH` overrides; CLI flags override the
file). Every unknown key or bad value is an error naming the key and the file: a typo in a
security tool's configuration must never silently weaken it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from aksaudit.results.findings import Severity
from aksaudit.results.frameworks import select_frameworks
from aksaudit.results.suppressions import Suppression
from aksaudit.run.registry import Registry
from .run.exit_policy import FAIL_ON

CONFIG_NAMES = ("aksaudit.toml", "pyproject.toml")


@dataclass(frozen=True)
class Key:
    """One configuration key: the parser accepts exactly these, and docs/configuration.md is
    generated from them (so neither can document or accept a key the other does not)."""
    name: str  # dotted path; <CHECK> and <option> stand for a check id/slug and one of its options
    kind: str  # the TOML type expected
    default: str
    doc: str


KEYS = (
    Key("select", "array of strings", "every check",
        "Only these checks run: ids, slugs or id prefixes (`UDR` selects UDR001, UDR002, ...). "
        "`--select` on the command line replaces it."),
    Key("ignore", "array of strings", "none", "These checks do not run (ids, slugs or id prefixes). `--ignore` replaces it."),
    Key("frameworks", "array of strings", "every bundled framework",
        "The compliance frameworks whose controls the result reports on: ids or id prefixes, any case "
        "(`nist`, `pci`; `aksaudit frameworks list`). `--framework` on the command line replaces it."),
    Key("fail-on", "string", '"low"',
        f"Lowest severity that makes the exit code 1: {', '.join(FAIL_ON)} (any case). `--fail-on` overrides it."),
    Key("severity.<CHECK>", "string", "the check's own",
        f"The severity this check's findings get: {', '.join(s.value for s in Severity)} (any case)."),
    Key("checks.<CHECK>.<option>", "the option's type", "the check's own",
        "A check's option; the options of each check are listed below."),
    Key("output.json", "string (path)", "none", "Like `--json PATH`; the command-line flag wins."),
    Key("output.sarif", "string (path)", "none", "Like `--sarif PATH`."),
    Key("output.sarif-dir", "string (path)", "none", "Like `--sarif-dir DIR`."),
    Key("output.html", "string (path)", "none", "Like `--html PATH`."),
    Key("output.markdown", "string (path)", "none", "Like `--markdown PATH`."),
    Key("output.remediation", "string (path)", "none", "Like `--remediation PATH`."),
    Key("suppress[].check", "string", "required", "The check whose finding is an accepted risk (id or slug)."),
    Key("suppress[].resource", "string", "one of resource/resource-glob",
        "The exact resource id of the finding (case-insensitive)."),
    Key("suppress[].resource-glob", "string", "one of resource/resource-glob",
        "A shell-style glob over resource ids (`*/resourceGroups/rg-sandbox/*`)."),
    Key("suppress[].locus", "string", '"" (any)', "Only the finding at this locus inside the resource."),
    Key("suppress[].reason", "string", "required", "Why the risk is accepted; shown in every report."),
    Key("suppress[].expires", "date, or a string holding one", "never",
        "From this day on the suppression no longer applies and a warning says so: `2026-12-31` or "
        "`\"2026-12-31\"`."),
)


def _keys_under(prefix: str) -> set[str]:
    return {k.name[len(prefix):] for k in KEYS if k.name.startswith(prefix)}


TOP_KEYS = {k.name.split(".")[0].split("[")[0] for k in KEYS}
OUTPUT_KEYS = _keys_under("output.")
SUPPRESS_KEYS = _keys_under("suppress[].")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Config:
    source: str = ""  # the file it came from ('' when none was found)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    frameworks: tuple[str, ...] = ()  # framework ids; () means every bundled framework
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
                tool = tomllib.loads(project.read_text(encoding="utf-8")).get("tool", {})
                if isinstance(tool, dict) and "aksaudit" in tool:
                    return project
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError, RecursionError):
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
    except RecursionError as error:
        raise ConfigError(f"{path}: is nested too deeply to read") from error
    if path.name == "pyproject.toml":
        tool = _table(document.get("tool", {}), f"{path}: tool")
        return _table(tool.get("aksaudit", {}), f"{path}: tool.aksaudit")
    return document


def _check_id(registry: Registry, token: Any, where: str) -> str:
    if not isinstance(token, str):
        raise ConfigError(f"{where}: expected a check id or slug, found {_shown(token)}")
    check = registry.find(token)
    if check is None:
        raise ConfigError(f"{where}: unknown check {token!r} (see 'aksaudit checks list')")
    return check.id


def _selected(registry: Registry, value: Any, where: str) -> tuple[str, ...]:
    """select/ignore: ids, slugs or id prefixes, as on the command line."""
    ids: list[str] = []
    for token in _strings(value, where):
        matches = registry.matching(token)
        if not matches:
            raise ConfigError(f"{where}: unknown check {token!r} (see 'aksaudit checks list')")
        ids.extend(c.id for c in matches if c.id not in ids)
    return tuple(ids)


def _frameworks(value: Any, where: str) -> tuple[str, ...]:
    """frameworks: ids or id prefixes, as on the command line; () when none is named."""
    names = _strings(value, where)
    try:
        return tuple(f.id for f in select_frameworks(names)) if names else ()
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from error


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected an array of strings, found {_shown(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ConfigError(f"{where}[{index}]: expected a string, found {_shown(item)}")
    return tuple(value)


def _table(value: Any, where: str, expected: str = "a table") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected {expected}, found {_shown(value)}")
    return value


def _option_value(default: Any, value: Any, where: str) -> Any:
    """Options take the shape of their default: sequences stay lists of strings, scalars keep type
    (a boolean is not taken for a number)."""
    if isinstance(default, (tuple, list)):
        return _strings(value, where)
    wrong_bool = isinstance(value, bool) != isinstance(default, bool)
    if default is not None and (wrong_bool or not isinstance(value, type(default))):
        expected = _TOML_TYPES.get(type(default), type(default).__name__)
        raise ConfigError(f"{where}: expected {expected}, found {_shown(value)}")
    return value


def _date(value: Any, where: str) -> date | None:
    """A TOML date, or a string holding an ISO date (people quote dates, and TOML allows both)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where}: expected a date such as 2026-12-31 (quoted or not), found {_shown(value)}")


def _shown(value: Any) -> str:
    """A wrong value in a message: its type, and for short scalars the value (repr, so that a
    string is visibly a string)."""
    if isinstance(value, (dict, list)):
        return f"a {_TOML_TYPES.get(type(value), type(value).__name__)}"
    text = repr(value)
    kind = _TOML_TYPES.get(type(value), type(value).__name__)
    return f"{kind} {text[:60]}"


_TOML_TYPES = {str: "string", int: "integer", float: "float", bool: "boolean", dict: "table", list: "array",
               date: "date", datetime: "date-time"}


def _suppression(registry: Registry, index: int, raw: Any, source: str) -> Suppression:
    where = f"{source}: suppress[{index}]"
    raw = _table(raw, where)
    unknown = set(raw) - SUPPRESS_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(SUPPRESS_KEYS))})")
    for name in ("check", "reason", "resource", "resource-glob", "locus"):
        if name in raw and not isinstance(raw[name], str):
            raise ConfigError(f"{where}.{name}: expected a string, found {_shown(raw[name])}")
    for required in ("check", "reason"):
        if not raw.get(required, "").strip():
            raise ConfigError(f"{where}.{required}: required, a non-empty string")
    resource, glob = raw.get("resource", ""), raw.get("resource-glob", "")
    if bool(resource) == bool(glob):
        raise ConfigError(f"{where}: give exactly one of 'resource' (an exact id) or 'resource-glob'")
    expires = _date(raw.get("expires"), f"{where}.expires")
    return Suppression(index, _check_id(registry, raw["check"], f"{where}.check"), resource, glob,
                       raw.get("locus", ""), raw["reason"].strip(), expires, source)


def parse_config(document: Mapping[str, Any], source: str, registry: Registry) -> Config:
    unknown = set(document) - TOP_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(TOP_KEYS))})")
    select = _selected(registry, document.get("select", []), f"{source}: select")
    ignore = _selected(registry, document.get("ignore", []), f"{source}: ignore")
    frameworks = _frameworks(document.get("frameworks", []), f"{source}: frameworks")
    fail_on = document.get("fail-on")
    if fail_on is not None:
        if not isinstance(fail_on, str) or fail_on.strip().lower() not in FAIL_ON:
            raise ConfigError(f"{source}: fail-on: expected one of {', '.join(FAIL_ON)}, found {_shown(fail_on)}")
        fail_on = fail_on.strip().lower()
    severity = {}
    for token, value in _table(document.get("severity", {}), f"{source}: severity",
                               "a table of check = severity").items():
        check_id = _check_id(registry, token, f"{source}: severity.{token}")
        try:
            severity[check_id] = Severity(value.strip().lower() if isinstance(value, str) else value)
        except ValueError as error:
            raise ConfigError(f"{source}: severity.{token}: expected one of "
                              f"{', '.join(s.value for s in Severity)}, found {_shown(value)}") from error
    options: dict[str, dict[str, Any]] = {}
    checks = _table(document.get("checks", {}), f"{source}: checks", "a table of [checks.<ID>] tables")
    for token, values in checks.items():
        check_id = _check_id(registry, token, f"{source}: checks.{token}")
        known = registry.by_id()[check_id].meta.options
        for name, value in _table(values, f"{source}: checks.{token}").items():
            if name not in known:
                raise ConfigError(f"{source}: checks.{token}.{name}: unknown option "
                                  f"(known: {', '.join(sorted(known)) or 'none'})")
            options.setdefault(check_id, {})[name] = _option_value(known[name], value, f"{source}: checks.{token}.{name}")
    outputs = _table(document.get("output", {}), f"{source}: output")
    for name, value in outputs.items():
        if name not in OUTPUT_KEYS:
            raise ConfigError(f"{source}: output.{name}: unknown output (known: {', '.join(sorted(OUTPUT_KEYS))})")
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{source}: output.{name}: expected a path (a string), found {_shown(value)}")
    raw_suppress = document.get("suppress", [])
    if not isinstance(raw_suppress, list):
        raise ConfigError(f"{source}: suppress: expected [[suppress]] tables, found {_shown(raw_suppress)}")
    suppressions = tuple(_suppression(registry, i, raw, source) for i, raw in enumerate(raw_suppress))
    return Config(source, select, ignore, fail_on, frameworks, severity, options, dict(outputs), suppressions)


def load_config(registry: Registry, explicit: str | None, cwd: Path | None = None) -> Config:
    path = Path(explicit) if explicit else discover((cwd or Path.cwd()).resolve())
    if path is None:
        return Config()
    return parse_config(_read(path), str(path), registry)
