"""Streaming estate files: `open_snapshot` yields what `load_snapshot` gives, or fails the same way.

`scan --snapshot` reads rows one at a time so a million-row file never sits in memory as
Python objects. That must be invisible: the same rows, the same meta, the same InputError
messages for broken files, whatever the key order and wherever a read boundary falls.
"""
from __future__ import annotations

import json
import subprocess

import pytest

import aksaudit.collect.stream as stream
from aksaudit.collect.snapshot import InputError, load_snapshot, open_snapshot

from conftest import EXAMPLES, aksaudit_cmd

DOCUMENTS = [
    "[]", '[{"a": 1}, {"b": [1, 2, 3]}]', ' \n [ {"id": "x"} ] \n',
    '{"rows": [{"a": 1}], "meta": {"complete": false, "errors": ["e"]}}',
    '{"meta": {"unreadable_subscriptions": ["s"]}, "rows": [1, 2]}',
    '{"data": [{"x": 1}], "skip_token": "abc"}', '{"count": 1, "data": [{"x": 1}], "resultTruncated": "true"}',
    '{"data": {"columns": [{"name": "a"}], "rows": [[1]]}}', '{"data": 5}', '{"rows": 5}', '{"x": 1}', "{}", "5",
    "", "[1,2", '[{"a":1},]', "[1 2]", '{"rows": [1], "rows": [2]}', "[1] x", '{"rows": [], "meta": []}',
    "[" * 100000, "[12345]", '{"rows": [{"s": "\\u00e9\\"]"}], "meta": {}}', "\ufeff[{\"a\": \"é\"}]", "[NaN, 1]",
]


def outcome(reader, path):
    try:
        snapshot = reader(path)
        return "ok", list(snapshot.rows), dict(snapshot.meta)
    except InputError as error:
        return "error", str(error)


@pytest.mark.parametrize("chunk", [stream.CHUNK, 7], ids=["default-window", "tiny-window"])
@pytest.mark.parametrize("text", DOCUMENTS)
def test_streamed_file_reads_exactly_like_a_whole_file(tmp_path, monkeypatch, chunk, text):
    monkeypatch.setattr(stream, "CHUNK", chunk)
    path = tmp_path / "estate.json"
    path.write_text(text, encoding="utf-8")
    assert outcome(open_snapshot, path) == outcome(load_snapshot, path)


@pytest.mark.parametrize("data", [b"\xff\xfe[\x00]\x00", b'[{"a": "\xff"}]'], ids=["utf-16", "bad-utf-8"])
def test_non_utf8_files_read_or_fail_like_a_whole_file(tmp_path, data):
    path = tmp_path / "estate.json"
    path.write_bytes(data)
    assert outcome(open_snapshot, path) == outcome(load_snapshot, path)


def test_rows_longer_than_the_read_window_and_numbers_cut_at_its_edge(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "CHUNK", 5)
    path = tmp_path / "estate.json"
    rows = [{"id": f"/r/{i}", "blob": "é" * (i * 13), "n": 12345678901234567890 + i} for i in range(40)]
    path.write_text(json.dumps({"meta": {"complete": True}, "rows": rows}), encoding="utf-8")
    snapshot = open_snapshot(path)
    assert list(snapshot.rows) == rows and list(snapshot.rows) == rows  # re-iterable: read afresh each time


def test_missing_file_and_directory_are_the_same_input_errors(tmp_path):
    for path in (tmp_path / "absent.json", tmp_path):
        assert outcome(open_snapshot, path) == outcome(load_snapshot, path)


def test_scan_of_a_streamed_snapshot_keeps_its_meta(tmp_path):
    """An aksaudit snapshot with meta after the rows (the old order): the gaps and unreadable
    subscriptions still reach the scan, which is incomplete."""
    rows = json.loads((EXAMPLES / "hub-spoke-drifted.json").read_text())
    meta = {"format": "aksaudit-snapshot", "format_version": 1, "complete": False, "errors": ["resources: lost page 3"],
            "unreadable_subscriptions": ["e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64"]}
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps({"rows": rows, "meta": meta}))
    proc = subprocess.run([*aksaudit_cmd(), "scan", "--snapshot", str(path), "--json", "-", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    document = json.loads(proc.stdout)
    assert proc.returncode == 3 and document["scan"]["complete"] is False
    assert "resources: lost page 3" in document["scan"]["errors"]
