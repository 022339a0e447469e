"""Sets of integers as sorted, disjoint half-open intervals: the algebra under addresses and ports.

Why our own small type rather than `netaddr.IPSet` or `portion`: every set aksaudit reasons about
is a set of integers (IPv4 and IPv6 addresses, ports), and the questions are union, intersection,
difference and "does this cover that". `netaddr.IPSet` stores CIDR blocks, so one `a-b` range
becomes up to 62 blocks and its algebra works block by block; `portion` is generic over any
comparable and pays for it on every operation. A tuple of `(start, end)` integer pairs answers
every operation with one linear merge, hashes (so verdicts can be cached by set), and costs two
integers per interval however odd the boundaries. `ipaddress` still does all the parsing.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from operator import itemgetter
from typing import Iterable

Span = tuple[int, int]  # [start, end): end exclusive, start < end
_end = itemgetter(1)


def _normalise(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Sorted, merged (touching intervals join), empty ones dropped."""
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


@dataclass(frozen=True)
class IntervalSet:
    """A set of integers. Immutable and hashable; every operation returns a new set."""

    spans: tuple[Span, ...] = ()

    @classmethod
    def of(cls, spans: Iterable[Span]) -> "IntervalSet":
        return cls(_normalise(spans))

    @classmethod
    def span(cls, start: int, end: int) -> "IntervalSet":
        return cls(((start, end),) if start < end else ())

    def __bool__(self) -> bool:
        return bool(self.spans)

    def __contains__(self, value: int) -> bool:
        # Binary search: sets are consulted once per packet by the oracle tests and per lookup by `why`.
        spans, low, high = self.spans, 0, len(self.spans)
        while low < high:
            mid = (low + high) // 2
            if spans[mid][1] <= value:
                low = mid + 1
            else:
                high = mid
        return low < len(spans) and spans[low][0] <= value

    @property
    def size(self) -> int:
        return sum(e - s for s, e in self.spans)

    def union(self, *others: "IntervalSet") -> "IntervalSet":
        # Empty operands change nothing: a rule naming one large IP group unions it with nothing,
        # and re-sorting thousands of prefixes for that was most of compiling such a rule.
        parts = [o for o in others if o.spans]
        if not parts:
            return self
        if not self.spans and len(parts) == 1:
            return parts[0]
        return IntervalSet(_normalise([*self.spans, *(s for o in parts for s in o.spans)]))

    __or__ = union

    def intersection(self, other: "IntervalSet") -> "IntervalSet":
        out: list[Span] = []
        a, b, i, j = self.spans, other.spans, 0, 0
        while i < len(a) and j < len(b):
            start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
            if start < end:
                out.append((start, end))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(tuple(out))

    __and__ = intersection

    def difference(self, other: "IntervalSet") -> "IntervalSet":
        out: list[Span] = []
        b, j = other.spans, 0
        for start, end in self.spans:
            while j < len(b) and b[j][1] <= start:
                j += 1
            k, cursor = j, start
            while k < len(b) and b[k][0] < end:
                if b[k][0] > cursor:
                    out.append((cursor, b[k][0]))
                cursor = max(cursor, b[k][1])
                k += 1
            if cursor < end:
                out.append((cursor, end))
        return IntervalSet(tuple(out))

    __sub__ = difference

    def covers(self, other: "IntervalSet") -> bool:
        """Whether every member of `other` is in this set."""
        return not other.difference(self)

    def overlaps(self, other: "IntervalSet") -> bool:
        """Binary search from the smaller set: a subnet's one span against a rule's many costs a
        few comparisons, not a merge of both (asked for every rule and every AKS subnet)."""
        few, many = (self.spans, other.spans) if len(self.spans) <= len(other.spans) else (other.spans, self.spans)
        for start, end in few:
            index = bisect.bisect_right(many, start, key=_end)  # the first span ending after `start`
            if index < len(many) and many[index][0] < end:
                return True
        return False

    def boundaries(self) -> Iterable[int]:
        for start, end in self.spans:
            yield start
            yield end


class HolderIndex:
    """Which of many interval sets hold each part of a query set, for many queries.

    The sets' boundaries cut the line into elementary intervals, and every set holds each of
    them wholly or not at all, so which sets hold a point is asked once per elementary interval
    (filled in as queries reach it) rather than of every set for every query: the AKS subnets
    behind one firewall mostly fall in the same few intervals of its rules' sources.
    """

    def __init__(self, sets: Iterable[IntervalSet]) -> None:
        indexed = tuple(enumerate(sets))
        self.cuts: tuple[int, ...] = tuple(sorted({b for _, s in indexed for b in s.boundaries()}))
        self._sets = tuple((i, s) for i, s in indexed if s)
        self._known: dict[int, tuple[int, ...]] = {}

    def holding(self, point: int) -> tuple[int, ...]:
        """Positions (in the order given) of the sets holding `point`."""
        cuts = self.cuts
        index = bisect.bisect_right(cuts, point) - 1
        found = self._known.get(index)
        if found is None:
            inside = 0 <= index < len(cuts) - 1  # beyond the outermost boundaries no set holds anything
            found = self._known[index] = tuple(i for i, s in self._sets if cuts[index] in s) if inside else ()
        return found

    def pieces(self, wanted: IntervalSet) -> list[Span]:
        """`wanted` cut at every boundary inside it: each piece is held by the same sets throughout."""
        if not wanted:
            return []
        low, high = wanted.spans[0][0], wanted.spans[-1][1]
        inside = self.cuts[bisect.bisect_right(self.cuts, low):bisect.bisect_left(self.cuts, high)]
        if not inside:  # the common case: a subnet no set starts or ends inside
            return list(wanted.spans)
        cuts = sorted({*inside, *wanted.boundaries()})
        return [(start, end) for start, end in zip(cuts, cuts[1:]) if start in wanted]
