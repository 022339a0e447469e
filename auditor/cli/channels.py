"""What reaches stdout and stderr: escaped, redacted when asked, never a workflow command.

Everything the tool prints may carry text from the estate (resource names, keys, tokens of a
configuration file), so it passes three filters:

* control characters, bidi controls and lone surrogates become '?' (the same `plain` filter as
  the terminal summary): an OSC 52 clipboard write or a clear-screen sequence in a resource name
  stays inert;
* in plain (non-terminal) output, a line that would begin with `::` is shown as `\\::`: the GitHub
  Actions runner executes lines starting with `::` as workflow commands (`::add-mask::`,
  `::stop-commands::`), and a wrapped line of data could otherwise start with one;
* under `--redact-subscriptions`, subscription ids are replaced by their pseudonyms on stderr
  too (progress lines and warnings), as they are in the reports people read.

The streams are wrapped once, at start-up (`install`); reports streamed to `-` bypass the
wrapper (`raw_stdout`), since they are documents with their own escaping, not messages.
"""
from __future__ import annotations

import io
import re
import sys
from typing import IO, Callable

from aksaudit.results.redaction import pseudonym
from ..reports.terminal import plain

WORKFLOW_COMMAND = re.compile(r"^(\s*)::", re.MULTILINE)
_SUBSCRIPTION = re.compile(r"(/subscriptions/)([^/\s'\"`]+)|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
                           re.IGNORECASE)


def escape(text: str) -> str:
    """One line of message text, safe for any terminal or log (see the module docstring)."""
    return plain(str(text))


def no_workflow_commands(text: str) -> str:
    r"""Lines beginning (after blanks) with `::` get a backslash: `\::` is shown, never executed."""
    return WORKFLOW_COMMAND.sub(lambda m: m.group(1) + "\\::", text)


def redact_subscriptions(text: str) -> str:
    """Every subscription id, in an ARM id or standing alone as a GUID, as its pseudonym. On stderr
    there is no result to tell subscription GUIDs from other GUIDs, so every GUID is taken for one."""
    def replace(match: re.Match) -> str:
        if match.group(1):
            return match.group(1) + pseudonym(match.group(2))
        return pseudonym(match.group(0))
    return _SUBSCRIPTION.sub(replace, text)


class GuardedStream(io.TextIOBase):
    """A text stream that filters what passes through it, one whole line at a time.

    On a terminal, text goes through at once (live progress redraws without newlines) and only
    redaction applies; elsewhere lines are held until complete, so that a `::` split over two
    writes is still seen at the start of its line.
    """

    def __init__(self, inner: IO[str]) -> None:
        super().__init__()
        self.inner = inner
        self.redact = False
        self._pending = ""
        self._terminal = bool(getattr(inner, "isatty", lambda: False)())

    def isatty(self) -> bool:
        return self._terminal

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8")

    def writable(self) -> bool:
        return True

    def _filter(self, text: str) -> str:
        if self.redact:
            text = redact_subscriptions(text)
        return text if self._terminal else no_workflow_commands(text)

    def write(self, text: str) -> int:
        if self._terminal:
            self.inner.write(self._filter(text))
            return len(text)
        self._pending += text
        complete, newline, rest = self._pending.rpartition("\n")
        if newline:
            self.inner.write(self._filter(complete + newline))
            self._pending = rest
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.inner.write(self._filter(self._pending))
            self._pending = ""
        self.inner.flush()


def install() -> None:
    """Wrap stdout and stderr (idempotent); unencodable characters are written escaped."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if not isinstance(sys.stdout, GuardedStream):
        sys.stdout = GuardedStream(sys.stdout)
    if not isinstance(sys.stderr, GuardedStream):
        sys.stderr = GuardedStream(sys.stderr)


def raw_stdout() -> IO[str]:
    """stdout for a report streamed to '-': the document exactly as rendered."""
    if isinstance(sys.stdout, GuardedStream):
        sys.stdout.flush()
        return sys.stdout.inner
    return sys.stdout


def redact_stderr(on: bool = True) -> None:
    """`--redact-subscriptions`: pseudonyms on stderr from now on (progress, warnings, errors)."""
    if isinstance(sys.stderr, GuardedStream):
        sys.stderr.redact = on


def say(kind: str, text: str, *, stream: Callable[[], IO[str]] = lambda: sys.stderr, lines: bool = False) -> None:
    """One line on stderr: 'aksaudit: <kind>: <text>' with the text escaped ('' kind: no label).
    With `lines`, text the tool wrote itself over several lines keeps them, each escaped and
    the continuations indented."""
    label = f"{kind}: " if kind else ""
    body = "\n  ".join(escape(line) for line in text.splitlines()) if lines else escape(text)
    out = stream()
    out.write(f"aksaudit: {label}{body}\n")
    out.flush()


def error(text: str) -> None:
    say("error", text)


def warning(text: str) -> None:
    say("warning", text)


def notice(text: str) -> None:
    say("notice", text)


def escape_lines(text: str) -> str:
    """Multi-line text with each line escaped (the newlines kept)."""
    return "\n".join(escape(line) for line in text.split("\n"))
