"""Shell-safe interpolation for remediation templates.

Every value a remediation template interpolates comes from the estate: resource group, route,
collection and rule names, tags, descriptions. Any of them may hold `$(...)`, backticks, quotes,
newlines or `;`. So the template environment makes unquoted interpolation impossible: its
`finalize` hook refuses every value that did not pass through one of the filters below, and a
template that forgets `| shq` fails to render instead of producing an injectable script.
"""
from __future__ import annotations

import re
import shlex
from typing import Any, Callable, Iterable

from jinja2 import BaseLoader, Environment, StrictUndefined, Undefined


class ShellWord(str):
    """Text that is safe to paste into a bash command line as it is (one quoted word, or a
    fixed expansion such as `"$FIREWALL_IP"` that our own code chose)."""


class CommentText(str):
    """One line of text that is safe after a `#`: it cannot end the comment."""


class ShellFragment(str):
    """Script text our own environment rendered from a template (every value in it quoted)."""


class UnquotedValue(TypeError):
    """A template interpolated a value without a quoting filter: a bug in the template."""


class UnquotedInterpolation(UnquotedValue):
    """`{{ value }}` with no quoting filter: always a template bug, never caused by the data."""


class MissingValue(UnquotedValue, LookupError):
    """A value the fix needs is null or absent in the finding's evidence (say, a hand-edited or
    older findings file): the block becomes a manual one naming the problem, not a crash."""


_SAFE = (ShellWord, CommentText, ShellFragment)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def shq(value: Any) -> ShellWord:
    """Quote one value as a single shell word (shlex.quote); refuse what has no obvious text.

    None, undefined values and containers are refused rather than rendered as 'None' or a Python
    repr: such a value means the evidence lacked something the fix needs.
    """
    if value is None or isinstance(value, Undefined):
        raise MissingValue("the finding's evidence lacks a value this fix needs")
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        raise UnquotedValue(f"shq got a {type(value).__name__}; use shq_words for a list of words")
    if isinstance(value, bool):
        value = "true" if value else "false"
    return ShellWord(shlex.quote(str(value)))


class FileReference(UnquotedValue, LookupError):
    """A value that would reach an `az` argument starting with `@`: az reads the file such a value
    names (`--name=@/etc/passwd` sends that file). No fix is generated from it; the block
    becomes a manual one that says why."""


def azarg(value: Any) -> ShellWord:
    """One value for an `az` argument (directly, or through one of the script's functions).

    Like `shq`, and refuses a value starting with `@`: quoting keeps it one word for bash, but az
    itself would replace it with the content of the file it names.
    """
    word = shq(value)
    text = "true" if value is True else "false" if value is False else str(value)
    if text.startswith("@"):
        shown = comment(text)[:80]
        raise FileReference(f"the value '{shown}' starts with '@', for which az reads the file it names: "
                            "this fix is left to be done by hand")
    return word


def shq_words(values: Iterable[Any]) -> ShellWord:
    """Several values as separately quoted words."""
    return ShellWord(" ".join(shq(v) for v in values))


def comment(value: Any) -> CommentText:
    """Text for a `#` comment: line breaks and other control characters are shown escaped."""
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case, tested in one pass: nothing to escape
        return CommentText(text)
    return CommentText("".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                               for ch in text))


def ident(value: Any) -> ShellWord:
    """A bash identifier fragment (function and variable names are built from block numbers)."""
    text = str(value)
    if isinstance(value, bool) or not (_IDENT.match(text) or text.isdigit()):
        raise UnquotedValue(f"{text!r} is not a shell identifier")
    return ShellWord(text)


def finalize(value: Any) -> Any:
    """Jinja's hook on every `{{ ... }}`: only quoted or trusted text may reach the script."""
    if isinstance(value, _SAFE):
        return value
    shown = repr(value)
    raise UnquotedInterpolation(f"unquoted value {shown[:80]} in a remediation template: pipe it through "
                                "'shq' (a command word) or 'comment' (comment text)")


def environment(loader: BaseLoader, globals_: dict[str, Callable[..., Any] | Any] | None = None) -> Environment:
    """The one environment remediation templates render in."""
    env = Environment(loader=loader, undefined=StrictUndefined, autoescape=False, finalize=finalize,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(shq=shq, azarg=azarg, shq_words=shq_words, comment=comment, ident=ident)
    env.globals.update(globals_ or {})
    return env
