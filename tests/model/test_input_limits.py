"""Input limits: a snapshot too large for memory, a row with an enormous list, nesting too deep.

Each fails the way the issue asks: a snapshot over the limit is refused before it is read, with
exit 2 and an error naming the file (the size test uses a sparse file: no gigabytes are written);
an enormous row is rejected and named in a warning while the rest of the estate is audited (and
the scan says it is incomplete); JSON nested deeper than the parser allows is an error naming
the file, never a traceback. And a snapshot whose own record says it is not complete (or is
not plainly `true`) is scanned as incomplete, naming a gap even when the file names none; so is
a saved query result (`az graph query -o json`, or the REST body) that says more rows exist.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from aksaudit.collect.snapshot import InputError, load_snapshot
from aksaudit.model.input_limits import (
    MAX_LIST_ITEMS, MAX_SNAPSHOT_ENV, LimitError, _cgroup_limit, max_snapshot_bytes, memory_bytes, parse_size,
)
from aksaudit.model.estate import build_estate

from conftest import EXAMPLES, aksaudit_cmd

DRIFTED = EXAMPLES / "hub-spoke-drifted.json"
HUGE_TABLE = ("/subscriptions/2d8f6a13-9c4e-4b7a-8e25-6f1c0d3b9a72/resourceGroups/rg-hub-network-weu/providers/"
              "Microsoft.Network/routeTables/rt-enormous")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AKSAUDIT_")}
    environ.update(env or {})
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, timeout=300, env=environ)


def test_sizes_parse_with_binary_units():
    assert parse_size("1024") == 1024 and parse_size("2K") == 2048 and parse_size("3 MiB") == 3 * 1024 ** 2
    assert parse_size("1g") == 1024 ** 3 and parse_size("1TB") == 1024 ** 4
    with pytest.raises(LimitError, match=MAX_SNAPSHOT_ENV):
        parse_size("lots")


def test_the_limit_is_the_memory_available_unless_set(tmp_path):
    memory = memory_bytes()
    assert memory and max_snapshot_bytes({}) == max(256 * 1024 ** 2, memory // 2)
    assert max_snapshot_bytes({MAX_SNAPSHOT_ENV: "5M"}) == 5 * 1024 ** 2
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "limit_in_bytes").write_text("536870912\n")
    assert _cgroup_limit((str(tmp_path / "memory.max"),)) is None  # cgroup v2, no limit
    assert _cgroup_limit((str(tmp_path / "memory.max"), str(tmp_path / "limit_in_bytes"))) == 512 * 1024 ** 2


def test_snapshot_larger_than_memory_is_refused_naming_the_file(tmp_path):
    limit = max_snapshot_bytes({})
    big = tmp_path / "tenant-export.json"
    with big.open("wb") as handle:  # sparse: the size is there, the blocks are not
        handle.write(b"[")
        handle.truncate(limit + 1024 ** 3)
    began = time.monotonic()
    proc = run("scan", "--snapshot", str(big), "--json", str(tmp_path / "out.json"))
    assert proc.returncode == 2, proc.stderr
    assert str(big) in proc.stderr and f"{limit:,} bytes" in proc.stderr and MAX_SNAPSHOT_ENV in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out.json").exists()
    assert time.monotonic() - began < 30  # refused up front, not read
    with pytest.raises(InputError, match="tenant-export.json"):
        load_snapshot(big)


def test_the_limit_can_be_set_and_a_bad_setting_is_an_error(tmp_path):
    proc = run("scan", "--snapshot", str(DRIFTED), env={MAX_SNAPSHOT_ENV: "1K"})
    assert proc.returncode == 2 and str(DRIFTED) in proc.stderr and "1,024 bytes" in proc.stderr
    proc = run("scan", "--snapshot", str(DRIFTED), env={MAX_SNAPSHOT_ENV: "a lot"})
    assert proc.returncode == 2 and MAX_SNAPSHOT_ENV in proc.stderr and "Traceback" not in proc.stderr
    proc = run("scan", "--snapshot", str(DRIFTED), "--quiet", env={MAX_SNAPSHOT_ENV: "1G"})
    assert proc.returncode == 1, proc.stderr


def _with_enormous_row(path: Path, items: int) -> Path:
    rows = json.loads(DRIFTED.read_text())
    rows.append({"id": HUGE_TABLE, "name": "rt-enormous", "type": "microsoft.network/routetables",
                 "properties": {"routes": [None] * items}})
    path.write_text(json.dumps(rows))
    return path


def test_a_row_with_a_million_element_list_is_rejected_and_named(tmp_path):
    estate = _with_enormous_row(tmp_path / "enormous.json", 1_000_001)
    proc = run("scan", "--snapshot", str(estate), "--json", "-", "--quiet")
    document = json.loads(proc.stdout)
    assert proc.returncode == 3 and document["scan"]["complete"] is False
    named = [w for w in document["scan"]["warnings"] if HUGE_TABLE in w]
    assert named and "'properties.routes' holds 1,000,001 items" in named[0], document["scan"]["warnings"]
    reference = json.loads(run("scan", "--snapshot", str(DRIFTED), "--json", "-", "--quiet").stdout)
    keys = {(f["check_id"], f["resource_id"].lower(), f["locus"]) for f in document["findings"]}
    assert keys == {(f["check_id"], f["resource_id"].lower(), f["locus"]) for f in reference["findings"]}


def test_a_list_at_the_limit_is_read():
    rows = [{"id": HUGE_TABLE, "name": "rt", "type": "microsoft.network/routetables",
             "properties": {"routes": [{"name": f"r{i}", "properties": {"addressPrefix": "10.0.0.0/8",
                                                                        "nextHopType": "VnetLocal"}}
                                       for i in range(3)] * (MAX_LIST_ITEMS // 3)}}]
    estate = build_estate(rows, source="limit")
    assert estate.rejected == () and len(estate.route_tables) == 1


@pytest.mark.parametrize("shape", ["bare", "inside a row"])
def test_json_nested_100k_deep_is_an_error_naming_the_file(tmp_path, shape):
    deep = "[" * 100_000 + "]" * 100_000
    text = deep if shape == "bare" else (
        '{"meta": {}, "rows": [{"id": "/subscriptions/x/resourceGroups/r/providers/Microsoft.Network/routeTables/t", '
        '"type": "microsoft.network/routetables", "properties": {"routes": ' + deep + '}}]}')
    path = tmp_path / "deep.json"
    path.write_text(text)
    proc = run("scan", "--snapshot", str(path), "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert str(path) in proc.stderr and "nested too deeply" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(InputError, match="nested too deeply"):
        load_snapshot(path)


@pytest.mark.parametrize("meta", [{"complete": False}, {"complete": "false"}, {"complete": None}, {"complete": 0},
                                  {"complete": True, "errors": ["a page was lost"]}],
                         ids=["false", "string", "null", "zero", "errors-beside-true"])
def test_a_snapshot_that_is_not_plainly_complete_scans_incomplete(tmp_path, meta):
    """A hand-edited or foreign snapshot whose meta says anything but complete: exit 3, a named gap."""
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"meta": meta, "rows": json.loads(DRIFTED.read_text())}))
    proc = run("scan", "--snapshot", str(path), "--json", "-", "--quiet")
    document = json.loads(proc.stdout)
    assert proc.returncode == 3 and document["scan"]["complete"] is False and document["scan"]["errors"]


@pytest.mark.parametrize("paging", [{"skip_token": "abc"}, {"$skipToken": "abc"}, {"resultTruncated": "true"},
                                    {"result_truncated": True}, {"count": 3, "total_records": 40},
                                    {"count": 3, "totalRecords": 40}],
                         ids=["az-skip-token", "rest-skip-token", "truncated", "az-truncated", "az-total", "rest-total"])
@pytest.mark.parametrize("table", [False, True], ids=["objects", "table"])
def test_a_partial_query_result_file_scans_incomplete(tmp_path, paging, table):
    """`az graph query -o json` or a REST body that says more rows exist: exit 3, the file named."""
    rows = json.loads(DRIFTED.read_text())
    data = rows if not table else {"columns": [{"name": k} for k in ("id", "name", "type", "properties")],
                                   "rows": [[r.get(k) for k in ("id", "name", "type", "properties")] for r in rows]}
    path = tmp_path / "graph.json"
    path.write_text(json.dumps({"data": data, **paging}))
    proc = run("scan", "--snapshot", str(path), "--json", "-", "--quiet")
    document = json.loads(proc.stdout)
    assert proc.returncode == 3 and document["scan"]["complete"] is False
    assert any(str(path) in e and "partial" in e for e in document["scan"]["errors"]), document["scan"]["errors"]


@pytest.mark.parametrize("value", [None, 7, True, ["a"], {"a": 1}], ids=["null", "int", "bool", "list", "object"])
def test_a_findings_file_with_evidence_of_the_wrong_shape_gives_manual_blocks(tmp_path, value):
    """`remediate --from` a hand-edited or foreign JSON result: every evidence value replaced.
    The script is still written (those blocks manual, saying why), never a traceback."""
    result = tmp_path / "result.json"
    assert run("scan", "--snapshot", str(DRIFTED), "--json", str(result), "--quiet").returncode == 1
    document = json.loads(result.read_text())
    for finding in document["findings"]:
        finding["evidence"] = {key: value for key in finding["evidence"]}
    result.write_text(json.dumps(document))
    proc = run("remediate", "--from", str(result), "-o", str(tmp_path / "fix.sh"))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    script = (tmp_path / "fix.sh").read_text()
    assert "manual " in script and ("evidence lacks" in script or "no fix could be generated" in script), script
