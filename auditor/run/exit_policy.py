"""How a command's exit code follows from a scan result: one policy for `scan` and `merge`.

0 complete and nothing at or above the `--fail-on` severity; 1 findings at or above it; 2 the
command could not start (usage, unreadable input, configuration); 3 the scan is incomplete
(results still written); 130 interrupted (Ctrl-C: nothing written); 141 stdout was closed by
its reader (`aksaudit diff ... | head`), as for other tools killed by SIGPIPE. `diff` uses 1
for "changes found", as diff(1) does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aksaudit.results.findings import Severity

if TYPE_CHECKING:
    from aksaudit.run.engine import ScanResult

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as shells report a writer whose reader went away
NEVER = "never"
FAIL_ON = (*(severity.value for severity in sorted(Severity, key=lambda s: -s.rank)), NEVER)
DEFAULT_FAIL_ON = Severity.LOW.value


def exit_code(result: ScanResult, fail_on: str, *, only_new: bool = False) -> int:
    """Incomplete wins over findings: a partial scan must never look like a clean or ordinary one.

    Suppressed findings (accepted risks) never fail the run. With `only_new`, findings a
    previous result already held (unchanged) do not either: adoption on an estate with existing
    debt. Reappeared findings count as new: they are regressions.
    """
    if not result.complete:
        return EXIT_INCOMPLETE
    if fail_on == NEVER:
        return EXIT_OK
    threshold = Severity(fail_on).rank
    counted = (f for f in result.findings if not f.suppressed and (not only_new or f.baseline_state != "unchanged"))
    return EXIT_FINDINGS if any(f.severity.rank >= threshold for f in counted) else EXIT_OK
