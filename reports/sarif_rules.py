"""SARIF rule descriptors (`tool.driver.rules[]`) built from check metadata and docstrings.

GitHub stores rule text once per rule id and shows `help.markdown` next to every alert, so the
descriptor must be the same object every run: it is derived only from the check itself, never
from findings. `helpUri` is left out because code scanning does not show it; the links go
into the help text instead.
"""
from __future__ import annotations

from typing import Any

from aksaudit.findings import Severity
from aksaudit.registry import LoadedCheck

# Mid-band values: GitHub maps > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "2.0"}
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
         Severity.LOW: "note", Severity.INFO: "note"}
BASE_TAGS = ("security", "azure", "aks")
MAX_TAGS = 10  # GitHub displays 10 and rejects more than 20
MAX_DESCRIPTION = 1024
MAX_NAME = 255


def unwrap(text: str) -> str:
    """Docstrings are hard-wrapped; plain-text consumers want one line per paragraph."""
    paragraphs = [" ".join(line.strip() for line in block.splitlines()) for block in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters at a word boundary, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def pascal_case(slug: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in slug.replace("_", "-").split("-") if part)


def _explain_hint(check: LoadedCheck) -> str:
    return f"Offline explanation: aksaudit checks explain {check.id}"


def help_text(check: LoadedCheck) -> str:
    parts = [check.meta.title]
    for heading in ("What it checks", "Why it matters", "How to fix"):
        body = check.section(heading)
        if body:
            parts.append(f"{heading}: {unwrap(body)}")
    if check.meta.references:
        parts.append("Documentation: " + " ".join(check.meta.references))
    parts.append(_explain_hint(check))
    return "\n\n".join(parts)


def help_markdown(check: LoadedCheck) -> str:
    """Why + how to fix + documentation links: what a reviewer needs beside the alert."""
    parts = [f"**{check.meta.id}: {check.meta.title}**"]
    for heading in ("What it checks", "Why it matters", "How to fix"):
        body = check.section(heading)
        if body:
            parts.append(f"#### {heading}\n\n{body}")
    links = [f"- [{ref}]({ref})" for ref in check.meta.references if ref.startswith(("https://", "http://"))]
    if links:
        parts.append("#### Documentation\n\n" + "\n".join(links))
    parts.append(f"`aksaudit checks explain {check.id}` prints this explanation offline.")
    return "\n\n".join(parts)


def tags(check: LoadedCheck) -> list[str]:
    ordered = dict.fromkeys((*BASE_TAGS, *(t.lower() for t in check.meta.tags)))
    return list(ordered)[:MAX_TAGS]


def rule(check: LoadedCheck) -> dict[str, Any]:
    meta = check.meta
    what = unwrap(check.section("What it checks")) or meta.title
    properties: dict[str, Any] = {"tags": tags(check), "precision": "high"}
    if meta.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[meta.severity]
    return {
        "id": meta.id,
        "name": clip(pascal_case(meta.slug) or meta.id, MAX_NAME),
        "shortDescription": {"text": clip(meta.title, MAX_DESCRIPTION)},
        "fullDescription": {"text": clip(what, MAX_DESCRIPTION)},
        "help": {"text": help_text(check), "markdown": help_markdown(check)},
        "defaultConfiguration": {"level": LEVEL[meta.severity]},
        "properties": properties,
    }
