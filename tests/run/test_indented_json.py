"""The indented JSON writer gives exactly the text `json.dumps(..., indent=2, ensure_ascii=False)`
gives, for any JSON-like value and for the JSON result of real scans (the machine contract)."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aksaudit.collect.snapshot import open_snapshot
from aksaudit.model.estate import build_estate
from aksaudit.analysis.effective_egress import effective_egress
from aksaudit.run.engine import run_scan
from aksaudit.run.indented_json import dumps_indented
from aksaudit.run.registry import load_registry
from aksaudit.run.result_json import document, render

ROOT = Path(__file__).resolve().parent.parent.parent

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2 ** 80, max_value=2 ** 80)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text())
KEYS = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(KEYS, inner, max_size=4), max_leaves=30)


@settings(max_examples=max(50, settings.default.max_examples))
@given(value=VALUES, indent=st.sampled_from((0, 1, 2, 4)))
def test_the_text_is_what_json_dumps_writes(value, indent):
    assert dumps_indented(value, indent) == json.dumps(value, indent=indent, ensure_ascii=False)


@pytest.mark.parametrize("value", [{(1, 2): "tuple key"}, {"set": {1}}, object(), [b"bytes"]])
def test_what_json_refuses_is_refused(value):
    with pytest.raises(TypeError):
        json.dumps(value, indent=2, ensure_ascii=False)
    with pytest.raises(TypeError):
        dumps_indented(value)


@pytest.mark.parametrize("name", ["examples/hub-spoke.json", "examples/hub-spoke-drifted.json",
                                  "tests/scenarios/vwan-secured-hub.json"])
def test_a_scans_json_result_is_written_as_json_dumps_writes_it(name):
    snapshot = open_snapshot(str(ROOT / name))
    estate = build_estate(snapshot.rows, source=snapshot.source)
    result = run_scan(estate, load_registry().checks, scopes=snapshot.scope_labels, meta=snapshot.meta)
    result = replace(result, egress=effective_egress(estate))
    assert render(result) == json.dumps(document(result), indent=2, ensure_ascii=False) + "\n"
