"""The hostile estate: the drifted example with a payload in every free-text field.

Resource names, resource groups, subnet and route names, rule collection group, collection and
rule names, descriptions and tags all carry markup (`<script>`, `<img onerror>`), `javascript:`
URLs, Markdown links and images, shell (`$(...)`, backticks, quotes, newlines), ANSI escape
sequences (colour and OSC 8 hyperlinks) and a Unicode bidi override. Names that are segments of
ARM ids get the payloads that hold no '/', so ids still parse and every join still holds: the
estate gives exactly the drifted example's findings, renamed (`expected_keys`), which is what
lets the output tests say the payloads went through every renderer.

`PAYLOADS` is what docs/reliability.md lists as the hostile inputs tried.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SOURCE = "hub-spoke-drifted.json"

# (label, payload). Every one goes into free text; those without '/' into id segments too.
PAYLOADS = (
    ("script element", "<script>alert(1)</script>"),
    ("img onerror", "<img src=x onerror=alert(1)>"),
    ("svg onload", "<svg onload=alert(1)>"),
    ("javascript: URL", "javascript:alert(1)"),
    ("Markdown link", "[x](http://evil)"),
    ("Markdown link to javascript:", "[click](javascript:alert(1))"),
    ("Markdown image", "![x](http://evil/i.png)"),
    ("Markdown image, relative", "![x](evil.png)"),
    ("command substitution", "$(touch pwned)"),
    ("backticks", "`touch pwned`"),
    ("quotes", "'\""),
    ("newline", "\nNEWLINE"),
    ("ANSI colour", "\x1b[31mRED\x1b[0m"),
    ("ANSI OSC 8 hyperlink", "\x1b]8;;http://evil\x07link\x1b]8;;\x07"),
    ("ANSI OSC 8 hyperlink, no slash", "\x1b]8;;javascript:alert(1)\x07link\x1b]8;;\x07"),
    ("bidi override", "\u202eevil"),
)
FREE_TEXT = " " + " ".join(payload for _, payload in PAYLOADS) + " end"
ID_SAFE = " " + " ".join(payload for _, payload in PAYLOADS if "/" not in payload) + " end"
# Azure's own names for special subnets: renaming them would change what the estate means.
KEEP = frozenset({"azurefirewallsubnet", "azurefirewallmanagementsubnet", "gatewaysubnet", "azurebastionsubnet"})
RULE_LISTS = frozenset({"ruleCollections", "rules", "applicationRuleCollections", "networkRuleCollections",
                        "natRuleCollections"})
HOSTILE_TAG_KEY = "note<script>alert(1)</script>"


def _id_names(value: Any, names: set[str], groups: set[str]) -> None:
    """Names of everything that has an id (they are id segments), and resource groups."""
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and isinstance(value.get("name"), str):
            names.add(value["name"])
        if isinstance(value.get("resourceGroup"), str):
            groups.add(value["resourceGroup"])
        for item in value.values():
            _id_names(item, names, groups)
    elif isinstance(value, list):
        for item in value:
            _id_names(item, names, groups)


def id_mapping(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Lower-cased original id segment -> hostile segment."""
    names: set[str] = set()
    groups: set[str] = set()
    _id_names(rows, names, groups)
    return {name.lower(): name + ID_SAFE for name in names | groups if name.lower() not in KEEP}


def rename_id(resource_id: str, mapping: dict[str, str]) -> str:
    return "/".join(mapping.get(segment.lower(), segment) for segment in resource_id.split("/"))


def _hostile(value: Any, mapping: dict[str, str], key: str = "", parent: str = "") -> Any:
    if isinstance(value, dict):
        out = {}
        has_id = isinstance(value.get("id"), str)
        for k, v in value.items():
            if k == "tags" and isinstance(v, dict):
                out[k] = {**{tk: f"{tv}{FREE_TEXT}" for tk, tv in v.items()}, HOSTILE_TAG_KEY: FREE_TEXT.strip()}
            elif k == "name" and isinstance(v, str) and not has_id and parent in RULE_LISTS:
                out[k] = v + FREE_TEXT  # collection and rule names: loci, never id segments
            elif k == "description" and isinstance(v, str):
                out[k] = v + FREE_TEXT
            else:
                out[k] = _hostile(v, mapping, k, key if isinstance(v, list) else parent)
        return out
    if isinstance(value, list):
        return [_hostile(item, mapping, key, key) for item in value]
    if isinstance(value, str):
        if value.startswith("/subscriptions/") or key == "id":
            return rename_id(value, mapping)
        if key in ("name", "resourceGroup", "nodeResourceGroup") and value.lower() in mapping:
            return mapping[value.lower()]
    return value


def source_rows() -> list[dict[str, Any]]:
    return json.loads((EXAMPLES / SOURCE).read_text(encoding="utf-8"))


def hostile_rows() -> list[dict[str, Any]]:
    rows = source_rows()
    return _hostile(rows, id_mapping(rows))


def write_hostile_estate(path: Path) -> Path:
    path.write_text(json.dumps(hostile_rows(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _locus_names(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Collection and rule names (lower-cased) -> hostile names, for translating loci."""
    found: dict[str, str] = {}

    def walk(value: Any, parent: str = "") -> None:
        if isinstance(value, dict):
            if parent in RULE_LISTS and isinstance(value.get("name"), str) and "id" not in value:
                found[value["name"].lower()] = value["name"] + FREE_TEXT
            for k, v in value.items():
                walk(v, k if isinstance(v, list) else parent)
        elif isinstance(value, list):
            for item in value:
                walk(item, parent)

    walk(rows)
    return found


def expected_keys(findings: Iterable[Any]) -> frozenset[tuple[str, str, str]]:
    """The keys the hostile estate must give, from the source estate's findings."""
    rows = source_rows()
    ids, loci = id_mapping(rows), _locus_names(rows)
    names = {**ids, **loci}
    return frozenset(
        (f.check_id, rename_id(f.resource_id, ids).lower(),
         "/".join(names.get(part.lower(), part) for part in f.locus.split("/")) if f.locus else "")
        for f in findings)


def payload_fragments() -> tuple[str, ...]:
    """Distinctive pieces a reader must see as text (after HTML, Markdown or SARIF escaping)."""
    return ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)", "$(touch pwned)",
            "`touch pwned`", "[x](http://evil)", "![x](http://evil/i.png)")
