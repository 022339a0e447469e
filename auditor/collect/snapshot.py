"""Reading estates from files: raw ARG rows, `az graph query -o json` output, or our snapshots.

A file that is not one of those is an input error naming the file (exit 2). Single rows with
the wrong shape are not: the model rejects them one by one and the scan goes on, incomplete.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from aksaudit.model.input_limits import LimitError, max_snapshot_bytes, too_large
from aksaudit.model.estate import Estate, build_estate
from .stream import NotStreamable, StreamedRows, layout

SNAPSHOT_FORMAT = "aksaudit-snapshot"
SNAPSHOT_VERSION = 1


class InputError(Exception):
    """The input cannot be used at all; the message names the file and what is wrong."""


def check_size(name: str, size: int) -> None:
    """Refuse, naming the file, a snapshot larger than the memory aksaudit may use (see limits)."""
    try:
        limit = max_snapshot_bytes()
    except LimitError as error:
        raise InputError(str(error)) from error
    if size > limit:
        raise InputError(too_large(name, size, limit))


@dataclass(frozen=True)
class Snapshot:
    rows: list[Any] | Iterable[Any]  # a list, except from `open_snapshot` (re-iterable, streamed)
    meta: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    scopes: tuple[str, ...] = ()  # what a live collection covered; files report themselves instead

    @property
    def scope_labels(self) -> tuple[str, ...]:
        return self.scopes or (f"snapshot:{self.source}",)

    @property
    def unreadable_scopes(self) -> tuple[str, ...]:
        """Subscriptions collection could not read: references into them are gaps, not absences."""
        return tuple(str(s) for s in self.meta.get("unreadable_subscriptions", ()) or ())

    @property
    def hub_lookups(self) -> dict[str, str]:
        """Virtual hubs whose routing intent and connections the collector asked ARM for: '' when
        read, else why not. Anything but an object of strings reads as no record (each hub is then
        judged by the rows alone, which fails closed)."""
        record = self.meta.get("virtual_hub_lookups")
        if not isinstance(record, Mapping):
            return {}
        return {str(k): v for k, v in record.items() if isinstance(v, str)}

    @property
    def route_lookups(self) -> dict[str, str] | None:
        """AKS subnets whose effective routes `--effective-routes` asked Azure for: '' when read, else
        why not; None when the option was off (then no verdict depends on them). A record that
        is not an object of strings reads as present but empty, so the checks find every subnet
        unread: fail closed."""
        record = self.meta.get("effective_route_lookups")
        if record is None:
            return None
        if not isinstance(record, Mapping):
            return {}
        return {str(k): v for k, v in record.items() if isinstance(v, str)}

    @property
    def complete(self) -> bool:
        """Our own snapshots record whether collection saw everything; other formats cannot say.
        Anything there but JSON `true` (false, "false", null, 0), or any error listed beside it,
        counts as incomplete: fail closed."""
        return self.meta.get("complete", True) is True and not self.meta.get("errors")

    @property
    def gaps(self) -> tuple[str, ...]:
        """What is missing; an incomplete snapshot always names at least one gap, so a scan of it
        can never come out complete."""
        errors = self.meta.get("errors", ()) or ()
        found = (str(errors),) if isinstance(errors, str) else tuple(str(e) for e in errors) \
            if isinstance(errors, (list, tuple)) else (f"'errors' is {type(errors).__name__}: {errors!r}",)
        if not found and not self.complete:
            found = (f"{self.source or 'the snapshot'} says it is incomplete (meta.complete is "
                     f"{self.meta.get('complete')!r}) without naming what is missing",)
        return found


def estate_of(snapshot: Snapshot) -> Estate:
    """The model of a snapshot, with what its collection could not read marked as gaps."""
    return build_estate(snapshot.rows, source=snapshot.source, unreadable_scopes=snapshot.unreadable_scopes,
                        hub_lookups=snapshot.hub_lookups, route_lookups=snapshot.route_lookups)


def snapshot_document(snapshot: Snapshot) -> dict[str, Any]:
    """The file `aksaudit snapshot` writes and `scan --snapshot` reads back.

    `meta` comes first so that a later scan learns it before the rows and reads the file once.
    """
    return {"meta": dict(snapshot.meta), "rows": list(snapshot.rows)}


def _table_rows(data: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    """ARG's `resultFormat: table` shape: columns + rows of values."""
    try:
        names = [column["name"] for column in data["columns"]]
        return [dict(zip(names, values)) for values in data["rows"]]
    except (KeyError, TypeError) as error:
        raise InputError(f"{path}: 'data' looks like a table result but is malformed ({error})") from error


