"""Validating a JSON v1 document against `reports/aksaudit-v1.schema.json`, fast enough for
results with tens of thousands of findings.

A general validator spends about 150 µs per finding (11 s for 50,000: longer than the scan that
wrote them), so the findings and resolved findings are checked by a predicate compiled once from
the schema's own definitions of a finding, and only the rest of the document by `jsonschema`.
The predicate understands the keywords those definitions use (type, enum, const, pattern,
minimum, required, properties, items) and refuses to compile a schema with any other, so it can
never be laxer than the schema. When a finding fails it, `jsonschema` validates that one finding
to say what is wrong.

Evidence is the checks' own record: it is only required to be an object here, and whoever uses a
piece of it (a fix template) copes with a piece it cannot use.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Mapping

SCHEMA_FILE = "aksaudit-v1.schema.json"
RECORD_LISTS = {"findings": "finding", "resolved": "finding_record"}  # top-level list -> its item definition
ANNOTATIONS = frozenset({"description", "title", "format", "$comment"})  # not assertions (format is not asserted by default)
Predicate = Callable[[Any], bool]


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_TYPES: Mapping[str, Predicate] = {
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None, "integer": _is_integer,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    return type(a) is type(b) and a == b


def _keyword(keyword: str, value: Any) -> Predicate:
    if keyword == "type":
        kinds = [_TYPES[name] for name in ([value] if isinstance(value, str) else value)]
        return lambda v: any(kind(v) for kind in kinds)
    if keyword == "enum":
        return lambda v: any(_same(v, option) for option in value)
    if keyword == "const":
        return lambda v: _same(v, value)
    if keyword == "pattern":
        pattern = re.compile(value)
        return lambda v: not isinstance(v, str) or pattern.search(v) is not None
    if keyword == "minimum":
        return lambda v: not _TYPES["number"](v) or v >= value
    if keyword == "required":
        return lambda v: not isinstance(v, dict) or all(key in v for key in value)
    if keyword == "properties":
        compiled = {key: compile_schema(sub) for key, sub in value.items()}
        return lambda v: not isinstance(v, dict) or all(check(v[key]) for key, check in compiled.items() if key in v)
    if keyword == "items":
        check = compile_schema(value)
        return lambda v: not isinstance(v, list) or all(check(item) for item in v)
    raise ValueError(f"the finding predicate does not understand the schema keyword '{keyword}'")


def compile_schema(schema: Mapping[str, Any]) -> Predicate:
    """A predicate true exactly when `schema` (within the keywords above) accepts the value."""
    checks = [_keyword(keyword, value) for keyword, value in schema.items() if keyword not in ANNOTATIONS]
    return lambda v: all(check(v) for check in checks)


@dataclass(frozen=True)
class Validators:
    document: Any  # jsonschema validator of the document with its finding lists left to `records`
    records: Mapping[str, tuple[Predicate, Any]]  # list name -> (fast predicate, jsonschema validator of one item)


def schema() -> dict[str, Any]:
    """The published schema, with evidence accepted as any object (see the module docstring)."""
    text = resources.files("aksaudit.reports").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded = copy.deepcopy(json.loads(text))
    for definition in RECORD_LISTS.values():
        loaded["$defs"][definition]["properties"]["evidence"] = {"type": "object"}
    return loaded


@lru_cache(maxsize=1)
def validators() -> Validators:
    from jsonschema import Draft202012Validator

    full = schema()
    outer = copy.deepcopy(full)
    records = {}
    for name, definition in RECORD_LISTS.items():
        outer["properties"][name] = {"type": "array"}
        records[name] = (compile_schema(full["$defs"][definition]), Draft202012Validator(full["$defs"][definition]))
    return Validators(Draft202012Validator(outer), records)


def first_problem(document: Any) -> tuple[str, str] | None:
    """(where, what) of the most telling schema violation, or None when the document is valid."""
    from jsonschema.exceptions import best_match

    checks = validators()
    error = best_match(checks.document.iter_errors(document))
    if error is not None:
        return _where(error.absolute_path), error.message
    for name, (fast, item_validator) in checks.records.items():
        for index, item in enumerate(document.get(name) or ()):
            if not fast(item):
                error = best_match(item_validator.iter_errors(item))
                if error is not None:
                    return _where([name, index, *error.absolute_path]), error.message
    return None


def _where(path: Any) -> str:
    return "/".join(str(part) for part in path) or "the document"
