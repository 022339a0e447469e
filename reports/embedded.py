"""The report's data inside the page: inert in a <script> element, and compact.

ARM ids repeat everywhere: a 10,000-finding scan names the same cluster, subnet and route table
in thousands of evidence entries and path boxes. Each repeated long string is stored once in a
table and referenced as NUL + its index; a string that itself starts with NUL is always tabled,
so the encoding stays unambiguous whatever the scanned data holds.

What a page needs only for the one item someone opens (a finding's evidence and fix: most of
the bytes) is packed in groups instead, each group deflated and base64-encoded (`pack_groups`):
the browser then reads and parses a few megabytes at load, not tens, and inflates one group
when an item of it is opened.
"""
from __future__ import annotations

import base64
import json
import zlib
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


def pack_groups(items: list[Any], size: int) -> list[str]:
    """`items` in consecutive groups of `size`: each group's JSON, zlib-deflated, in base64.

    ASCII JSON (`ensure_ascii`), so any string, a lone surrogate included, survives the trip as
    an escape that the page's JSON.parse reads back; base64 holds nothing a <script> element or
    HTML could take for markup.
    """
    return [base64.b64encode(zlib.compress(json.dumps(items[start:start + size], separators=(",", ":"))
                                           .encode("ascii"))).decode("ascii")
            for start in range(0, len(items), size)]


def unpack_groups(groups: list[str]) -> list[Any]:
    """The inverse of `pack_groups` (the page's script inflates one group at a time)."""
    return [item for group in groups for item in json.loads(zlib.decompress(base64.b64decode(group)))]


def intern_strings(data: Any) -> tuple[list[str], Any]:
    """(table, data with repeated long strings replaced by references into the table).

    Works in place, for data built for the page alone (the HTML report builds it fresh): a copy
    of tens of thousands of findings' evidence cost as much as the walk itself. Tuples become
    lists in their parent. One walk does it all: a string seen once is remembered with its
    place, and patched there too when it is seen again, so nothing is counted or walked twice.
    The table lists strings in the order they turn out to repeat (deterministic for given data).
    """
    table: list[str] = []
    refs: dict[str, str] = {}  # tabled string -> its reference
    first: dict[str, tuple[Any, Any]] = {}  # string seen once -> where

    def ref(text: str) -> str:
        found = refs[text] = f"{REF}{len(table)}"
        table.append(text)
        return found

    def walk(container: Any, keys: Any) -> None:
        for key in keys:
            item = container[key]
            if isinstance(item, str):
                if len(item) < MIN_LENGTH and not item.startswith(REF):
                    continue
                found = refs.get(item)
                if found is None:
                    place = first.pop(item, None)
                    if place is None and not item.startswith(REF):
                        first[item] = (container, key)
                        continue
                    found = ref(item)
                    if place is not None:
                        place[0][place[1]] = found
                container[key] = found
            elif isinstance(item, dict):
                walk(item, list(item))
            elif isinstance(item, (list, tuple)):
                if isinstance(item, tuple):
                    item = container[key] = list(item)
                walk(item, range(len(item)))

    root: list[Any] = [data]
    walk(root, range(1))
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
