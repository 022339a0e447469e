"""How much input aksaudit accepts: a whole snapshot, one row, one list inside a row.

Snapshots come from files anyone can hand over. A file far larger than the machine's memory
would not fail, it would thrash (or be killed by a container's memory limit with no message),
so a snapshot too large for the memory aksaudit may use is refused up front with an error naming
the file and the limit. The limit is half the machine's physical memory, or of the container's
memory limit when that is lower (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`): a scan's
peak memory is about twice the snapshot's size (measured on generated estates: the streamed rows'
typed model plus the findings). Set `AKSAUDIT_MAX_SNAPSHOT_BYTES` (bytes, or with a K/M/G/T
suffix, powers of 1024) to choose it.

Inside a snapshot, a single row is rejected (named in a warning, its data a gap: the scan is
incomplete, never silently clean) when a list the model reads holds more than
`MAX_LIST_ITEMS` items: no real resource has a million routes or rules, and walking one would
cost minutes. Nesting deeper than the JSON parser's recursion allowance makes the file
unreadable with an error that says so, never a crash.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

MAX_SNAPSHOT_ENV = "AKSAUDIT_MAX_SNAPSHOT_BYTES"
MIN_DERIVED = 256 * 1024 ** 2  # a floor for odd hosts that report tiny or no memory
FALLBACK = 8 * 1024 ** 3  # when memory cannot be read at all
# Azure's own caps are far below this (400 routes per table, a few thousand rules per policy,
# 65,536 addresses per IP group); a list longer than this in a row is damage or an attack.
MAX_LIST_ITEMS = 100_000

_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


class LimitError(ValueError):
    """A limit setting that cannot be used (the CLI exits 2 with the message)."""


def parse_size(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise LimitError(f"{MAX_SNAPSHOT_ENV}={text!r} is not a size: give bytes, or a number with K, M, G or T")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_limit(paths: tuple[str, ...] = _CGROUP_LIMITS) -> int | None:
    for path in paths:
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2 ** 60:  # "max", or v1's "unlimited" near 2**63
            return int(text)
    return None


def memory_bytes() -> int | None:
    """The memory this process may use: physical memory, or a lower container limit."""
    found = [value for value in (_physical_memory(), _cgroup_limit()) if value]
    return min(found) if found else None


def max_snapshot_bytes(environ: dict[str, str] | None = None) -> int:
    """The largest snapshot file accepted: the setting, else half the memory available to aksaudit."""
    environ = os.environ if environ is None else environ
    setting = environ.get(MAX_SNAPSHOT_ENV, "").strip()
    if setting:
        return parse_size(setting)
    memory = memory_bytes()
    return max(MIN_DERIVED, memory // 2) if memory else FALLBACK


def too_large(name: str, size: int, limit: int) -> str:
    """The message for a snapshot over the limit: the file, both sizes, and how to change it."""
    return (f"{name}: {size:,} bytes is more than the {limit:,} bytes a snapshot may be here ({MAX_SNAPSHOT_ENV}, "
            f"or when unset half the memory available to aksaudit); split the scan by subscription, or set "
            f"{MAX_SNAPSHOT_ENV} to raise the limit")
