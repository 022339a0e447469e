"""Findings -> one bash script of Azure CLI commands, grouped by subscription.

Pure: the output depends only on the findings, the scan header and the checks' fixes. What a
check's fix does is declared in Python (`CheckMeta.fix`, a `FixKind`); its `remediation.sh.j2`
renders the body of one block and may say, through top-level `set`s:

* `summary`: one line for the script header and the block's comment;
* `fix`: a narrower kind for this one finding (say, `manual` where the estate rules the automated
  change out), never a wider one than the check declares;
* `uses_firewall_ip`: the block routes to the firewall's private IP (`firewall_ip`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from jinja2 import BaseLoader, TemplateNotFound

from aksaudit.api import FixKind
from aksaudit.results.findings import Finding, subscription_of

from . import operations
from .context import finding_context, template_globals
from .shell import ShellFragment, UnquotedInterpolation, environment

HERE = Path(__file__).resolve().parent
TEMPLATE_NAME = "remediation.sh.j2"
CHECK_PREFIX = "check:"
NO_FIX = "no_fix.sh.j2"


@dataclass(frozen=True)
class ScanHeader:
    """What the script says about the scan it came from."""

    tool_version: str
    started_at: str
    scopes: tuple[str, ...] = ()
    complete: bool = True
    notes: tuple[str, ...] = ()  # e.g. findings of the saved scan no longer seen in a snapshot


class FixKindError(Exception):
    """A template claims a wider fix than its check declares: a bug in the check, whatever the data."""


@dataclass(frozen=True)
class CheckFix:
    """A check's remediation: the kind its META declares and the template that writes it."""

    kind: FixKind
    template: Path


@dataclass(frozen=True)
class Block:
    """The fix for one finding, as rendered."""

    index: int
    finding: Finding
    body: ShellFragment
    summary: str
    kind: FixKind
    active: bool  # False: commented out (disruptive, and not asked for)
    needs_firewall_ip: bool  # routes to the firewall, and no IP could be chosen from the estate

    @property
    def resolves(self) -> bool:
        """Running the block with --apply makes the finding go away."""
        return self.kind.changes_azure

    @property
    def disruptive(self) -> bool:
        return self.kind is FixKind.DISRUPTIVE

    @property
    def mode_text(self) -> str:
        if not self.resolves:
            return "manual"
        if self.disruptive:
            return "disruptive" if self.active else "disruptive, commented out"
        return "change"

    @property
    def commented(self) -> ShellFragment:
        """The block as comments, still readable and complete when uncommented by hand."""
        lines = [f"fix_{self.index}() {{", *self.body.rstrip("\n").split("\n"), "}", f"fix_{self.index}"]
        return ShellFragment("".join(f"# {line}\n" for line in lines))


@dataclass(frozen=True)
class RemediationScript:
    text: str
    blocks: tuple[Block, ...]
    warnings: tuple[str, ...] = ()  # for the user, on stderr; the script's header says the same

    @property
    def targeted(self) -> frozenset[tuple[str, str, str]]:
        """Keys of the findings that running the script with --apply makes go away."""
        return frozenset(b.finding.key for b in self.blocks if b.resolves and b.active)


class _Loader(BaseLoader):
    """Shared templates from this package; `check:<ID>` from the check's own folder."""

    def __init__(self, fixes: Mapping[str, CheckFix]) -> None:
        self.fixes = dict(fixes)

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
        if template.startswith(CHECK_PREFIX):
            fix = self.fixes.get(template[len(CHECK_PREFIX):])
            path = fix.template if fix else None
        else:
            path = None
            if "/" not in template and template.endswith(".j2"):
                path = HERE / template if (HERE / template).is_file() else operations.shared_template(template)
        if path is None or not path.is_file():
            raise TemplateNotFound(template)
        return path.read_text(encoding="utf-8"), str(path), lambda: True


def check_templates(checks: Iterable[Any]) -> dict[str, CheckFix]:
    """check id -> its fix, for every loaded check that declares one and has a template for it."""
    found = {}
    for check in checks:
        folder = getattr(check, "folder", None)
        kind = check.meta.fix
        if kind is not FixKind.NONE and folder is not None and (Path(folder) / TEMPLATE_NAME).is_file():
            found[check.id] = CheckFix(kind, Path(folder) / TEMPLATE_NAME)
    return found


def _kind(module: Any, declared: FixKind, check_id: str) -> FixKind:
    """The block's kind: the check's, or the narrower one its template chose for this finding."""
    chosen = getattr(module, "fix", None)
    try:
        kind = declared if chosen is None else FixKind(chosen)
    except ValueError:
        raise FixKindError(f"{check_id}: its template sets fix = {chosen!r}, not one of "
                           f"{', '.join(k.value for k in FixKind)}") from None
    if kind.rank > declared.rank:
        raise FixKindError(f"{check_id}: its template makes a {kind.value} fix, but META declares {declared.value}")
    return kind


