"""Findings -> one bash script of Azure CLI commands, grouped by subscription.

Pure: the output depends only on the findings, the scan header and the templates. Each check's
`remediation.sh.j2` renders the body of one block and declares, through top-level `set`s, what
the block does:

* `summary`: one line for the script header and the block's comment;
* `resolves`: running the block makes the finding go away (False for manual procedures);
* `disruptive`: the change can cut traffic; such blocks are commented out unless asked for;
* `uses_firewall_ip`: the block routes to the firewall's private IP (`firewall_ip`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from jinja2 import BaseLoader, TemplateNotFound

from aksaudit.findings import Finding

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


@dataclass(frozen=True)
class Block:
    """The fix for one finding, as rendered."""

    index: int
    finding: Finding
    body: ShellFragment
    summary: str
    resolves: bool
    disruptive: bool
    active: bool  # False: commented out (disruptive, and not asked for)
    needs_firewall_ip: bool  # routes to the firewall, and no IP could be chosen from the estate

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

    @property
    def targeted(self) -> frozenset[tuple[str, str, str]]:
        """Keys of the findings that running the script with --apply makes go away."""
        return frozenset(b.finding.key for b in self.blocks if b.resolves and b.active)


class _Loader(BaseLoader):
    """Shared templates from this package; `check:<ID>` from the check's own folder."""

    def __init__(self, check_templates: Mapping[str, Path]) -> None:
        self.check_templates = dict(check_templates)

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
        if template.startswith(CHECK_PREFIX):
            path = self.check_templates.get(template[len(CHECK_PREFIX):])
        else:
            path = HERE / template if "/" not in template and template.endswith(".j2") else None
        if path is None or not path.is_file():
            raise TemplateNotFound(template)
        return path.read_text(encoding="utf-8"), str(path), lambda: True


def check_templates(checks: Iterable[Any]) -> dict[str, Path]:
    """check id -> its remediation template, for every loaded check folder that has one."""
    found = {}
    for check in checks:
        folder = getattr(check, "folder", None)
        if folder is not None and (Path(folder) / TEMPLATE_NAME).is_file():
            found[check.id] = Path(folder) / TEMPLATE_NAME
    return found


def _block(env: Any, finding: Finding, index: int, has_template: bool, include_disruptive: bool) -> Block:
    context: dict[str, Any] = {"finding": finding, "index": index, "firewall_ip_known": True}
    try:
        context = finding_context(finding, index)
        if not has_template:
            raise LookupError(f"{finding.check_id} ships no automated fix")
        module = env.get_template(CHECK_PREFIX + finding.check_id).make_module(context)
    except UnquotedInterpolation:
        raise  # `{{ value }}` without a quoting filter: a bug in the template, whatever the data
    except Exception as error:  # noqa: BLE001
        # Evidence the fix cannot use (missing, null or of another type: say, a hand-edited or
        # older findings file) makes this one block manual, naming the problem; the other
        # findings still get their fixes.
        reason = str(error) if isinstance(error, LookupError) else \
            f"no fix could be generated from this finding's evidence: {type(error).__name__}: {error}"
        module = env.get_template(NO_FIX).make_module({**context, "reason": reason})
    resolves = bool(getattr(module, "resolves", False))
    disruptive = bool(getattr(module, "disruptive", False))
    uses_ip = bool(getattr(module, "uses_firewall_ip", False))
    return Block(index=index, finding=finding, body=ShellFragment(str(module)),
                 summary=str(getattr(module, "summary", "")), resolves=resolves, disruptive=disruptive,
                 active=include_disruptive or not disruptive,
                 needs_firewall_ip=uses_ip and not context["firewall_ip_known"])


def _by_subscription(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.subscription_id.lower(), []).append(finding)
    return sorted(groups.items())


def finding_blocks(findings: Iterable[Finding], templates: Mapping[str, Path]) -> list[Block]:
    """Each finding's fix exactly as the script would write it (numbered by position, from 1), for
    reports that show one finding's fix beside it: the HTML detail view. One renderer and the
    script's own numbering, so what a reader sees there is, line for line, what `--remediation`
    runs. Findings the script leaves out (suppressed) are numbered after the others."""
    findings = list(findings)
    env = environment(_Loader(templates), template_globals())
    numbers = {id(f): index for index, f in enumerate((f for _, members in _by_subscription(_failing(findings))
                                                         for f in members), 1)}
    later = iter(range(len(numbers) + 1, len(findings) + len(numbers) + 1))  # findings the script leaves out
    return [_block(env, finding, numbers.get(id(finding)) or next(later), finding.check_id in templates,
                   include_disruptive=False) for finding in findings]


def _failing(findings: Iterable[Finding]) -> list[Finding]:
    """What the script fixes: failures that are not an accepted risk."""
    return [f for f in findings if f.status.value == "fail" and not f.suppressed]


def render(findings: Iterable[Finding], templates: Mapping[str, Path], header: ScanHeader, *,
           include_disruptive: bool = False) -> RemediationScript:
    """The remediation script for these findings (failures only are fixed; others are ignored)."""
    env = environment(_Loader(templates), template_globals())
    findings = list(findings)
    failing = _failing(findings)
    accepted = [f for f in findings if f.status.value == "fail" and f.suppressed]
    header = replace(header, notes=(*header.notes, *(
        f"not covered, an accepted risk (suppressed): {f.check_id} {f.resource_id} {f.locus}".rstrip()
        for f in accepted)))
    groups, blocks, index = [], [], 0
    for subscription, members in _by_subscription(failing):
        group_blocks = []
        for finding in members:
            index += 1
            group_blocks.append(_block(env, finding, index, finding.check_id in templates, include_disruptive))
        groups.append({"subscription": subscription, "blocks": group_blocks})
        blocks.extend(group_blocks)
    asking = [b for b in blocks if b.needs_firewall_ip and b.active]
    request = ("aksaudit: no firewall private IP could be chosen from the scanned estate for: "
               + ", ".join(f"[{b.index}] {b.finding.check_id} {b.finding.resource_id}" for b in asking))
    text = env.get_template("script.sh.j2").render(
        header=header, blocks=blocks, groups=groups, needs_firewall_ip=bool(asking), firewall_ip_request=request)
    return RemediationScript(text, tuple(blocks))
