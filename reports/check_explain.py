"""The offline explanation of a check: the same text the docs and SARIF help use."""
from __future__ import annotations

from aksaudit.reports.control_docs import explain_lines
from aksaudit.run.registry import LoadedCheck


def explain_text(check: LoadedCheck) -> str:
    meta = check.meta
    lines = [f"{meta.id} ({meta.slug}) — {meta.title}", f"Default severity: {meta.severity.value}",
             f"Resource types: {', '.join(meta.requires)}", "", check.doc.strip()]
    if meta.options:
        lines += ["", "Options:"] + [f"  {name} (default: {value!r})" for name, value in meta.options.items()]
    lines += [""] + explain_lines(meta.id)
    if meta.references:
        lines += ["", "References:"] + [f"  {ref}" for ref in meta.references]
    return "\n".join(lines) + "\n"
