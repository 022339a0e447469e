"""A clock that only pretends to wait, so minutes of back-off run in microseconds.

Thread-safe, because the collector's worker threads share it. `sleeps` keeps every wait asked
for, which is how tests check that a 429 was waited out for the time Azure asked.
"""
from __future__ import annotations

import threading


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)

    @property
    def waited(self) -> float:
        with self._lock:
            return sum(self.sleeps)
