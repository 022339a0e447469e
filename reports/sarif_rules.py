"""SARIF rule descriptors (`tool.driver.rules[]`) built from check metadata and docstrings.

GitHub stores rule text once per rule id and shows `help.markdown` next to every alert, so the
text is derived only from the check itself, never from findings. `helpUri` is left out because
code scanning does not show it; the links go into the help text instead, as link text.

GitHub renders `help.markdown` through an HTML sanitiser: anything shaped like a tag outside a
code span (`<firewall private IP>`) is dropped, so such text is escaped. Descriptions are cut at
a sentence end so no reader sees half a sentence.

The one thing a descriptor takes from the scan is its `security-severity`, because code scanning
labels an alert only from its rule (results cannot override it); see `rule` and docs/github.md.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from aksaudit.results.findings import Severity
from aksaudit.run.registry import LoadedCheck

INFORMATION_URI = "https://github.com/aksaudit/aksaudit"
# Mid-band values: GitHub maps > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "2.0"}
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
         Severity.LOW: "note", Severity.INFO: "note"}
BASE_TAGS = ("security", "azure", "aks")
MAX_TAGS = 10  # GitHub displays 10 and rejects more than 20
MAX_DESCRIPTION = 1024
MAX_NAME = 255
LOCATION_NOTE = ("The alert's file path is not a file in this repository: `azure/<resource id>` is the lower-cased "
                 "Azure Resource Manager id of the resource the finding is about (open it in the Azure portal or "
                 "with `az resource show --ids`), and line 1 stands for the whole resource.")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.S)
_SENTENCE_END = re.compile(r"[.!?][)\"']?(?=\s|$)")


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


def clip_sentences(text: str, limit: int) -> str:
    """The longest run of whole sentences that fits; a word cut only when one sentence is too long."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= limit]
    return text[: ends[-1]] if ends else clip(text, limit)


def sanitiser_safe(markdown: str) -> str:
    """Escape '<' outside code spans, so GitHub's sanitiser cannot take `<name>` for a tag and drop it."""
    parts, last = [], 0
    for match in _CODE_SPAN.finditer(markdown):
        parts.append(markdown[last:match.start()].replace("<", "&lt;"))
        parts.append(match.group(0))
        last = match.end()
    parts.append(markdown[last:].replace("<", "&lt;"))
    return "".join(parts)


def link_text(url: str) -> str:
    """'Rule processing (learn.microsoft.com)' for a documentation URL: a reader sees what it is."""
    parts = urlsplit(url)
    slug = parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc
    words = slug.replace("-", " ").replace("_", " ").strip()
    return f"{words[:1].upper()}{words[1:]} ({parts.netloc})" if words else parts.netloc


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
    parts.append(LOCATION_NOTE.replace("`", ""))
    parts.append(_explain_hint(check))
    return "\n\n".join(parts)


def help_markdown(check: LoadedCheck) -> str:
    """Why + how to fix + documentation links + where the alert points: what a reviewer needs."""
    parts = [f"**{check.meta.id}: {sanitiser_safe(check.meta.title)}**"]
    for heading in ("What it checks", "Why it matters", "How to fix"):
        body = check.section(heading)
        if body:
            parts.append(f"#### {heading}\n\n{sanitiser_safe(body)}")
    links = [f"- [{link_text(ref)}]({ref})" for ref in check.meta.references if ref.startswith(("https://", "http://"))]
    if links:
        parts.append("#### Documentation\n\n" + "\n".join(links))
    parts.append(f"#### Where this alert points\n\n{LOCATION_NOTE}")
    parts.append(f"`aksaudit checks explain {check.id}` prints this explanation offline.")
    return "\n\n".join(parts)


def tags(check: LoadedCheck) -> list[str]:
    ordered = dict.fromkeys((*BASE_TAGS, *(t.lower() for t in check.meta.tags)))
    return list(ordered)[:MAX_TAGS]


def rule(check: LoadedCheck, severity: Severity | None = None) -> dict[str, Any]:
    """The descriptor of `check`, labelled with `severity` (the check's own when None).

    The id is always the check id: code scanning's alert identity includes it, so a severity
    change must never change it. The label is the one thing that follows the scan.
    """
    meta = check.meta
    shown = severity or meta.severity
    what = unwrap(check.section("What it checks")) or meta.title
    properties: dict[str, Any] = {"tags": tags(check), "precision": "high"}
    if shown in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[shown]
    return {
        "id": meta.id,
        "name": clip(pascal_case(meta.slug) or meta.id, MAX_NAME),
        "shortDescription": {"text": clip_sentences(meta.title, MAX_DESCRIPTION)},
        "fullDescription": {"text": clip_sentences(what, MAX_DESCRIPTION)},
        "help": {"text": help_text(check), "markdown": help_markdown(check)},
        "defaultConfiguration": {"level": LEVEL[shown]},
        "properties": properties,
    }
