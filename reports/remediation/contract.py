"""What a remediation template reads from a finding's evidence, found in its Jinja syntax tree,
and whether the check's evidence type has it.

A template reads evidence as `evidence.rule`, `evidence["rule"]`, `evidence.get("managed_vnet")`,
through a name bound to a part of it (`{% set mine = evidence.local_peering %}`, then
`mine.state`), through a loop over a part of it (`{% for subnet in evidence.subnets %}`, then
`subnet.route_table`; the element is written `*`), or `map(attribute="name")` over a list. The
templates it includes read with the same names. Reads through anything else (a function's result,
a macro's arguments) are not evidence reads.

`missing_fields` walks each read path along the dataclass fields of the evidence type: a field
typed as a tuple of dataclasses continues into the element type; a mapping or `Any` field ends the
walk (what lies inside is the resource's own JSON, say a firewall rule as ARM returned it).
"""
from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping as AbcMapping
from typing import Any

from jinja2 import Environment, nodes

Path = tuple[str, ...]
ELEMENT = "*"


def evidence_reads(env: Environment, template: str) -> frozenset[Path]:
    """Every evidence path `template` (and what it includes) reads."""
    reads: set[Path] = set()
    _Reader(env, reads).template(template, {"evidence": ()})
    return frozenset(reads)


class _Reader:
    def __init__(self, env: Environment, reads: set[Path]) -> None:
        self.env = env
        self.reads = reads
        self.seen: set[str] = set()

    def template(self, name: str, scope: dict[str, Path]) -> None:
        if name in self.seen:
            return
        self.seen.add(name)
        source = self.env.loader.get_source(self.env, name)[0]
        self.body(self.env.parse(source).body, scope)

    def body(self, body: list[nodes.Node], scope: dict[str, Path]) -> None:
        for node in body:
            self.statement(node, scope)

    def statement(self, node: nodes.Node, scope: dict[str, Path]) -> None:
        if isinstance(node, nodes.Assign):
            path = self.path(node.node, scope)
            if path is None:
                self.expression(node.node, scope)
            if isinstance(node.target, nodes.Name):
                if path is not None:
                    scope[node.target.name] = path
                else:
                    scope.pop(node.target.name, None)  # rebound to something that is not evidence
            return
        if isinstance(node, nodes.For):
            iterated = self.path(node.iter, scope)
            if iterated is None:
                self.expression(node.iter, scope)
            inner = dict(scope)
            if isinstance(node.target, nodes.Name):
                if iterated is not None:
                    inner[node.target.name] = (*iterated, ELEMENT)
                else:
                    inner.pop(node.target.name, None)
            if node.test is not None:
                self.expression(node.test, inner)
            self.body(node.body, inner)
            self.body(node.else_, scope)
            return
        if isinstance(node, nodes.Include) and isinstance(node.template, nodes.Const):
            self.template(node.template.value, dict(scope))
            return
        if isinstance(node, nodes.Macro):
            # Its arguments are whatever the caller passes; evidence reaches a macro only that way.
            inner = {k: v for k, v in scope.items() if k not in {a.name for a in node.args}}
            self.body(node.body, inner)
            return
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Expr):
                self.expression(child, scope)
            else:
                self.statement(child, scope)

    def expression(self, node: nodes.Node, scope: dict[str, Path]) -> None:
        if self.path(node, scope) is not None:
            return  # a read, recorded by `path`
        for child in node.iter_child_nodes():
            self.expression(child, scope)

    def path(self, node: nodes.Node, scope: dict[str, Path]) -> Path | None:
        """The evidence path `node` stands for (recording it as read), or None."""
        found: Path | None = None
        if isinstance(node, nodes.Name):
            found = scope.get(node.name)
            return found  # the name alone reads nothing yet
        if isinstance(node, nodes.Getattr):
            base = self.path(node.node, scope)
            found = None if base is None else (*base, node.attr)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            base = self.path(node.node, scope)
            found = None if base is None else (*base, node.arg.value)
        elif (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr == "get"
              and node.args and isinstance(node.args[0], nodes.Const)):
            base = self.path(node.node.node, scope)
            found = None if base is None else (*base, str(node.args[0].value))
            for extra in node.args[1:]:
                self.expression(extra, scope)
        elif isinstance(node, nodes.Filter) and node.name == "map" and node.node is not None:
            base = self.path(node.node, scope)
            attribute = next((k.value for k in node.kwargs if k.key == "attribute"), None)
            if base is not None and isinstance(attribute, nodes.Const):
                self.reads.add((*base, ELEMENT, str(attribute.value)))
                return None
            if base is None:
                self.expression(node.node, scope)
            return None
        if found is not None:
            self.reads.add(found)
        return found


def _step(kind: Any, name: str) -> tuple[bool, Any]:
    """Whether `name` exists under `kind`, and the type found there (None: anything goes below)."""
    if kind is None or kind is Any:
        return True, None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        return _step(present[0], name) if len(present) == 1 else (True, None)
    if kind is dict or origin in (dict, AbcMapping):
        return True, None  # the resource's own JSON, as Azure returned it
    if name == ELEMENT:
        return (True, args[0]) if origin in (tuple, list) and args else (False, None)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = {f.name for f in dataclasses.fields(kind)}
        return (True, hints[name]) if name in fields else (False, None)
    return False, None


def missing_fields(kind: type, reads: frozenset[Path]) -> list[str]:
    """The read paths `kind` does not have, written `a.*.b`."""
    missing = []
    for path in sorted(reads):
        current: Any = kind
        for depth, name in enumerate(path):
            ok, current = _step(current, name)
            if not ok:
                missing.append(".".join(path[:depth + 1]))
                break
            if current is None:
                break
    return missing
