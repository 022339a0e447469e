"""Ctrl-C during a live read must stop the scan, wherever in the interpreter it lands.

Python turns SIGINT into KeyboardInterrupt in the main thread at the next bytecode it runs. If
that bytecode belongs to a finalizer (a `__del__` of a response, socket or generator that the
garbage collector runs at that moment, which a scan creating thousands of responses does
often), the exception cannot propagate: the interpreter prints "Exception ignored in ..." and
carries on, and the scan finishes as if nothing happened, writing its reports. While a live read
runs, `interruptible` therefore also remembers the signal, and raises KeyboardInterrupt when the
read ends if the one raised at the time was lost.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def interruptible() -> Iterator[None]:
    """Remember SIGINT for the duration of the block; raise KeyboardInterrupt at its end if one came.

    Only in the main thread, and only over Python's own handler: a program (or test runner) that
    installed its own keeps it."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    received: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt
