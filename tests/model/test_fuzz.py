"""Fuzzing: mutated Resource Graph rows go through load -> model -> every check -> every renderer.

The property: nothing raises, and every row the model rejects is named in a warning. The `ci`
profile (default) runs a few hundred examples; `--hypothesis-profile=long` runs tens of
thousands (its latest result is recorded in docs/reliability.md).
"""
from __future__ import annotations

import copy
import json
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aksaudit.collect.snapshot import InputError, open_snapshot, parse_snapshot
from aksaudit.run.engine import run_scan
from aksaudit.model.estate import build_estate
from aksaudit.run.registry import load_registry

from conftest import EXAMPLES
from renderers import all_renderers

REGISTRY = load_registry()
SEED_ROWS = [row for name in ("tutorial.json", "hub-spoke-drifted.json")
             for row in json.loads((EXAMPLES / name).read_text())]

ODD_TEXT = st.sampled_from(["", " ", "\u202e", "\x00", "\x1b[31m", "名前", "<script>", "10.0.0.0/33", "::/0",
                            "2001:db8::/32", "0.0.0.0/0", "*", "AzureCloud", "x" * 300, "1-65535", "true"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True), ODD_TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(ODD_TEXT, inner, max_size=4)), max_leaves=12)


def _paths(value, prefix=()):
    """Every (path) inside a JSON value, so a mutation can land anywhere."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated_rows(draw):
    rows = copy.deepcopy(draw(st.lists(st.sampled_from(SEED_ROWS), min_size=1, max_size=12)))
    for _ in range(draw(st.integers(0, 6))):
        row_index = draw(st.integers(0, len(rows) - 1))
        row = rows[row_index]
        paths = [p for p in _paths(row) if p]
        if not paths or not isinstance(row, dict):
            continue
        path = draw(st.sampled_from(paths))
        parent = row
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "case", "nest", "duplicate", "wrap", "huge"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "case" and isinstance(parent[path[-1]], str):
            parent[path[-1]] = draw(st.sampled_from([str.upper, str.lower, str.swapcase]))(parent[path[-1]])
        elif action == "nest":
            nested = parent[path[-1]]
            for _ in range(draw(st.integers(1, 60))):
                nested = {"properties": nested} if draw(st.booleans()) else [nested]
            parent[path[-1]] = nested
        elif action == "duplicate":
            rows.append(copy.deepcopy(row))
        elif action == "wrap":
            rows[row_index] = draw(st.sampled_from([None, 7, "row", [row]]))
        elif action == "huge":  # a long list where the model expects a few items (or none)
            item = parent[path[-1]]
            # Up to 3,000 copies, but about 300 kB at most: a copied subtree may hold many rules,
            # each a finding, and every renderer runs on every example.
            size = len(json.dumps(item, default=str)) + 1
            copies = max(2, min(draw(st.integers(100, 3000)), 300_000 // size))
            parent[path[-1]] = [copy.deepcopy(item) for _ in range(copies)]  # no sharing: the size is real
    return rows


def _exercise(rows):
    estate = build_estate(rows, source="fuzz")
    result = run_scan(estate, REGISTRY.checks)
    assert not [e for e in result.errors if e.startswith("check ")], result.errors
    for rejected in estate.rejected:
        assert any(f"row {rejected.index}" in w for w in result.warnings)
    for name, render in all_renderers():
        output = render(result)
        assert output is not None, name
    return result


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(mutated_rows())
def test_mutated_rows_never_crash_and_rejections_are_named(rows):
    _exercise(rows)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(VALUES)
def test_arbitrary_snapshot_documents_are_rows_or_a_clear_input_error(document):
    try:
        snapshot = parse_snapshot(document, "fuzz.json")
    except InputError as error:
        assert str(error).startswith("fuzz.json: ")
        return
    _exercise(snapshot.rows)


FILE_SHAPES = ("array", "snapshot", "snapshot-meta-last", "az", "table")


def _document(rows, shape):
    if shape == "array":
        return rows
    if shape == "snapshot":
        return {"meta": {"format": "aksaudit-snapshot", "format_version": 1, "complete": True}, "rows": rows}
    if shape == "snapshot-meta-last":
        return {"rows": rows, "meta": {"complete": True}}
    if shape == "az":
        return {"count": len(rows), "data": rows, "skip_token": None, "total_records": len(rows)}
    columns = sorted({k for row in rows if isinstance(row, dict) for k in row})
    return {"data": {"columns": [{"name": c, "type": "string"} for c in columns],
                     "rows": [[row.get(c) if isinstance(row, dict) else None for c in columns] for row in rows]}}


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(mutated_rows(), st.sampled_from(FILE_SHAPES), st.booleans(), st.sampled_from(["none", "cut", "junk", "bytes"]),
       st.integers(0, 10**9))
def test_snapshot_files_give_rows_or_an_input_error_naming_the_file(rows, shape, bom, damage, where):
    """A snapshot file as users hand it over, maybe damaged, through the streaming loader."""
    text = json.dumps(_document(rows, shape), indent=draw_indent(where), ensure_ascii=bool(where % 2))
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    if damage == "cut":
        data = data[: where % max(1, len(data))]
    elif damage == "junk":
        at = where % (len(data) + 1)
        data = data[:at] + b"}]\x00,{" + data[at:]
    elif damage == "bytes":
        at = where % (len(data) + 1)
        data = data[:at] + b"\xff\xfe" + data[at:]
    handle, name = tempfile.mkstemp(prefix="fuzz-", suffix=".json")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            snapshot = open_snapshot(name)
            _exercise(list(snapshot.rows))
        except InputError as error:
            assert str(error).startswith(f"{name}: "), error
    finally:
        os.unlink(name)


def draw_indent(where: int):
    return (None, 0, 1, 2)[where % 4]
