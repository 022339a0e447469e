"""The cluster index answers as its definition: a resource concerns exactly the clusters whose
egress paths hold it. The index takes a firewall's ids once per firewall and shares one set
per cluster; whether the paths share firewall summaries (a fresh scan) or not (paths read back
from JSON), and in whatever order they come, the mapping must equal the plain one."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from aksaudit.collect.snapshot import open_snapshot
from aksaudit.model.estate import build_estate
from aksaudit.model.row_fields import id_key
from aksaudit.results.cluster_concern import ClusterIndex
from aksaudit.results.path_summaries import summarize_paths

from conftest import EXAMPLES
from controls_data import clusters_on_path

ROOT = Path(__file__).resolve().parents[1]
ESTATES = sorted(p for p in (*EXAMPLES.glob("*.json"), *(ROOT / "scenarios").glob("*.json"))
                 if p.name != "expected.json")


@pytest.mark.parametrize("estate_path", ESTATES, ids=lambda p: p.name)
def test_index_equals_the_plain_mapping(estate_path):
    snapshot = open_snapshot(str(estate_path))
    paths = summarize_paths(build_estate(snapshot.rows, source=snapshot.source,
                                         unreadable_scopes=snapshot.unreadable_scopes))
    expected = clusters_on_path(paths)
    unshared = [replace(p, firewalls=tuple(replace(f) for f in p.firewalls)) for p in paths]
    for variant in (paths, unshared, list(reversed(paths))):
        index = ClusterIndex.of(variant)
        assert {k: set(v) for k, v in index.by_resource.items()} == expected
        assert set(index.clusters) == {id_key(p.cluster_id) for p in paths}
