"""Staying inside Resource Graph's query quota, and backing off when Azure pushes back.

Resource Graph allows a user about 15 queries per 5-second window and says how much is left on
every response (`x-ms-user-quota-remaining`, `x-ms-user-quota-resets-after`). Spending that
quota knowingly is cheaper than bouncing off it: the limiter lets worker threads through while
quota remains and holds them until the window resets when it does not. A 429, a 5xx or a
timeout still happens (other tools share the quota), so requests are retried with capped
exponential back-off and jitter, within one time budget for the whole scan: a scheduled scan
must end, incomplete if need be, rather than retry forever.

Time comes from an injectable `Clock` so tests exercise minutes of back-off in milliseconds.
"""
from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Protocol

QUOTA_REMAINING = "x-ms-user-quota-remaining"
QUOTA_RESETS_AFTER = "x-ms-user-quota-resets-after"
SUBSCRIPTION_LIMIT_HIT = "x-ms-tenant-subscription-limit-hit"
RETRY_AFTER_HEADERS = ("retry-after-ms", "x-ms-retry-after-ms", "retry-after")

_DURATION = re.compile(r"^(?:(\d+)\.)?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


class Clock(Protocol):
    """Monotonic seconds and a way to wait; tests substitute one that only pretends to wait."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Case-insensitive header lookup that works on plain dicts as well as azure-core's headers."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return None if value is None else str(value)


def parse_duration(value: str | None) -> float | None:
    """`hh:mm:ss` (optionally `d.hh:mm:ss` and fractional seconds), as the quota header sends it."""
    match = _DURATION.match((value or "").strip())
    if not match:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from Retry-After (seconds form) or its millisecond variants; None when absent."""
    for name in RETRY_AFTER_HEADERS:
        value = header(headers, name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue  # an HTTP-date: rare for ARM; back-off covers it
        return seconds / 1000 if name.endswith("-ms") else seconds
    return None


@dataclass(frozen=True)
class Quota:
    remaining: int | None
    resets_after: float | None


def quota_of(headers: Mapping[str, str] | None) -> Quota:
    raw = header(headers, QUOTA_REMAINING)
    try:
        remaining = int(raw) if raw is not None else None
    except ValueError:
        remaining = None
    return Quota(remaining, parse_duration(header(headers, QUOTA_RESETS_AFTER)))


class QuotaLimiter:
    """Admits requests while the server says quota remains, counting requests still in flight.

    Shared by all worker threads of a scan. `acquire` before each request returns how long the
    caller was held; `release` with the response headers after it (or None when there was no
    response) lets the server's count replace our estimate.

    Three details keep a long scan at the quota rate instead of below it:

    * the reset time is sent in whole seconds, so each response gives an upper bound on when the
      window resets; the earliest bound seen in a window is kept, not the latest;
    * responses can arrive in another order than the server counted their requests: within a
      window, the lowest "remaining" seen is the freshest, so no response raises the estimate, and
      a response to a request sent before our last reset is ignored;
    * once a window resets, the window's size learnt from earlier responses is assumed, less the
      requests still in flight, rather than "unknown", so a burst of waiting threads does not
      overrun the quota.

    With `poll`, a thread waiting for quota re-checks every `poll` seconds, so quota that turns
    out to be left after all (the estimate counts requests in flight that the server may already
    have counted) is used at once instead of after the reset. Only for a real clock: with a fake
    one, sleeping passes no real time, so polling would only race the fake clock ahead of the
    requests still in flight.
    """

    POLL = 0.05

    def __init__(self, clock: Clock, poll: float | None = None) -> None:
        self._clock = clock
        self._poll = poll
        self._lock = threading.Lock()
        self._remaining: int | None = None  # unknown until the first response
        self._reset_at: float | None = None
        self._blocked_until = 0.0
        self._in_flight = 0
        self._limit: int | None = None  # the largest window size responses have implied
        self._issued = 0  # requests admitted so far: their order
        self._epoch = 0  # requests admitted before our last reset: their answers tell of an old window
        self._server_min: int | None = None  # the least quota any answer in this window reported
        self._local = threading.local()
        self._answered = threading.Condition(self._lock)  # a response came back

    def acquire(self) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock.now()
                if self._reset_at is not None and now >= self._reset_at:
                    # A fresh window; requests still in flight may land in it (a service that counts a
                    # request when it completes counts them there), so they are taken off it.
                    self._remaining = None if self._limit is None else max(0, self._limit - self._in_flight)
                    self._reset_at, self._server_min = None, None
                    self._epoch = self._issued
                if self._reset_at is None and self._remaining == 0 and not self._in_flight:
                    self._remaining = None  # an assumed quota spent, and no response pending to tell more
                if now < self._blocked_until:
                    wait = self._blocked_until - now
                elif self._remaining is None or self._remaining > 0:
                    if self._remaining is not None:
                        self._remaining -= 1
                    self._in_flight += 1
                    self._issued += 1
                    self._local.order = self._issued
                    return waited
                elif self._reset_at is None:
                    # The window's assumed quota is spent and none of its responses is back yet:
                    # wait for one (in real time; it tells when the window resets), not for a clock.
                    self._answered.wait(timeout=1.0)
                    continue
                else:
                    wait = self._reset_at - now
                    if self._poll is not None:
                        wait = min(wait, self._poll)
            wait = wait if wait > 0 else 0.001
            self._clock.sleep(wait)
            waited += wait

    def release(self, headers: Mapping[str, str] | None) -> None:
        quota = quota_of(headers)
        order = getattr(self._local, "order", 0)
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._answered.notify_all()
            if quota.remaining is None or quota.resets_after is None:
                return
            if order <= self._epoch:
                return  # sent before our last reset: it tells of a window already over
            now = self._clock.now()
            reset_at = now + quota.resets_after
            self._limit = max(self._limit or 0, quota.remaining + 1)
            if self._reset_at is not None and reset_at <= self._reset_at + 1.0:  # the same window
                self._reset_at = min(self._reset_at, reset_at)
                self._server_min = min(quota.remaining, self._server_min if self._server_min is not None
                                       else quota.remaining)
            else:
                self._reset_at, self._server_min = reset_at, quota.remaining
            # The server may not yet have counted the requests other threads still have in flight.
            self._remaining = max(0, self._server_min - self._in_flight)

    def hold(self, seconds: float) -> None:
        """After a 429, nobody sends until the wait is over: the quota is shared by every thread."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock.now() + seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential back-off with jitter, a per-request attempt cap and a per-scan budget."""

    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 32.0
    budget: float = 300.0  # seconds after the scan starts past which no retry waits: the scan ends instead

    def backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Equal jitter: half the capped exponential delay, plus a random share of the other half."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** attempt))
        return ceiling / 2 + rand() * ceiling / 2


class Budget:
    """The scan-wide retry deadline, shared by all threads: a retry whose wait would end past it is not made.

    The deadline is `seconds` after the scan started or, once requests succeed, after the latest
    success: a tenant-wide scan at the quota rate runs longer than any fixed deadline, and must
    not lose pages to a 429 in its tenth minute, while a scan that stops getting answers still
    ends `seconds` after its last one.
    """

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self.seconds = seconds
        self._deadline = clock.now() + seconds
        self._lock = threading.Lock()

    def progressed(self) -> None:
        """A request succeeded: the deadline moves to `seconds` from now."""
        with self._lock:
            self._deadline = max(self._deadline, self._clock.now() + self.seconds)

    def allows(self, wait: float) -> bool:
        with self._lock:
            return self._clock.now() + wait <= self._deadline


def wait_for_429(headers: Mapping[str, str] | None, policy: RetryPolicy, attempt: int,
                 rand: Callable[[], float] = random.random) -> float:
    """Retry-After when Azure sends it; else the quota reset if the quota is spent; else back-off."""
    explicit = retry_after(headers)
    if explicit is not None:
        return explicit
    quota = quota_of(headers)
    backoff = policy.backoff(attempt, rand)
    if quota.remaining == 0 and quota.resets_after is not None:
        return max(quota.resets_after, backoff)
    return backoff
