"""A report written piece by piece is byte for byte the report written whole.

JSON comes to `write_output` as pieces (at a million rows it is over 150 MB, never joined); the
pieces are gathered into batches, so the batch edges are where it could go wrong: a piece split,
dropped or doubled, or an unencodable character (a lone surrogate) escaped differently from the
whole text's escape. Every kind of target is tried: a regular file, a stream, and stdout.
"""
from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings, strategies as st

from aksaudit.cli import outputs
from aksaudit.collect.snapshot import estate_of, load_snapshot
from aksaudit.run.engine import run_scan
from aksaudit.run.registry import load_registry
from aksaudit.run.result_json import chunks, render

from conftest import EXAMPLES

PIECES = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(["\ud800", "é", "\n"]),
                          max_size=12), max_size=40)


def whole(pieces: list[str]) -> bytes:
    return "".join(pieces).encode("utf-8", "backslashreplace")


@settings(max_examples=200, deadline=None)
@given(pieces=PIECES, batch=st.integers(min_value=1, max_value=16))
def test_pieces_write_the_bytes_of_the_whole(tmp_path_factory, pieces, batch):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outputs, "BATCH", batch)
        target = tmp_path_factory.mktemp("pieces") / "report.json"
        outputs.write_output(target, iter(pieces))
        assert target.read_bytes() == whole(pieces)
        read, write = os.pipe()
        outputs.write_output(f"/dev/fd/{write}", iter(pieces))  # small enough for the pipe's buffer
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            assert pipe.read() == whole(pieces)


def test_pieces_on_stdout_are_the_whole_document(monkeypatch):
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="utf-8")
    monkeypatch.setattr(outputs.channels, "raw_stdout", lambda: stdout)
    monkeypatch.setattr(outputs, "BATCH", 100)
    result = run_scan(estate_of(load_snapshot(EXAMPLES / "tutorial.json")), load_registry().checks)
    outputs.write_output("-", chunks(result))
    assert buffer.getvalue() == render(result).encode("utf-8")
