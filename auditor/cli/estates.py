"""Reading a saved estate without running checks, for the commands that compare estates."""
from __future__ import annotations

from typing import Any

from ..run.request import SnapshotSource
from ..run.sources import read_source


def estate_of(path: str) -> tuple[Any, list[str]]:
    """The estate in a snapshot file, and the gaps that keep it from being complete."""
    collected = read_source(SnapshotSource(path), checks=())
    return collected.estate, list(collected.gaps)
