"""Telling the person at the terminal what a long scan is doing, and keeping CI logs quiet.

On a terminal, a live rich display shows rows and pages per query and any throttling wait; in a
pipe (CI), one plain line per finished query or wait is enough to see where time went. Both
write to stderr so `--json -` keeps stdout clean.
"""
from __future__ import annotations

import sys
import threading
from typing import IO, Protocol


class Progress(Protocol):
    def started(self, key: str, label: str) -> None: ...

    def page(self, key: str, pages: int, rows: int) -> None: ...

    def waiting(self, label: str, seconds: float, reason: str) -> None: ...

    def finished(self, key: str, pages: int, rows: int, error: str = "") -> None: ...

    def close(self) -> None: ...


class NullProgress:
    """For --quiet and for tests."""

    def started(self, key: str, label: str) -> None:
        pass

    def page(self, key: str, pages: int, rows: int) -> None:
        pass

    def waiting(self, label: str, seconds: float, reason: str) -> None:
        pass

    def finished(self, key: str, pages: int, rows: int, error: str = "") -> None:
        pass

    def close(self) -> None:
        pass


class LogProgress(NullProgress):
    """Plain lines, one per event that matters; no cursor tricks a CI log cannot show."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._labels: dict[str, str] = {}
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self._lock:
            self._stream.write(f"aksaudit: {text}\n")
            self._stream.flush()

    def started(self, key: str, label: str) -> None:
        self._labels[key] = label

    def waiting(self, label: str, seconds: float, reason: str) -> None:
        self._line(f"{label}: {reason}; waiting {seconds:.1f}s")

    def finished(self, key: str, pages: int, rows: int, error: str = "") -> None:
        outcome = f"incomplete: {error}" if error else "done"
        self._line(f"{self._labels.get(key, key)}: {rows} row(s) in {pages} page(s), {outcome}")


class RichProgress:
    """A live table of queries for interactive terminals."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import Progress as RichBar, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._console = Console(file=stream, highlight=False)
        self._bar = RichBar(SpinnerColumn(), TextColumn("{task.description}"),
                            TextColumn("{task.fields[pages]} page(s), {task.fields[rows]} row(s) {task.fields[note]}"),
                            TimeElapsedColumn(), console=self._console, transient=False)
        self._tasks: dict[str, int] = {}
        self._lock = threading.Lock()
        self._bar.start()

    def started(self, key: str, label: str) -> None:
        with self._lock:
            self._tasks[key] = self._bar.add_task(label, total=None, pages=0, rows=0, note="")

    def page(self, key: str, pages: int, rows: int) -> None:
        if key in self._tasks:
            self._bar.update(self._tasks[key], pages=pages, rows=rows, note="")

    def waiting(self, label: str, seconds: float, reason: str) -> None:
        from rich.text import Text
        self._console.print(Text(f"{label}: {reason}; waiting {seconds:.1f}s", style="yellow"))

    def finished(self, key: str, pages: int, rows: int, error: str = "") -> None:
        if key in self._tasks:
            note = "[red]incomplete[/red]" if error else "[green]done[/green]"
            self._bar.update(self._tasks[key], pages=pages, rows=rows, note=note, total=1, completed=1)

    def close(self) -> None:
        self._bar.stop()


def make_progress(quiet: bool = False, stream: IO[str] | None = None) -> Progress:
    stream = stream or sys.stderr
    if quiet:
        return NullProgress()
    if getattr(stream, "isatty", lambda: False)():
        return RichProgress(stream)
    return LogProgress(stream)
