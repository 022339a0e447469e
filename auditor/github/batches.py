"""Upload batches within code scanning's hard limits: at most 20 runs and 10 MB gzipped each.

Planned from each run's own gzipped size (a sum that over-estimates the batch's, since gzip of
the joined runs shares one dictionary), then checked on the real bytes: a batch that still
does not fit is halved until it does. A single run too large on its own is an error naming it.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Sequence

from .limits import MAX_GZIP_BYTES, MAX_RUNS_PER_UPLOAD
from .runs import SarifDirError, SarifRun

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_ENVELOPE = 80  # bytes the log around the runs adds, gzipped, with room to spare


@dataclass(frozen=True)
class Batch:
    runs: tuple[SarifRun, ...]
    gzipped: bytes  # the upload's `sarif` field before base64

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(run.category for run in self.runs)


def sarif_text(runs: Sequence[SarifRun]) -> str:
    return f'{{"$schema":"{SCHEMA_URI}","version":"2.1.0","runs":[{",".join(run.payload for run in runs)}]}}'


def _batch(runs: Sequence[SarifRun], max_bytes: int) -> list[Batch]:
    data = gzip.compress(sarif_text(runs).encode("utf-8"), compresslevel=9)
    if len(data) <= max_bytes:
        return [Batch(tuple(runs), data)]
    if len(runs) == 1:
        raise SarifDirError(f"{runs[0].source}: run {runs[0].category} is {len(data):,} bytes gzipped, over code "
                            f"scanning's {max_bytes:,}-byte limit for one upload")
    half = len(runs) // 2
    return _batch(runs[:half], max_bytes) + _batch(runs[half:], max_bytes)


def plan_batches(runs: Sequence[SarifRun], max_runs: int = MAX_RUNS_PER_UPLOAD,
                 max_bytes: int = MAX_GZIP_BYTES) -> tuple[Batch, ...]:
    """Consecutive runs (sorted by category) packed greedily under both limits."""
    groups: list[list[SarifRun]] = []
    size = 0
    for run in runs:
        if not groups or len(groups[-1]) >= max_runs or size + run.gzipped_size + _ENVELOPE > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(run)
        size += run.gzipped_size
    return tuple(batch for group in groups for batch in _batch(group, max_bytes))
