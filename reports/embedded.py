"""The report's data inside the page: inert in a <script> element, and compact.

ARM ids repeat everywhere: a 10,000-finding scan names the same cluster, subnet and route table
in thousands of evidence entries and path boxes. Each repeated long string is stored once in a
table and referenced as NUL + its index; a string that itself starts with NUL is always tabled,
so the encoding stays unambiguous whatever the scanned data holds.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from markupsafe import Markup

REF = "\x00"
MIN_LENGTH = 16  # shorter strings cost less inline than as a reference

# JSON inside <script> must not be able to close the element or open a comment there.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})


def embed_json(data: Any) -> Markup:
    """JSON text that is inert inside a <script type="application/json"> element."""
    return Markup(json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE))


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def intern_strings(data: Any) -> tuple[list[str], Any]:
    """(table, data with repeated long strings replaced by references into the table)."""
    counts = Counter(s for s in _strings(data) if len(s) >= MIN_LENGTH or s.startswith(REF))
    table: list[str] = []
    index: dict[str, int] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith(REF) or counts.get(value, 0) > 1:
                if value not in index:
                    index[value] = len(table)
                    table.append(value)
                return f"{REF}{index[value]}"
            return value
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(item) for item in value]
        return value

    return table, walk(data)


def resolve_strings(table: list[str], data: Any) -> Any:
    """The inverse of `intern_strings` (the page's script does the same while parsing)."""
    if isinstance(data, str):
        return table[int(data[1:])] if data.startswith(REF) else data
    if isinstance(data, dict):
        return {key: resolve_strings(table, item) for key, item in data.items()}
    if isinstance(data, list):
        return [resolve_strings(table, item) for item in data]
    return data
