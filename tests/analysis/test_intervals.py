"""IntervalSet, AddressSet, parse_address and parse_ports against plain Python sets and `ipaddress`.

Sets are drawn over a small universe (so a Python `set` of integers is the reference) and over the
whole IPv4 space near interesting boundaries (so `ipaddress` is the reference).
"""
from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from aksaudit.analysis.addresses import EVERYTHING, AddressSet, parse_address
from aksaudit.analysis.intervals import IntervalSet
from aksaudit.analysis.ports import PORT_END, parse_ports

UNIVERSE = 64
spans = st.lists(st.tuples(st.integers(0, UNIVERSE), st.integers(0, UNIVERSE)), max_size=6)


def as_set(pairs) -> set[int]:
    return {v for start, end in pairs for v in range(start, end)}


@st.composite
def interval_sets(draw) -> tuple[IntervalSet, set[int]]:
    pairs = draw(spans)
    return IntervalSet.of(pairs), as_set(pairs)


def members(s: IntervalSet) -> set[int]:
    return as_set(s.spans)


@given(interval_sets())
def test_normal_form_is_sorted_disjoint_and_not_touching(pair):
    s, reference = pair
    assert members(s) == reference
    for (a, b), (c, d) in zip(s.spans, s.spans[1:]):
        assert a < b < c < d  # touching intervals are merged: the spelling of a set is unique
    assert all(start < end for start, end in s.spans)
    assert s.size == len(reference)
    assert all((v in s) == (v in reference) for v in range(-1, UNIVERSE + 2))


@given(interval_sets(), interval_sets())
def test_algebra_matches_python_sets(left, right):
    (a, ra), (b, rb) = left, right
    assert members(a | b) == ra | rb
    assert members(a & b) == ra & rb
    assert members(a - b) == ra - rb
    assert a.covers(b) == (rb <= ra)
    assert a.overlaps(b) == bool(ra & rb)
    assert (a | b) == IntervalSet.of(sorted((v, v + 1) for v in ra | rb))  # equal sets compare equal


@st.composite
def v4_tokens(draw) -> tuple[str, set[int] | None, int, int]:
    """A CIDR, address or range token near a boundary, with its first and last address."""
    base = draw(st.sampled_from((0, 10 << 24, 2 ** 31, 2 ** 32 - 256)))
    first = min(base + draw(st.integers(0, 300)), 2 ** 32 - 1)
    kind = draw(st.sampled_from(("ip", "cidr", "range")))
    if kind == "ip":
        return str(ipaddress.IPv4Address(first)), None, first, first
    if kind == "range":
        last = min(first + draw(st.integers(0, 300)), 2 ** 32 - 1)
        return f"{ipaddress.IPv4Address(first)} - {ipaddress.IPv4Address(last)}", None, first, last
    prefix = draw(st.integers(0, 32))
    network = ipaddress.IPv4Network(f"{ipaddress.IPv4Address(first)}/{prefix}", strict=False)
    return f"{ipaddress.IPv4Address(first)}/{prefix}", None, int(network.network_address), int(network.broadcast_address)


@given(v4_tokens(), st.integers(-2, 2))
def test_parse_address_denotes_exactly_first_to_last(token, delta):
    text, _, first, last = token
    parsed = parse_address(text)
    assert parsed is not None and not parsed.v6
    assert parsed.v4.spans == ((first, last + 1),)
    for edge in (first, last):
        value = edge + delta
        if 0 <= value < 2 ** 32:
            assert (ipaddress.IPv4Address(value) in parsed) == (first <= value <= last)


@given(st.sampled_from(("2001:db8::/127", "::/0", "2001:db8::1-2001:db8::5", "fe80::1")))
def test_parse_address_reads_ipv6_into_the_v6_half(text):
    parsed = parse_address(text)
    assert parsed is not None and parsed.v6 and not parsed.v4


@given(st.sampled_from(("", "10.0.0.9-10.0.0.1", "10.0.0.1-2001:db8::1", "10.0.0.0/33", "Storage", "10.0.0.256",
                        "*", "10.0.0.0/8-10.0.0.9")))
def test_parse_address_refuses_what_is_not_one_literal(text):
    # `*` is not a literal here (parse_addresses reads it as every address); the rest is unreadable.
    assert parse_address(text) is None


def test_halves_and_a_range_are_the_same_set_as_the_whole():
    whole = parse_address("0.0.0.0/0")
    assert parse_address("0.0.0.0/1") | parse_address("128.0.0.0/1") == whole
    assert parse_address("0.0.0.0-255.255.255.255") == whole
    assert whole | AddressSet(v6=EVERYTHING.v6) == EVERYTHING


@st.composite
def port_lists(draw) -> tuple[list[str], set[int]]:
    tokens, reference = [], set()
    for _ in range(draw(st.integers(1, 4))):
        first = draw(st.sampled_from((0, 1, 79, 80, 81, 443, 65534, 65535)) | st.integers(0, 65535))
        last = draw(st.integers(first, min(first + 3, 65535)))
        tokens.append(str(first) if first == last else draw(st.sampled_from((f"{first}-{last}", f"{first} - {last}"))))
        reference |= set(range(first, last + 1))
    return tokens, reference


@given(port_lists())
def test_parse_ports_is_the_union_of_its_tokens(pair):
    tokens, reference = pair
    ports = parse_ports(tokens)
    assert not ports.unknown
    assert members(ports.ports) == reference


@given(st.sampled_from(("8o", "443-", "-1", "70000", "90-80", "", "1-65536", "*x")))
def test_parse_ports_names_a_malformed_token_as_unknown(token):
    ports = parse_ports(["443", token], where="rule 'x'")
    assert members(ports.ports) == {443}
    assert len(ports.unknown) == 1 and token in ports.unknown[0] and "rule 'x'" in ports.unknown[0]


def test_star_is_every_port():
    assert parse_ports(["*"]).ports == IntervalSet.span(0, PORT_END)
