"""The fast finding predicate of `aksaudit.run.result_schema` accepts exactly what the published
schema accepts: compared with `jsonschema` on findings with fields removed or replaced."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from aksaudit.results.findings import fingerprint
from aksaudit.run.result_schema import RECORD_LISTS, compile_schema, schema

RESOURCE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt/routes/r"
VALID = {"check_id": "UDR004", "title": "t", "severity": "high", "status": "fail", "resource_id": RESOURCE,
         "locus": "", "subscription_id": "s", "message": "m", "evidence": {"a": [1, {"b": None}]},
         "fingerprint": fingerprint("UDR004", RESOURCE, ""), "baseline_state": "new",
         "suppression": {"reason": "accepted", "source": "aksaudit.toml", "expires": None}}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.sampled_from(
        ["", "fail", "high", "resolved", "new", "UDR004", "udr004", "/x", "x", "a" * 64, "0" * 64, "FW0001"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["reason", "source", "expires", "available", "x"]), inner, max_size=3),
    max_leaves=6)


@st.composite
def damaged_findings(draw):
    item = json.loads(json.dumps(VALID))
    if draw(st.booleans()):
        item["baseline_state"] = "resolved"  # valid for a resolved record, not for a finding
    for key in draw(st.lists(st.sampled_from(sorted(item)), max_size=3, unique=True)):
        if draw(st.booleans()):
            del item[key]
        else:
            item[key] = draw(json_values)
    return item


@pytest.mark.parametrize("definition", sorted(RECORD_LISTS.values()))
@given(item=damaged_findings())
def test_the_fast_predicate_agrees_with_the_schema(definition, item):
    published = schema()["$defs"][definition]
    assert compile_schema(published)(item) == Draft202012Validator(published).is_valid(item)


def test_a_keyword_the_predicate_does_not_understand_is_refused_not_ignored():
    with pytest.raises(ValueError, match="oneOf"):
        compile_schema({"type": "object", "properties": {"x": {"oneOf": [{"type": "string"}]}}})
