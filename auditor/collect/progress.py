"""Telling the person at the terminal what a long scan is doing, and keeping CI logs quiet.

On a terminal, a live rich display shows rows and pages per query and any throttling wait; in a
pipe (CI), one plain line per finished query or wait is enough to see where time went. Both
write to stderr so `--json -` keeps stdout clean.
"""
from __future__ import annotations

import sys
import threading
from typing import IO, Any, Iterable, Iterator, Protocol


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


LARGE_SNAPSHOT = 32 * 1024 * 1024  # bytes: smaller files are read before a display would settle
ROWS_PER_UPDATE = 2000


def counted_rows(rows: Iterable[Any], label: str, size: int, stream: IO[str] | None = None) -> Iterable[Any]:
    """`rows` unchanged; while they are read, a rich row count on stderr when it is a terminal and
    the file is large (a million-row snapshot takes a while to model). Never in a pipe or a CI
    log: there it would be noise between the findings."""
    stream = stream or sys.stderr
    if size < LARGE_SNAPSHOT or not getattr(stream, "isatty", lambda: False)():
        return rows
    return _CountedRows(rows, label, stream)


class _CountedRows:
    """Re-iterable as the streamed rows it wraps: each pass shows its own count."""

    def __init__(self, rows: Iterable[Any], label: str, stream: IO[str]) -> None:
        self._rows, self._label, self._stream = rows, label, stream

    def __iter__(self) -> Iterator[Any]:
        return _counting(self._rows, self._label, self._stream)


def _counting(rows: Iterable[Any], label: str, stream: IO[str]) -> Iterator[Any]:
    from rich.console import Console
    from rich.progress import Progress as RichBar, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = RichBar(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} row(s)"),
                  TimeElapsedColumn(), console=Console(file=stream, highlight=False), transient=True)
    task = bar.add_task(label, total=None)
    count = 0
    with bar:
        for row in rows:
            yield row
            count += 1
            if count % ROWS_PER_UPDATE == 0:
                bar.update(task, completed=count)
