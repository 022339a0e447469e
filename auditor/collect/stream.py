"""Reading the rows of a large estate file one at a time instead of all at once.

A tenant-wide snapshot can hold a million rows and weigh gigabytes; `json.load` turns that into
Python objects several times the file's size before the first row is parsed. The model keeps only
a small typed view of each row, so the rows themselves need never coexist: this module walks the
file's row array and hands out one decoded row at a time (the standard library's C scanner
decodes each row; only the array's punctuation is walked here).

Files are read as they are written by the tools aksaudit accepts: a bare array of rows, an
aksaudit snapshot `{"meta": ..., "rows": [...]}` (either key order), and `az graph query -o json`
output `{"count", "data": [...], "skip_token", ...}`. The keys other than the row array are
small and are decoded whole; when one of them comes after the array, the first pass steps over
the array row by row (decoding and dropping each) to reach it. Anything else (a table-format
result, UTF-16 text, duplicate keys) is left to `json.load`, as are all errors, so a broken
file is reported with exactly the message a whole-file parse gives.
"""
from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

CHUNK = 4 * 1024 * 1024  # characters decoded per read: large enough that refills are rare
ROW_KEYS = ("rows", "data")  # top-level keys whose array value is streamed
_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


class NotStreamable(Exception):
    """The file is valid-looking JSON this reader does not handle, or not valid JSON: load it whole."""


class _Text:
    """A growing window over the decoded file: `buf[pos:]` is what has not been consumed yet."""

    def __init__(self, path: Path) -> None:
        self._handle = path.open("rb")
        head = self._handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            head = head[3:]
        elif json.detect_encoding(head) != "utf-8":
            self._handle.close()
            raise NotStreamable("not UTF-8")
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = self._decode(head)
        self.pos = 0
        self.eof = False

    def _decode(self, data: bytes, final: bool = False) -> str:
        try:
            return self._decoder.decode(data, final)
        except UnicodeDecodeError as error:
            raise NotStreamable("not UTF-8") from error

    def close(self) -> None:
        self._handle.close()

    def more(self, at_least: int = CHUNK) -> bool:
        """Read more text; False at the end of the file. Drops what was consumed already."""
        if self.eof:
            return False
        data = self._handle.read(max(CHUNK, at_least))
        self.eof = not data
        self.buf = self.buf[self.pos:] + self._decode(data, final=self.eof)
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character, '' at the end of the file."""
        while True:
            buf, pos = self.buf, self.pos
            while pos < len(buf) and buf[pos] in _WHITESPACE:
                pos += 1
            self.pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self.more():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise NotStreamable(f"expected {char!r}")
        self.pos += 1

    def closed(self, close: str) -> bool:
        """After an element: step over ',' (False: more follow) or the closing `close` (True)."""
        char = self.peek()
        self.pos += 1
        if char == close:
            return True
        if char != ",":
            raise NotStreamable(f"expected ',' or {close!r}")
        return False

    def value(self) -> Any:
        """Decode one JSON value at the cursor, reading further while it is cut off by the window."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as error:
                # Cut off by the window, or broken: read on (doubling, so a huge row costs few
                # re-parses) and only call it broken at the end of the file.
                if self.more(2 * (len(self.buf) - self.pos)):
                    continue
                raise NotStreamable(str(error)) from error
            # A number at the very end of the window may continue in the next read.
            if end == len(self.buf) and not self.eof and self.more(2 * (len(self.buf) - self.pos)):
                continue
            self.pos = end
            return value


def _array(text: _Text) -> Iterator[Any]:
    """The elements of the array at the cursor, leaving the cursor after its closing bracket."""
    text.expect("[")
    if text.peek() == "]":
        text.pos += 1
        return
    while True:
        yield text.value()
        if text.closed("]"):
            return


@dataclass(frozen=True)
class Layout:
    """What the first pass learned: the document without its row array, and which key holds it."""

    document: Any  # the top-level value with the row array replaced by [] ([] for a bare array)
    row_key: str | None  # None for a bare array


def _walk(path: Path, row_key: str | None, keep: bool) -> Iterator[Any]:
    """Yield the rows under `row_key` (the whole array when None), or, with `keep` False, the
    other top-level values as (key, value) pairs after stepping over every array in ROW_KEYS."""
    text = _Text(path)
    try:
        first = text.peek()
        if first == "[":
            if keep:
                yield from _array(text)
            else:
                for _ in _array(text):
                    pass
        elif first == "{":
            text.pos += 1
            seen: set[str] = set()
            if text.peek() == "}":
                text.pos += 1
            else:
                while True:
                    key = text.value()
                    if not isinstance(key, str) or key in seen:
                        raise NotStreamable("odd or duplicate key")
                    seen.add(key)
                    text.expect(":")
                    if key in ROW_KEYS and text.peek() == "[":
                        if keep and key == row_key:
                            yield from _array(text)
                        else:
                            for _ in _array(text):
                                pass
                            if not keep:
                                yield key, []
                    else:
                        value = text.value()
                        if not keep:
                            yield key, value
                    if text.closed("}"):
                        break
        else:
            raise NotStreamable("top level is neither an array nor an object")
        if text.peek() != "":
            raise NotStreamable("extra data after the document")
    finally:
        text.close()


def layout(path: str | Path) -> Layout:
    """First pass: every top-level value except the row arrays (read over, not kept)."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(64)
    start = head.lstrip(codecs.BOM_UTF8).lstrip()
    if start.startswith(b"["):
        # A bare array: nothing else in the file, so nothing to read ahead for. Its rows are
        # checked on the streaming pass.
        return Layout([], None)
    document = dict(_walk(path, None, keep=False))
    row_key = "rows" if "rows" in document else "data" if "data" in document else None
    if row_key is None or document[row_key] != []:
        # No streamable row array (e.g. a table-format `data` object): the caller loads it whole.
        raise NotStreamable("no row array")
    return Layout(document, row_key)


class StreamedRows:
    """The rows of one file, decoded afresh on each iteration; the file is never held in memory."""

    def __init__(self, path: str | Path, row_key: str | None) -> None:
        self.path = Path(path)
        self.row_key = row_key

    def __iter__(self) -> Iterator[Any]:
        return _walk(self.path, self.row_key, keep=True)