def _block(env: Any, finding: Finding, index: int, fix: CheckFix | None, include_disruptive: bool) -> Block:
    context: dict[str, Any] = {"finding": finding, "index": index, "firewall_ip_known": True}
    try:
        context = finding_context(finding, index)
        if fix is None:
            raise LookupError(f"{finding.check_id} ships no automated fix")
        module = env.get_template(CHECK_PREFIX + finding.check_id).make_module(context)
        kind = _kind(module, fix.kind, finding.check_id)
    except (UnquotedInterpolation, FixKindError):
        raise  # `{{ value }}` without a quoting filter, or a wider fix than declared: a bug in the check
    except Exception as error:  # noqa: BLE001
        # Evidence the fix cannot use (missing, null or of another type: say, a hand-edited or
        # older findings file) makes this one block manual, naming the problem; the other
        # findings still get their fixes.
        reason = str(error) if isinstance(error, LookupError) else \
            f"no fix could be generated from this finding's evidence: {type(error).__name__}: {error}"
        module = env.get_template(NO_FIX).make_module({**context, "reason": reason})
        kind = FixKind.NONE
    uses_ip = bool(getattr(module, "uses_firewall_ip", False))
    return Block(index=index, finding=finding, body=ShellFragment(str(module)),
                 summary=str(getattr(module, "summary", "")), kind=kind,
                 active=include_disruptive or kind is not FixKind.DISRUPTIVE,
                 needs_firewall_ip=uses_ip and not context["firewall_ip_known"])


def subscription_of_resource(finding: Finding) -> str:
    """The subscription a fix acts in: the one in the resource id, never the finding's separate
    `subscription_id` field (a findings file is data; its fields need not agree)."""
    return subscription_of(finding.resource_id)


def subscription_mismatches(findings: Iterable[Finding]) -> tuple[str, ...]:
    """One warning per finding whose `subscription_id` names another subscription than its
    resource id does: the resource id wins."""
    return tuple(
        f"{f.check_id} {f.resource_id}: the finding names subscription '{f.subscription_id}', its resource id "
        f"'{subscription_of_resource(f)}'; the fix uses '{subscription_of_resource(f)}'"
        for f in findings
        if f.subscription_id and f.subscription_id.lower() != subscription_of_resource(f).lower())


def _by_subscription(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(subscription_of_resource(finding).lower(), []).append(finding)
    return sorted(groups.items())


def finding_blocks(findings: Iterable[Finding], templates: Mapping[str, CheckFix]) -> list[Block]:
    """Each finding's fix exactly as the script would write it (numbered by position, from 1), for
    reports that show one finding's fix beside it: the HTML detail view. One renderer and the
    script's own numbering, so what a reader sees there is, line for line, what `--remediation`
    runs. Findings the script leaves out (suppressed) are numbered after the others."""
    findings = list(findings)
    env = environment(_Loader(templates), template_globals())
    numbers = {id(f): index for index, f in enumerate((f for _, members in _by_subscription(_failing(findings))
                                                         for f in members), 1)}
    later = iter(range(len(numbers) + 1, len(findings) + len(numbers) + 1))  # findings the script leaves out
    return [_block(env, finding, numbers.get(id(finding)) or next(later), templates.get(finding.check_id),
                   include_disruptive=False) for finding in findings]


def _failing(findings: Iterable[Finding]) -> list[Finding]:
    """What the script fixes: failures that are not an accepted risk."""
    return [f for f in findings if f.status.value == "fail" and not f.suppressed]


def render(findings: Iterable[Finding], templates: Mapping[str, CheckFix], header: ScanHeader, *,
           include_disruptive: bool = False) -> RemediationScript:
    """The remediation script for these findings (failures only are fixed; others are ignored)."""
    env = environment(_Loader(templates), template_globals())
    findings = list(findings)
    failing = _failing(findings)
    accepted = [f for f in findings if f.status.value == "fail" and f.suppressed]
    warnings = subscription_mismatches(failing)
    header = replace(header, notes=(*header.notes, *(
        f"not covered, an accepted risk (suppressed): {f.check_id} {f.resource_id} {f.locus}".rstrip()
        for f in accepted), *warnings))
    groups, blocks, index = [], [], 0
    for subscription, members in _by_subscription(failing):
        group_blocks = []
        for finding in members:
            index += 1
            group_blocks.append(_block(env, finding, index, templates.get(finding.check_id), include_disruptive))
        groups.append({"subscription": subscription, "blocks": group_blocks})
        blocks.extend(group_blocks)
    asking = [b for b in blocks if b.needs_firewall_ip and b.active]
    request = ("aksaudit: no firewall private IP could be chosen from the scanned estate for: "
               + ", ".join(f"[{b.index}] {b.finding.check_id} {b.finding.resource_id}" for b in asking))
    text = env.get_template("script.sh.j2").render(
        operation_functions=ShellFragment("\n".join(operations.functions())), header=header, blocks=blocks, groups=groups, needs_firewall_ip=bool(asking), firewall_ip_request=request)
    return RemediationScript(text, tuple(blocks), warnings)
