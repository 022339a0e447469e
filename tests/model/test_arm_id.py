"""ArmId: parsed once, printed back as written, compared the way ARM compares ids."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aksaudit.api import ArmId, id_key, parent_id
from aksaudit.model.row_fields import subscription_of

# Segments as Azure allows them in names: no '/', not empty, any other character (non-ASCII too).
SEGMENT = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs", "Zs", "Cc")), min_size=1,
                  max_size=12).filter(lambda s: s.strip() == s)
KIND = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,11}", fullmatch=True)
NAMESPACE = st.from_regex(r"Microsoft\.[A-Z][A-Za-z]{1,10}", fullmatch=True)


@st.composite
def arm_ids(draw) -> tuple[str, str, str, tuple[str, ...], tuple[str, ...]]:
    depth = draw(st.integers(1, 3))
    return (draw(SEGMENT), draw(SEGMENT), draw(NAMESPACE), tuple(draw(KIND) for _ in range(depth)),
            tuple(draw(SEGMENT) for _ in range(depth)))


@given(arm_ids())
def test_build_print_parse_round_trips(parts):
    subscription, group, namespace, kinds, names = parts
    built = ArmId.build(subscription, group, namespace, kinds, names)
    again = ArmId.parse(str(built))
    assert (again.subscription, again.resource_group, again.provider, again.types, again.names) == parts
    assert str(again) == str(built)
    assert again.name == names[-1] and again.resource_name == names[0]
    assert again.type == f"{namespace}/{'/'.join(kinds)}".lower()
    if len(names) > 1:
        assert again.child == names[-1]
        assert again.parent == ArmId.build(subscription, group, namespace, kinds[:-1], names[:-1])
        assert str(again.parent) == parent_id(str(built))
    else:
        assert again.parent is None and again.child == ""


def _swap_ascii(text: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if c.isascii() and flip else c for c, flip in zip(text, flips))


@given(arm_ids(), st.lists(st.booleans(), min_size=200, max_size=200))
def test_comparison_ignores_ascii_case(parts, flips):
    text = str(ArmId.build(*parts))
    assert ArmId.parse(text) == ArmId.parse(_swap_ascii(text, flips))
    assert hash(ArmId.parse(text)) == hash(ArmId.parse(_swap_ascii(text, flips)))


@given(arm_ids(), st.sampled_from([("K", "\u212a"), ("i", "\u0130"), ("s", "\u017f"), ("e", "\u00e9")]))
def test_comparison_does_not_fold_beyond_ascii(parts, pair):
    """ARM keeps 'K' and the Kelvin sign apart; so must the key, or one resource hides another."""
    subscription, group, namespace, kinds, names = parts
    ascii_name, other = pair
    one = ArmId.build(subscription, group, namespace, kinds, (*names[:-1], names[-1] + ascii_name))
    two = ArmId.build(subscription, group, namespace, kinds, (*names[:-1], names[-1] + other))
    assert one != two


@given(st.text(max_size=60))
def test_the_key_is_id_key_for_any_text(text):
    assert ArmId.parse(text).key == id_key(text)


@given(arm_ids())
def test_the_subscription_is_the_one_subscription_of_reads(parts):
    text = str(ArmId.build(*parts))
    assert ArmId.parse(text).subscription.lower() == subscription_of(text)


def test_partial_ids_keep_what_they_have():
    group = ArmId.parse("/subscriptions/S1/resourceGroups/rg-A/")
    assert (group.subscription, group.resource_group, group.provider, group.names) == ("S1", "rg-A", "", ())
    assert group.resource_group_id == "/subscriptions/S1/resourceGroups/rg-A"
    assert ArmId.parse("").names == () and ArmId.parse("").subscription == ""
    assert ArmId.parse("/subscriptions/S1").subscription == "S1"


def reference_key(text: str) -> str:
    """`id_key` by its definition: trim whitespace, drop trailing '/' (and whitespace before
    them) until none is left, lower-case A-Z only."""
    value = text.strip()
    while value.endswith("/"):
        value = value.rstrip("/").rstrip()
    return value.translate({ord(c): ord(c.lower()) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})


@given(st.lists(st.sampled_from(["/", " ", "\t", "\x1c", "\x85", "\u2003", "A", "k", "K", "İ", "x/"]), max_size=12)
       .map("".join) | st.text(max_size=40))
def test_id_key_is_its_definition(text):
    assert id_key(text) == reference_key(text)
    assert id_key(id_key(text)) == id_key(text)
