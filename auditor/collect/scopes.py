"""Turning `--subscription` arguments into subscription ids the identity can actually read.

People name subscriptions by display name as often as by id, and a compliance scan must say when
a subscription it was asked to audit is invisible to its identity instead of silently auditing
less. Resource Graph's `resourcecontainers` table answers both: it lists the subscriptions an
identity can read, with their display names, and a subscription missing from it is unreadable.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .errors import CannotStart

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ScopeError(CannotStart):
    """A scope argument that cannot mean anything (unknown or ambiguous name): exit 2."""


@dataclass(frozen=True)
class Subscription:
    id: str  # the bare GUID, lower-cased
    name: str


@dataclass(frozen=True)
class Resolution:
    """Requested subscriptions split into readable ones and ids this identity cannot see."""

    readable: tuple[Subscription, ...]
    unreadable: tuple[str, ...]


def is_subscription_id(token: str) -> bool:
    return bool(GUID.match(token.strip()))


def subscriptions_from_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[Subscription, ...]:
    """`resourcecontainers` subscription rows -> (id, display name); odd rows are skipped."""
    found: dict[str, Subscription] = {}
    for row in rows:
        sub = row.get("subscriptionId") if isinstance(row, Mapping) else None
        if isinstance(sub, str) and is_subscription_id(sub):
            name = row.get("name")
            found.setdefault(sub.lower(), Subscription(sub.lower(), name if isinstance(name, str) else sub))
    return tuple(sorted(found.values(), key=lambda s: s.id))


def resolve_names(names: Iterable[str], visible: Iterable[Subscription]) -> tuple[Subscription, ...]:
    """Display names -> subscriptions (case-insensitive); unknown or ambiguous names are errors."""
    by_name: dict[str, list[Subscription]] = {}
    for sub in visible:
        by_name.setdefault(sub.name.strip().lower(), []).append(sub)
    resolved, unknown = [], []
    for name in names:
        matches = by_name.get(name.strip().lower(), [])
        if len(matches) > 1:
            raise ScopeError(f"subscription name '{name}' matches several subscriptions "
                             f"({', '.join(s.id for s in matches)}); pass the id instead")
        if not matches:
            unknown.append(name)
        else:
            resolved.append(matches[0])
    if unknown:
        raise ScopeError(f"no subscription readable by this identity is named {', '.join(repr(n) for n in unknown)}; "
                         f"pass the subscription id, or check the identity has Reader on it")
    return tuple(resolved)


def split_visible(ids: Iterable[str], visible: Iterable[Subscription]) -> Resolution:
    """Requested ids that Resource Graph listed are readable; the others are not."""
    known = {s.id: s for s in visible}
    readable, unreadable = [], []
    for sub in dict.fromkeys(i.strip().lower() for i in ids):
        if sub in known:
            readable.append(known[sub])
        else:
            unreadable.append(sub)
    return Resolution(tuple(readable), tuple(unreadable))
