"""The command line's remediation surface: `scan --remediation` and `remediate --from`.

Every decision is a function here or in `aksaudit.reports.remediation` that tests call directly.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Iterable

from ..config import load_config
from aksaudit.run.engine import ScanResult
from aksaudit.results.findings import Finding
from aksaudit.run.registry import Registry
from ..reports.remediation import RemediationScript, ScanHeader, check_templates, render
from ..run import pipeline
from ..run.exit_policy import EXIT_OK
from ..run.request import ScanRequest, SnapshotSource
from ..run.result_json import read_result
from . import channels
from .config import announce
from .outputs import check_paths, named, write_output
from .arguments import iso_date
from aksaudit.reports.remediation.shell import comment

DISRUPTIVE_HELP = ("enable remediation blocks that can cut traffic (removing firewall rules or routes, re-creating "
                   "peerings, changing outbound types); without it they are written commented out")


def add_remediation_arguments(scan: argparse.ArgumentParser) -> None:
    scan.add_argument("--remediation", metavar="PATH",
                      help="write a bash script of az CLI commands fixing the findings (it only plans unless run "
                           "with --apply)")
    scan.add_argument("--include-disruptive", action="store_true", help=DISRUPTIVE_HELP)


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    remediate = commands.add_parser("remediate", parents=parents,
                                    help="write a remediation script from a saved JSON v1 result")
    remediate.add_argument("--from", dest="source", metavar="FINDINGS.json", required=True,
                           help="a result written by 'scan --json'")
    remediate.add_argument("--snapshot", metavar="FILE",
                           help="re-evaluate this estate first: cover only the saved findings still present, with "
                                "the evidence seen now")
    remediate.add_argument("--as-of", metavar="DATE", type=iso_date, default=None,
                           help="with --snapshot: judge suppression expiry as of this date (default: today)")
    remediate.add_argument("-o", "--output", metavar="PATH", required=True, help="the script to write ('-' for stdout)")
    remediate.add_argument("--include-disruptive", action="store_true", help=DISRUPTIVE_HELP)


def header_of(result: ScanResult) -> ScanHeader:
    return ScanHeader(result.tool_version, result.started_at, tuple(result.scopes), result.complete)


def write_script(path: str, findings: Iterable[Finding], header: ScanHeader, registry: Registry,
                 include_disruptive: bool) -> RemediationScript:
    """Render and write the script (executable, since it is meant to be run)."""
    script = render(findings, check_templates(registry.checks), header, include_disruptive=include_disruptive)
    for warning in script.warnings:
        print(f"aksaudit: warning: {comment(warning)}", file=sys.stderr)
    write_output(path, script.text, executable=True)
    return script


def still_present(saved: Iterable[Finding], fresh: Iterable[Finding], source: str) -> tuple[list[Finding], list[str]]:
    """The saved findings a fresh scan still reports, with the fresh evidence, and notes on the
    ones it no longer reports (they were fixed, or the estate changed: no fix is generated)."""
    current = {f.fingerprint: f for f in fresh}
    kept, notes = [], []
    for finding in saved:
        if finding.fingerprint in current:
            kept.append(current[finding.fingerprint])
        else:
            notes.append(f"not covered, no longer reported in {source}: {finding.check_id} {finding.resource_id}"
                         + (f" {finding.locus}" if finding.locus else ""))
    return kept, notes


def rescan(args: argparse.Namespace, registry: Registry, saved: ScanResult) -> ScanResult:
    """The saved result's checks run again on `--snapshot`, as `scan` would run them: with the
    configuration's options, severities and suppressions (an accepted risk gets no fix)."""
    ran = {f.check_id for f in saved.findings}
    config = load_config(registry, args.config)
    announce(config, args.quiet)
    return pipeline.run(ScanRequest(source=SnapshotSource(args.snapshot),
                                    checks=tuple(c for c in registry.checks if c.id in ran), config=config,
                                    as_of=args.as_of))


def script_from_saved(args: argparse.Namespace, registry: Registry) -> RemediationScript:
    """`remediate --from`: the script for a saved result, optionally re-checked against a snapshot."""
    saved = read_result(args.source)
    findings, notes = list(saved.findings), [f"from {args.source}"]
    if args.snapshot:
        fresh = rescan(args, registry, saved)
        findings, gone = still_present(saved.findings, fresh.findings, args.snapshot)
        notes += [f"evidence re-read from {args.snapshot}"] + gone
        if not fresh.complete:
            notes.append(f"{args.snapshot} could not be fully evaluated: findings may be missing")
    header = ScanHeader(saved.tool_version, saved.started_at, saved.scopes, saved.complete, tuple(notes))
    return write_script(args.output, findings, header, registry, args.include_disruptive)


def describe(script: RemediationScript, path: str) -> str:
    """One line for the user about what was written."""
    changes = sum(1 for b in script.blocks if b.resolves and b.active)
    manual = sum(1 for b in script.blocks if not b.resolves)
    dormant = sum(1 for b in script.blocks if not b.active)
    where = "stdout" if path == "-" else path
    return (f"wrote {where}: {changes} fix(es), {manual} manual, {dormant} disruptive commented out; "
            "it only plans unless run with --apply")


def run(args: argparse.Namespace, registry: Registry, console: Any = None) -> int:
    check_paths(named("--output", args.output),
                named("--from", args.source) + named("--snapshot", args.snapshot) + named("--config", args.config))
    script = script_from_saved(args, registry)
    channels.say("", describe(script, args.output))
    return EXIT_OK
