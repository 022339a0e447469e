"""Reading fields out of ARG rows without trusting their shape.

Rows come from files people hand us and from a service that evolves; a wrong type in one field
must reject that row with a message naming the key, never crash the scan.
"""
from __future__ import annotations

from typing import Any, Mapping

from .limits import MAX_LIST_ITEMS


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
    if value is None:
        return []
    if not isinstance(value, list):
        raise RowError(f"'{key}' is {type(value).__name__}, expected a list")
    if len(value) > MAX_LIST_ITEMS:
        raise RowError(f"'{key}' holds {len(value):,} items, more than the {MAX_LIST_ITEMS:,} a row may have")
    return value


def text(value: Any, key: str) -> str:
    """A string field; absent/null reads as ''."""
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
    """A list of strings (a bare string is accepted as a one-element list, as some APIs emit)."""
    if isinstance(value, str):
        return (value,)
    return tuple(text(item, f"{key}[{index}]") for index, item in enumerate(arr(value, key)))


def ref_id(value: Any, key: str) -> str:
    """The id inside an ARM reference object {"id": "..."}."""
    return text(obj(value, key).get("id"), f"{key}.id")


def id_key(resource_id: str) -> str:
    """Lookup key for ARM ids: Azure returns the same id in several casings."""
    return resource_id.strip().rstrip("/").lower()


def parent_id(resource_id: str, levels: int = 2) -> str:
    """Strip trailing '/<type>/<name>' segments (one child level = two segments)."""
    parts = resource_id.rstrip("/").split("/")
    return "/".join(parts[: len(parts) - levels]) if len(parts) > levels else ""


def last_segment(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]
