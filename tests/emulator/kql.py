"""The slice of KQL the emulator understands: exactly what aksaudit sends, and nothing more.

A table name, then any of `where type in~ (...)` / `in` / `=~` / `==` (the column may also be
`tostring(a.b.c)`, a nested property as a string, as the change-history queries send it),
`project a, b.c`, `order by col asc|desc`. Anything else is refused with a 400, so a collector change that sends
KQL the emulator cannot honestly answer fails loudly instead of passing on a guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

TABLES = ("resources", "networkresources", "resourcecontainers", "resourcechanges", "networkresourcechanges")

_WHERE = re.compile(r"^where\s+(\w+|tostring\(\s*\w+(?:\.\w+)*\s*\))\s+(in~|in|=~|==)\s+(.+)$",
                    re.IGNORECASE | re.DOTALL)
_PROJECT = re.compile(r"^project\s+(.+)$", re.IGNORECASE | re.DOTALL)
_ORDER = re.compile(r"^(?:order|sort)\s+by\s+(\w+)(?:\s+(asc|desc))?$", re.IGNORECASE)
_STRING = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""")


class QueryError(ValueError):
    """KQL outside the supported subset (the emulator answers 400 InvalidQuery)."""


@dataclass(frozen=True)
class Query:
    table: str
    filters: tuple[Callable[[Mapping[str, Any]], bool], ...]
    columns: tuple[str, ...] | None
    order: tuple[str, bool] | None  # (column, descending)

    def run(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        kept = [row for row in rows if all(f(row) for f in self.filters)]
        if self.order:
            column, descending = self.order
            kept.sort(key=lambda r: str(r.get(column) or "").lower(), reverse=descending)
        if self.columns is None:
            return [dict(r) for r in kept]
        return [{_flat(c): _path(r, c) for c in self.columns} for r in kept]


def _flat(column: str) -> str:
    """ARG names a projected nested property by joining its path with '_'."""
    return column.replace(".", "_")


def _path(row: Mapping[str, Any], column: str) -> Any:
    value: Any = row
    for part in column.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _split_pipes(text: str) -> list[str]:
    stages, current, quote = [], [], ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "|":
            stages.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    stages.append("".join(current).strip())
    return stages


def _strings(text: str) -> list[str]:
    found = [(a if a is not None else b) for a, b in _STRING.findall(text)]
    return [re.sub(r"\\(.)", r"\1", value) for value in found]


def _where(stage: str) -> Callable[[Mapping[str, Any]], bool]:
    match = _WHERE.match(stage)
    if not match:
        raise QueryError(f"unsupported where clause: {stage}")
    column, operator, operand = match.groups()
    operator = operator.lower()
    if operator.startswith("in"):
        inner = operand.strip()
        if not (inner.startswith("(") and inner.endswith(")")):
            raise QueryError(f"'{operator}' needs a parenthesised list: {stage}")
        values = _strings(inner)
    else:
        values = _strings(operand)
        if len(values) != 1:
            raise QueryError(f"'{operator}' needs one string: {stage}")
    insensitive = operator in ("in~", "=~")
    wanted = {v.lower() for v in values} if insensitive else set(values)
    nested = column.lower().startswith("tostring(")
    path = column[column.index("(") + 1:-1].strip() if nested else column

    def keep(row: Mapping[str, Any]) -> bool:
        found = _path(row, path) if nested else row.get(column, "")
        value = "" if found is None else found if isinstance(found, str) else str(found)
        return (value.lower() if insensitive else value) in wanted

    return keep


def parse(text: str) -> Query:
    stages = _split_pipes(text)
    table = stages[0].lower()
    if table not in TABLES:
        raise QueryError(f"unknown table '{stages[0]}' (emulated: {', '.join(TABLES)})")
    filters, columns, order = [], None, None
    for stage in stages[1:]:
        keyword = stage.split(None, 1)[0].lower() if stage else ""
        if keyword == "where":
            filters.append(_where(stage))
        elif keyword == "project":
            columns = tuple(c.strip() for c in _PROJECT.match(stage).group(1).split(","))
        elif keyword in ("order", "sort") and _ORDER.match(stage):
            column, direction = _ORDER.match(stage).groups()
            order = (column, (direction or "desc").lower() == "desc")
        else:
            raise QueryError(f"unsupported operator: {stage}")
    return Query(table, tuple(filters), columns, order)
