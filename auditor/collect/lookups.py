"""Running a scan's ARM lookups at once, within ARM's read limits, instead of one after another.

After Resource Graph has answered, a scan still asks ARM for what it cannot see: rule
collection groups that came without rules, a virtual hub's routing intent and connections, a
cluster's outbound network dependencies. There is one such read per resource, and thousands of
clusters in series cost thousands of round trips of wall time. Each read is independent of
the others, so they are all submitted to a bounded pool of threads; before each is sent, the
subscription's read bucket (`ArmLimiter`) must have a token, and every response (retries
included, through the SDK's `raw_response_hook`) tells the limiter what ARM says is left.

A lookup's failure is its own result (an `AzureError` the caller turns into a named gap or a
warning, exactly as before); an authentication failure, or Ctrl-C, ends the whole run.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

from azure.core.exceptions import AzureError

from .arm_limits import ArmLimiter
from .identity import is_auth_failure

T = TypeVar("T")
ARM_WORKERS = 16  # reads in flight at once; the limiter keeps each subscription within its bucket


@dataclass(frozen=True)
class Lookup(Generic[T]):
    """One ARM read: what kind it is (for the scan's record), whose bucket it spends, and the
    call itself, which gets the response hook to hand to the SDK as `raw_response_hook`."""

    kind: str
    subscription: str
    call: Callable[[Callable[[Any], None]], T]


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T | None = None
    error: AzureError | None = None


@dataclass
class LookupRunner:
    """Runs lookups `workers` at a time through one `ArmLimiter`; counts what it sent, by kind."""

    limiter: ArmLimiter = field(default_factory=ArmLimiter)
    workers: int = ARM_WORKERS
    made: dict[str, int] = field(default_factory=dict)

    def _one(self, lookup: Lookup[T]) -> Answer[T]:
        hook = self.limiter.spend(lookup.subscription)
        try:
            return Answer(value=lookup.call(hook))
        except AzureError as error:
            if is_auth_failure(error):
                raise
            return Answer(error=error)

    def meta(self) -> dict[str, Any]:
        """The snapshot's record: ARM lookups sent, by kind, and the time spent held by the buckets."""
        return {"arm_lookups_sent": dict(self.made), "arm_limiter_wait_seconds": round(self.limiter.waited, 3)} \
            if self.made else {}

    def run(self, lookups: Sequence[Lookup[T]]) -> list[Answer[T]]:
        """Every lookup's answer, in the order given."""
        for lookup in lookups:
            self.made[lookup.kind] = self.made.get(lookup.kind, 0) + 1
        if not lookups:
            return []
        if self.workers <= 1 or len(lookups) == 1:
            return [self._one(lookup) for lookup in lookups]
        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(lookups)), thread_name_prefix="aksaudit-lookup")
        try:
            answers = list(pool.map(self._one, lookups))
        except BaseException:  # an authentication failure or Ctrl-C: do not wait for the reads in flight
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return answers
