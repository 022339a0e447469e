"""Reading fields out of ARG rows without trusting their shape.

Rows come from files people hand us and from a service that evolves; a wrong type in one field
must reject that row with a message naming the key, never crash the scan. Parsers that keep the
rest of a row usable record such a field, or one Azure always returns that is missing, as a named
gap instead (`required`, `optional`, `unread`): a datum not read is never read as empty.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, MutableMapping, TypeVar

from aksaudit.model.input_limits import MAX_LIST_ITEMS

T = TypeVar("T")


class RowError(ValueError):
    """A row (or one element inside it) does not have the shape the model needs."""


def obj(value: Any, key: str) -> Mapping[str, Any]:
    """An object field; absent/null reads as empty."""
    if type(value) is dict:  # the common case, without the abstract-class check below
        return value
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RowError(f"'{key}' is {type(value).__name__}, expected an object")
    return value


def arr(value: Any, key: str) -> list[Any]:
    """A list field; absent/null reads as empty; one longer than any real resource has rejects the row."""
    if type(value) is list and len(value) <= MAX_LIST_ITEMS:  # the common case, in one test
        return value
    if value is None:
        return []
    if not isinstance(value, list):
        raise RowError(f"'{key}' is {type(value).__name__}, expected a list")
    if len(value) > MAX_LIST_ITEMS:
        raise RowError(f"'{key}' holds {len(value):,} items, more than the {MAX_LIST_ITEMS:,} a row may have")
    return value


def text(value: Any, key: str) -> str:
    """A string field; absent/null reads as ''."""
    if type(value) is str:  # the common case first: this runs about ten times per row
        return value
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RowError(f"'{key}' is {type(value).__name__}, expected a string")
    return value


def flag(value: Any, key: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise RowError(f"'{key}' is {type(value).__name__}, expected a boolean")


def strings(value: Any, key: str) -> tuple[str, ...]:
    """A list of strings (a bare string is accepted as a one-element list, as some APIs emit).

    A list of plain strings, the common case, is copied whole; anything else takes the item-by-item
    path, which names the first item that is not a string."""
    if value is None:
        return ()
    found = plain_strings(value)
    if found is not None:
        return found
    if isinstance(value, str):
        return (value,)
    return tuple(text(item, f"{key}[{index}]") for index, item in enumerate(arr(value, key)))


def plain_strings(value: Any) -> tuple[str, ...] | None:
    """The items of a list of `str` within the item limit, the shape nearly every string list has;
    None for any other value, which the caller then reads item by item."""
    if type(value) is list and len(value) <= MAX_LIST_ITEMS:
        for item in value:
            if type(item) is not str:
                return None
        return tuple(value)
    return None


def ref_id(value: Any, key: str) -> str:
    """The id inside an ARM reference object {"id": "..."}."""
    if type(value) is dict and type(found := value.get("id")) is str:  # the common case, in one test
        return found
    return text(obj(value, key).get("id"), f"{key}.id")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(value: str) -> str:
    """Lower-case A-Z only, as ARM compares resource ids (ordinal, ASCII case-insensitive).

    `str.lower` folds far more than ARM does: 'K' (Kelvin sign, U+212A) lowers to 'k' and
    'İ' to 'i̇', so two ids Azure keeps apart would collide and one resource would hide another.
    """
    return value.lower() if value.isascii() else value.translate(_ASCII_LOWER)  # the common case, fast


def named_ref_id(value: Any, key: str) -> str:
    """The id inside a reference object that is there: `{}` or `{"id": null}` names nothing readable."""
    resource_id = ref_id(value, key)
    if not resource_id:
        raise RowError(f"'{key}.id' is missing or empty")
    return resource_id


# What `str.strip()` removes from ASCII text, and '/'.
_SLASH_OR_SPACE = "/" + "".join(c for c in map(chr, range(128)) if c.isspace())


def id_key(resource_id: str) -> str:
    """Lookup key for ARM ids: Azure returns the same id in several casings. (`ascii_lower`
    inlined: this runs millions of times per large scan.)"""
    if resource_id.isascii():  # nearly always: trailing '/' and ASCII whitespace, in any mix, go at once
        return resource_id.strip().rstrip(_SLASH_OR_SPACE).lower()
    value = resource_id.strip()
    while value.endswith("/"):  # '0 /' and '0' are one id: a key of a key is the same key
        value = value.rstrip("/").rstrip()
    return value.translate(_ASCII_LOWER)


# --- datums a verdict depends on ------------------------------------------------------------------
#
# A parser records each datum it could not read in `gaps` (path -> why) and carries on with an
# empty stand-in, so the rest of the row stays usable; a check that needs the datum asks
# `unread(gaps, path)` and reports `skipped` naming it instead of judging the stand-in.

def required(gaps: MutableMapping[str, str], value: Any, key: str, read: Callable[[Any, str], T], default: T) -> T:
    """A datum Azure always returns: absent, null or of the wrong type is a named gap."""
    if value is None:
        if not (gaps and _under_gap(gaps, key)):  # one reason is enough
            gaps[key] = f"'{key}' is missing or null"
        return default
    return optional(gaps, value, key, read, default)


def optional(gaps: MutableMapping[str, str], value: Any, key: str, read: Callable[[Any, str], T], default: T) -> T:
    """A datum whose absence Azure uses to say 'none' (a pool without `vnetSubnetID` runs in an
    AKS-managed VNet): absent or null reads as `default`; only the wrong type is a gap."""
    if value is None:
        return default
    if gaps:
        if _under_gap(gaps, key):
            return default  # its parent is already a gap: one reason is enough
    elif read is text and type(value) is str:
        return value  # the common case, without a call
    try:
        return read(value, key)
    except RowError as error:
        gaps[key] = str(error)
        return default


def _under_gap(gaps: Mapping[str, str], key: str) -> bool:
    """Whether `key` or one of its parents is a gap: `within(key, known)` for some known gap, asked
    by looking up each parent path instead of testing every gap, so a row whose long list leaves
    a gap per item costs time linear in its gaps, not quadratic."""
    if key in gaps:
        return True
    return any(key[:index] in gaps for index, char in enumerate(key) if char in ".[")


def within(path: str, ancestor: str) -> bool:
    """Whether a row path is `ancestor` or lies inside it ('a.b[0].c' is within 'a.b')."""
    return path == ancestor or (path.startswith(ancestor) and path[len(ancestor)] in ".[")


def unread(gaps: Mapping[str, str], *paths: str) -> str:
    """Why any of `paths` could not be read ('' when all could): a gap at a path, inside it, or
    at one of its parents (no `networkProfile` means no `networkProfile.outboundType`)."""
    if not gaps:  # most resources read whole
        return ""
    reasons = [reason for known, reason in gaps.items()
               if any(within(path, known) or within(known, path) for path in paths)]
    return "; ".join(dict.fromkeys(reasons))


def parent_id(resource_id: str, levels: int = 2) -> str:
    """Strip trailing '/<type>/<name>' segments (one child level = two segments)."""
    parts = resource_id.rstrip("/").split("/")
    return "/".join(parts[: len(parts) - levels]) if len(parts) > levels else ""


def last_segment(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def subscription_of(resource_id: str) -> str:
    """The subscription id inside an ARM id ('' when the id has none)."""
    parts = resource_id.split("/")
    for index, part in enumerate(parts[:-1]):
        if part.lower() == "subscriptions":
            return parts[index + 1].lower()
    return ""
