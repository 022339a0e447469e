"""A datum under a gap is not read again: `required`/`optional` ask whether the key or one of its
parents is already a gap. The lookup by parent path must answer exactly as the definition
(`within(key, known)` for some known gap) does, for any paths, however they nest."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from aksaudit.model.row_fields import _under_gap, required, text, within

segment = st.sampled_from(["a", "b", "ab", "properties", "x"])
step = st.one_of(segment.map(lambda s: "." + s), st.integers(0, 3).map(lambda i: f"[{i}]"))
path = st.builds(lambda head, rest: head + "".join(rest), segment, st.lists(step, max_size=4))


@settings(max_examples=400, deadline=None)
@given(st.lists(path, max_size=6), path)
def test_parent_lookup_agrees_with_the_definition(known, key):
    gaps = {k: "why" for k in known}
    assert _under_gap(gaps, key) == any(within(key, k) for k in gaps)


def test_a_gap_per_item_of_a_long_list_is_recorded_once_each():
    gaps: dict[str, str] = {}
    for index in range(5000):
        required(gaps, None, f"properties.items[{index}].name", text, "")
    required(gaps, None, "properties.items[7].name.inner", text, "")  # under a gap: no second reason
    assert set(gaps) == {f"properties.items[{index}].name" for index in range(5000)}
