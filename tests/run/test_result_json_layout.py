"""The JSON output's layout (indented outer levels, compact deep parts) is only a layout: any
JSON value reads back equal, and the outer levels keep one item per line."""
import json

from hypothesis import given, strategies as st

from aksaudit.run.result_json import COMPACT_DEPTH, _layout

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=40)


@given(JSON)
def test_any_value_reads_back_equal(value):
    assert json.loads("".join(_layout(value))) == value


def test_each_finding_starts_its_own_line_and_its_evidence_is_one_line():
    document = {"findings": [{"check_id": "FW003", "evidence": {"rules": [{"name": "a"}, {"name": "b"}]}},
                             {"check_id": "UDR001", "evidence": {}}]}
    lines = "".join(_layout(document)).splitlines()
    assert [line.strip() for line in lines if "check_id" in line] == ['"check_id": "FW003",', '"check_id": "UDR001",']
    assert sum('"evidence"' in line for line in lines) == 2
    assert COMPACT_DEPTH == 3 and any(line.strip() == '"evidence": {"rules": [{"name": "a"}, {"name": "b"}]}'
                                      for line in lines)
