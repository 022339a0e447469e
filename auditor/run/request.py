"""What a scan is asked to do, as frozen data: where the estate comes from, which checks judge it,
the configuration, the previous result, the approved egress and the date suppressions are
judged at. Every command that scans builds one of these and hands it to `pipeline.run`; none
of them assembles a scan by hand, so none can forget a part (the configuration, say).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping, Union

from aksaudit.results.finding_baseline import Baseline
from aksaudit.results.frameworks import Framework
from ..collect.live import ScopeRequest
from ..collect.queries import SUBSCRIPTION_BATCH
from ..collect.throttle import RetryPolicy
from ..config import Config
from aksaudit.run.registry import LoadedCheck


@dataclass(frozen=True)
class SnapshotSource:
    """An estate saved in a file: Resource Graph rows, `az graph query` output or an aksaudit snapshot."""

    path: str


@dataclass(frozen=True)
class LiveSource:
    """An estate read now from Azure: Resource Graph (`arg`) or Resource Manager (`arm`)."""

    scope: ScopeRequest = field(default_factory=ScopeRequest)
    cloud: str = "AzureCloud"
    retry_budget: float = RetryPolicy().budget  # seconds without a successful request before data is reported missing
    api: str = "arg"  # arg | arm
    subscription_batch: int | None = None  # None: the default batch, scopes not split
    quiet: bool = False  # no progress display
    # Ask the AKS API for each cluster's own outbound dependency list where it can change a
    # verdict (False: AKS003 judges the documented list; --no-dependency-lists).
    dependency_lists: bool = True
    # Read Azure's effective routes of one node NIC per AKS subnet (--effective-routes).
    effective_routes: bool = False

    @property
    def batch_size(self) -> int:
        return self.subscription_batch or SUBSCRIPTION_BATCH


Source = Union[SnapshotSource, LiveSource]


@dataclass(frozen=True)
class ScanRequest:
    source: Source
    checks: tuple[LoadedCheck, ...]
    config: Config = field(default_factory=Config)  # options, severities and suppressions come from here
    previous: Baseline | None = None  # a previous result: findings become new, unchanged or reappeared
    approved_egress: Mapping[str, Any] | None = None  # from `baseline approve`, for checks that compare with it
    as_of: date | None = None  # suppression expiry is judged on this day (None: today)
    warnings: tuple[str, ...] = ()  # known before the scan starts (plugins left out), reported with it
    frameworks: tuple[Framework, ...] | None = None  # whose controls the result reports on (None: every bundled one)
