"""Staying inside Azure Resource Manager's read limits when lookups run many at a time.

ARM throttles reads with a token bucket per region, per subscription and per security
principal: a bucket of 250 reads refilled at 25 a second (Azure Resource Manager, "Request
limits and throttling", the limits since the 2024 move to regional throttling; free and trial
subscriptions may get less). Every response says what is left in
`x-ms-ratelimit-remaining-subscription-reads` (tenant-level requests in
`x-ms-ratelimit-remaining-tenant-reads`), and a throttled read is answered 429 with
`Retry-After`.

`ArmLimiter` keeps our own copy of each subscription's bucket, so a scan never sends faster
than the documented refill once a bucket is spent, and it believes the server over itself: a
response reporting fewer reads left than we assumed (other tools share the bucket) lowers our
count, and a 429's Retry-After holds that subscription until it has passed. Like the Resource
Graph limiter, it takes an injectable clock so tests exercise it without waiting.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .throttle import Clock, SystemClock, header, retry_after

SUBSCRIPTION_READS = "x-ms-ratelimit-remaining-subscription-reads"
TENANT_READS = "x-ms-ratelimit-remaining-tenant-reads"
TENANT = ""  # the bucket of requests that name no subscription


@dataclass(frozen=True)
class ArmRates:
    """ARM's documented read bucket per subscription (and per tenant): size and refill per second."""

    bucket: int = 250
    refill_per_second: float = 25.0


@dataclass
class _Bucket:
    tokens: float
    updated: float
    held_until: float = 0.0


class ArmLimiter:
    """One token bucket per subscription, shared by every thread of a scan."""

    def __init__(self, clock: Clock | None = None, rates: ArmRates = ArmRates()) -> None:
        self._clock = clock or SystemClock()
        self.rates = rates
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self.waited = 0.0  # seconds spent held, for the scan's record

    def _bucket(self, subscription: str, now: float) -> _Bucket:
        bucket = self._buckets.get(subscription)
        if bucket is None:
            bucket = self._buckets[subscription] = _Bucket(float(self.rates.bucket), now)
        else:
            bucket.tokens = min(float(self.rates.bucket),
                                bucket.tokens + (now - bucket.updated) * self.rates.refill_per_second)
            bucket.updated = now
        return bucket

    def acquire(self, subscription: str) -> float:
        """Wait until `subscription`'s bucket has a read to spend, spend it; returns seconds waited."""
        key = subscription.lower()
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock.now()
                bucket = self._bucket(key, now)
                if now < bucket.held_until:
                    wait = bucket.held_until - now
                elif bucket.tokens >= 1.0 - 1e-6:  # refill arithmetic in floats lands a hair short
                    bucket.tokens = max(0.0, bucket.tokens - 1.0)
                    self.waited += waited
                    return waited
                else:
                    wait = (1.0 - bucket.tokens) / self.rates.refill_per_second
            wait = max(wait, 0.001)
            self._clock.sleep(wait)
            waited += wait

    def observe(self, subscription: str, status: int | None, headers: Mapping[str, str] | None) -> None:
        """A response's word on the bucket: fewer reads left than assumed, or a 429's wait."""
        key = subscription.lower()
        raw = header(headers, TENANT_READS if key == TENANT else SUBSCRIPTION_READS)
        with self._lock:
            now = self._clock.now()
            bucket = self._bucket(key, now)
            try:
                remaining = float(raw) if raw is not None else None
            except ValueError:
                remaining = None
            if remaining is not None:
                bucket.tokens = min(bucket.tokens, remaining)
            if status == 429:
                wait = retry_after(headers)
                bucket.tokens = 0.0
                bucket.held_until = max(bucket.held_until, now + (wait if wait is not None else
                                                                  1.0 / self.rates.refill_per_second))

    def spend(self, subscription: str) -> Callable[[Any], None]:
        """Acquire a read for one request (or list) and return the azure-core `raw_response_hook`
        that reports each of its responses, retries included, back to this limiter."""
        self.acquire(subscription)

        def hook(response: Any) -> None:
            http = getattr(response, "http_response", None)
            self.observe(subscription, getattr(http, "status_code", None), getattr(http, "headers", None))
        return hook
