"""Ctrl-C that lands in a finalizer: Python reports it as 'Exception ignored' and goes on, so a
live scan would finish and write its reports. `interruptible` remembers the signal instead."""
from __future__ import annotations

import gc
import os
import signal
import sys
import time

import pytest

from aksaudit.collect.interrupt import interruptible


class _SignalledWhileCollected:
    """An object whose finalizer is where SIGINT arrives (as a response's or socket's may be)."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # bytecodes for the handler to run in
            pass


@pytest.fixture
def swallowed(monkeypatch):
    """The exceptions the interpreter could not raise (it hands them to sys.unraisablehook)."""
    found: list[type] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: found.append(info.exc_type))
    return found


def _lose_an_interrupt() -> None:
    item = _SignalledWhileCollected()
    del item
    gc.collect()


@pytest.mark.skipif(signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
                    reason="another SIGINT handler is installed")
def test_without_the_guard_a_finalizer_swallows_ctrl_c(swallowed):
    _lose_an_interrupt()  # no KeyboardInterrupt reaches us: this is the failure mode
    assert swallowed == [KeyboardInterrupt]


@pytest.mark.skipif(signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
                    reason="another SIGINT handler is installed")
def test_a_swallowed_ctrl_c_still_ends_the_read(swallowed):
    with pytest.raises(KeyboardInterrupt):
        with interruptible():
            _lose_an_interrupt()
    assert swallowed == [KeyboardInterrupt]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_a_read_without_ctrl_c_ends_normally():
    before = signal.getsignal(signal.SIGINT)  # Python's handler, or SIG_IGN in a background job
    with interruptible():
        value = 1
    assert value == 1 and signal.getsignal(signal.SIGINT) is before  # whatever was there is restored
