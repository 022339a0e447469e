"""`plain` turns evidence (mapping proxies, tuples, sets) into what JSON holds: dicts and lists."""
from __future__ import annotations

from types import MappingProxyType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aksaudit.results.findings import plain

_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text())
_EVIDENCE = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
        st.dictionaries(st.text(max_size=5), inner, max_size=4).map(MappingProxyType),
    ),
    max_leaves=30,
)


def _definition(value: Any) -> Any:
    if isinstance(value, (str, int, float)) or value is None:
        return value
    if hasattr(value, "items"):
        return {str(k): _definition(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_definition(v) for v in value]
    return value


def _shape(value: Any) -> Any:
    """The value with each container's type kept, so a tuple left a tuple would not compare equal."""
    if isinstance(value, dict):
        return ("dict", {k: _shape(v) for k, v in value.items()})
    if isinstance(value, list):
        return ("list", [_shape(v) for v in value])
    return (type(value).__name__, value)


@settings(max_examples=500, deadline=None)
@given(_EVIDENCE)
def test_plain_is_its_definition(evidence):
    assert _shape(plain(evidence)) == _shape(_definition(evidence))


def test_plain_leaves_no_proxy_or_tuple():
    result = plain(MappingProxyType({"a": ("x", MappingProxyType({"b": ["y", ("z",)]})), "n": 1}))
    assert _shape(result) == _shape({"a": ["x", {"b": ["y", ["z"]]}], "n": 1})