def _partial(document: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Meta marking a query result (az graph query -o json, or the REST body) incomplete when it
    says more rows exist than it holds: truncated, a skip token left unfollowed, or a total above
    its count. Such a file must never scan as complete."""
    reasons = []
    truncated = document.get("resultTruncated", document.get("result_truncated", False))
    if str(truncated).lower() == "true":
        reasons.append("resultTruncated is true")
    if any(document.get(key) for key in ("skip_token", "$skipToken", "skipToken")):
        reasons.append("it has a skip token: later pages were not fetched")
    total = document.get("total_records", document.get("totalRecords"))
    count = document.get("count")
    if type(total) is int and type(count) is int and total > count:
        reasons.append(f"it holds {count} of {total} rows (totalRecords)")
    if not reasons:
        return {}
    return {"complete": False, "errors": [f"{path}: the query result is partial: {'; '.join(reasons)}"]}


def parse_snapshot(document: Any, path: str) -> Snapshot:
    if isinstance(document, list):
        return Snapshot(document, {}, path)
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a JSON array of Resource Graph rows or an object holding them, "
                         f"found {type(document).__name__}")
    if "rows" in document:
        rows, meta = document["rows"], document.get("meta") or {}
        if not isinstance(rows, list):
            raise InputError(f"{path}: 'rows' is {type(rows).__name__}, expected an array of rows")
        if not isinstance(meta, dict):
            raise InputError(f"{path}: 'meta' is {type(meta).__name__}, expected an object")
        return Snapshot(rows, meta, path)
    if "data" in document:
        data = document["data"]
        if isinstance(data, dict):
            return Snapshot(_table_rows(data, path), _partial(document, path), path)
        if not isinstance(data, list):
            raise InputError(f"{path}: 'data' is {type(data).__name__}, expected an array of rows")
        return Snapshot(data, _partial(document, path), path)
    raise InputError(f"{path}: JSON object has neither 'rows' (aksaudit snapshot) nor 'data' "
                     f"(az graph query output); keys found: {', '.join(sorted(document)) or 'none'}")


def read_json(path: str | Path, *, snapshot: bool = False) -> Any:
    """The JSON document in a file. Every way it cannot be read (missing, a directory, not
    UTF-8, not JSON, nested beyond the parser, and for a snapshot larger than the memory
    aksaudit may use) is an InputError naming the file, never a traceback."""
    name = str(path)
    file = Path(path)
    try:
        if snapshot:
            check_size(name, file.stat().st_size)
        with file.open("rb") as handle:
            return json.load(handle)
    except FileNotFoundError as error:
        raise InputError(f"{name}: no such file") from error
    except IsADirectoryError as error:
        raise InputError(f"{name}: is a directory, expected a JSON file") from error
    except PermissionError as error:
        raise InputError(f"{name}: cannot be read (permission denied)") from error
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: is not UTF-8 text ({error.reason})") from error
    except json.JSONDecodeError as error:
        hint = ("; if it is `az graph query` output, write it with `-o json`"
                if snapshot and error.doc.lstrip()[:1] not in ("[", "{") else "")
        raise InputError(f"{name}: is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}){hint}") from error
    except RecursionError as error:
        raise InputError(f"{name}: JSON is nested too deeply to read") from error
    except OSError as error:
        raise InputError(f"{name}: cannot be read ({error.strerror or error})") from error


def load_snapshot(path: str | Path) -> Snapshot:
    return parse_snapshot(read_json(path, snapshot=True), str(path))


class _GuardedRows:
    """Streamed rows that fail the way a whole-file read fails: on any trouble the file is read
    by `load_snapshot`, which raises the same InputError as before streaming existed (or, for the
    odd file only it can read, hands over the rows not yet yielded)."""

    def __init__(self, path: str | Path, row_key: str | None) -> None:
        self._path = path
        self._rows = StreamedRows(path, row_key)

    def __iter__(self) -> Iterator[Any]:
        done = 0
        try:
            for row in self._rows:
                yield row
                done += 1
        except (NotStreamable, OSError, UnicodeDecodeError, RecursionError):
            yield from load_snapshot(self._path).rows[done:]


def open_snapshot(path: str | Path) -> Snapshot:
    """Like `load_snapshot`, but the rows stay in the file until they are iterated, one at a time.

    A million-row estate then never exists in memory as Python objects all at once: the model
    keeps its typed view of each row and drops the row. Meta and format errors are found before
    this returns; a row-level syntax error surfaces as the same InputError while iterating.
    """
    name = str(path)
    try:
        if not Path(path).is_file():
            return load_snapshot(path)  # raises the InputError a whole-file read gives
        check_size(name, Path(path).stat().st_size)
        found = layout(path)
    except (NotStreamable, OSError, UnicodeDecodeError, RecursionError):
        return load_snapshot(path)
    return replace(parse_snapshot(found.document, name), rows=_GuardedRows(path, found.row_key))
