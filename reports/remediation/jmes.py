"""JMESPath written by aksaudit so that `az --query` does the reading and JSON editing.

A machine that runs a remediation script has the Azure CLI, bash and coreutils, but not
necessarily jq or Python; `az` evaluates JMESPath itself. Names from the estate enter a query
only as JSON literals (backquoted) or quoted identifiers, never as raw query text, so a rule
named ``a`] | @`` stays a name.

State comparisons use `to_string()`, which JMESPath defines as compact JSON
(`json.dumps(value, separators=(",", ":"))` in the Python implementation the CLI embeds):
`to_string` below produces the same text, so the script compares the state Azure holds now with
the state the scan saw as two plain strings.
"""
from __future__ import annotations

import json
from typing import Any, Sequence


def to_string(value: Any) -> str:
    """What JMESPath's `to_string()` makes of an equal value."""
    return json.dumps(value, separators=(",", ":"), default=str)


def literal(value: Any) -> str:
    """A JMESPath JSON literal; backquotes inside are escaped the way the lexer expects."""
    return "`" + json.dumps(value).replace("`", "\\`") + "`"


def field(name: str) -> str:
    """A quoted identifier: selects the member called `name`, whatever characters it holds."""
    return json.dumps(name)


def path(names: Sequence[str]) -> str:
    return ".".join(field(n) for n in names)


def shape(value: Any) -> str:
    """An expression that rebuilds an equal value with its keys in this value's order.

    Azure may return an object's members in another order than Resource Graph did; projecting
    them by name makes `to_string()` of the live value equal to `to_string()` of the scanned one
    whenever the two are equal as JSON (extra members Azure adds later are ignored).
    """
    if isinstance(value, dict) and value:
        return "{" + ", ".join(f"{field(k)}: {_member(k, v)}" for k, v in value.items()) + "}"
    return "@"


def _member(key: str, value: Any) -> str:
    selector = field(key)
    if isinstance(value, dict) and value:
        return f"{selector}.{shape(value)}"
    if (isinstance(value, list) and value and all(isinstance(item, dict) and item for item in value)
            and all(list(item) == list(value[0]) for item in value)):
        return f"{selector}[*].{shape(value[0])}"
    return selector
