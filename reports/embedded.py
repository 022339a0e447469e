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
_SCRIPT_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def embed_json(data: Any) -> Markup:
    """JSON text that is inert inside a <script type="application/json"> element.

    One `str.replace` per character (none of the replacements contains another's character):
    on a report of tens of megabytes that is a fraction of what `str.translate` with a table costs.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _SCRIPT_SAFE:
        text = text.replace(char, escaped)
    return Markup(text)


def intern_strings(data: Any) -> tuple[list[str], Any]:
    """(table, data with repeated long strings replaced by references into the table).

    One walk copies the data (tuples become lists) and notes where each candidate string sits;
    counting them and patching the repeated ones in place then needs no second walk. The table
    lists strings in the order the walk first meets them, as the page expects.
    """
    places: list[tuple[Any, Any, str]] = []  # (container, key or index, string), in walk order

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            copy = {}
            for key, item in value.items():
                if isinstance(item, str):
                    copy[key] = item
                    if len(item) >= MIN_LENGTH or item.startswith(REF):
                        places.append((copy, key, item))
                else:
                    copy[key] = walk(item)
            return copy
        if isinstance(value, (list, tuple)):
            copy_list = []
            for item in value:
                if isinstance(item, str):
                    if len(item) >= MIN_LENGTH or item.startswith(REF):
                        places.append((copy_list, len(copy_list), item))
                    copy_list.append(item)
                else:
                    copy_list.append(walk(item))
            return copy_list
        if isinstance(value, str):  # a str subclass, or the top level
            return value
        return value

    root: list[Any] = []
    if isinstance(data, str):
        if len(data) >= MIN_LENGTH or data.startswith(REF):
            places.append((root, 0, data))
        root.append(data)
    else:
        root.append(walk(data))
    counts = Counter(text for _, _, text in places)
    table: list[str] = []
    index: dict[str, int] = {}
    for container, key, text in places:
        if text.startswith(REF) or counts[text] > 1:
            number = index.get(text)
            if number is None:
                number = index[text] = len(table)
                table.append(text)
            container[key] = f"{REF}{number}"
    return table, root[0]


def resolve_strings(table: list[str], data: Any) -> Any:
    """The inverse of `intern_strings` (the page's script does the same while parsing)."""
    if isinstance(data, str):
        return table[int(data[1:])] if data.startswith(REF) else data
    if isinstance(data, dict):
        return {key: resolve_strings(table, item) for key, item in data.items()}
    if isinstance(data, list):
        return [resolve_strings(table, item) for item in data]
    return data
