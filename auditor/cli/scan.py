"""`aksaudit scan`: evaluate an estate (a snapshot file, or live from Azure) and write findings.

The arguments become one `ScanRequest` for the pipeline; this module only decides where the
estate, the configuration, the previous result and the reports are.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from aksaudit.results.egress_approval import load_approval
from aksaudit.results.finding_baseline import Baseline
from aksaudit.run.result_json import load_baseline
from aksaudit.run.bulk import gc_paused
from ..config import Config, load_config
from aksaudit.run.engine import ScanResult
from aksaudit.run.registry import Registry
from ..reports.formats import ReportFormat
from ..reports.terminal import DEFAULT_FORMAT as DEFAULT_TERMINAL_FORMAT, OutputFormat as TerminalFormat
from ..run import pipeline
from ..run.exit_policy import DEFAULT_FAIL_ON, exit_code
from ..run.request import ScanRequest, SnapshotSource
from . import channels
from .arguments import (UsageError, add_framework_selection, add_selection, chosen_checks, chosen_frameworks, iso_date,
                        split)
from .config import announce
from .live import add_live_arguments, has_live_scope, live_source, report_collection
from .outputs import NamedPath, check_paths, named, write_output
from .remediate import add_remediation_arguments, header_of, write_script

REPORT_FLAGS = {report: f"--{report.value}" for report in ReportFormat}


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    scan = commands.add_parser("scan", parents=parents, help="evaluate an estate and write findings")
    scan.add_argument("snapshot_path", nargs="?", metavar="SNAPSHOT", help="the same as --snapshot SNAPSHOT")
    scan.add_argument("--snapshot", metavar="FILE",
                      help="Resource Graph rows: JSON array, az graph query -o json output, or an aksaudit snapshot")
    scan.add_argument("--output-format", type=str.lower, choices=[f.value for f in TerminalFormat],
                      default=DEFAULT_TERMINAL_FORMAT.value,
                      help="terminal summary layout: grouped (default: one heading per check), concise (one line "
                           "per finding) or full (each finding's line, then its ids, message and suppression)")
    scan.add_argument("--json", metavar="PATH", help="write JSON v1 results ('-' for stdout)")
    scan.add_argument("--sarif", metavar="PATH", help="write SARIF 2.1.0 for GitHub code scanning, one run (category aksaudit/all/)")
    scan.add_argument("--sarif-dir", metavar="DIR", help="write one SARIF file per subscription (category aksaudit/subscription-<id>/)")
    scan.add_argument("--html", metavar="PATH", help="write the self-contained interactive HTML report")
    scan.add_argument("--markdown", metavar="PATH", help="write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)")
    add_selection(scan)
    add_framework_selection(scan)
    scan.add_argument("--as-of", metavar="DATE", type=iso_date, default=None,
                      help="judge suppression expiry as of this date (default: today)")
    scan.add_argument("--baseline", metavar="PREVIOUS.json",
                      help="a previous JSON v1 result: mark findings new/unchanged/reappeared and list resolved ones "
                           "(a file that does not exist yet, as on a first scheduled run: every finding is new)")
    scan.add_argument("--fail-on-new", action="store_true", help="with --baseline: only new or reappeared findings fail the run")
    scan.add_argument("--approved", metavar="FILE", help="approved egress baseline (from 'baseline approve'): report every cluster whose egress path drifted from it")
    scan.add_argument("--redact-subscriptions", action="store_true",
                      help="show subscription ids as stable pseudonyms (sub-<8 hex>) in SARIF, HTML, Markdown, the "
                           "terminal summary and on stderr; JSON and remediation scripts keep the real ids, "
                           "fingerprints are unchanged")
    add_live_arguments(scan)
    add_remediation_arguments(scan)


def snapshot_of(args: argparse.Namespace) -> str | None:
    """`--snapshot FILE` or the positional SNAPSHOT, never both."""
    if args.snapshot_path and args.snapshot:
        raise UsageError(f"two snapshots given ({args.snapshot_path} and --snapshot {args.snapshot}): give one")
    return args.snapshot or args.snapshot_path


def apply_output_defaults(args: argparse.Namespace, config: Config) -> None:
    """Output paths from the config file, where the command line did not name one."""
    for key, path in config.outputs.items():
        attr = key.replace("-", "_")
        if getattr(args, attr, None) is None:
            setattr(args, attr, path)


def outputs_of(args: argparse.Namespace) -> list[NamedPath]:
    paths = [p for report, flag in REPORT_FLAGS.items() for p in named(flag, getattr(args, report.value, None))]
    return paths + named("--sarif-dir", args.sarif_dir, folder=True) + named("--remediation", args.remediation)


def inputs_of(args: argparse.Namespace, snapshot: str | None, config: Config) -> list[NamedPath]:
    return (named("--snapshot", snapshot) + named("--baseline", args.baseline) + named("--approved", args.approved)
            + named("--config", config.source or args.config))


def previous_of(path: str | None) -> Baseline | None:
    """The previous result; none yet (a first scheduled run) means every finding is new."""
    if path is None:
        return None
    if not os.path.lexists(path):
        channels.notice(f"--baseline {path} does not exist yet (a first run?): every finding is new")
        return Baseline(path, {}, frozenset())
    return load_baseline(path)


def write_reports(args: argparse.Namespace, result: ScanResult, shown: ScanResult | None = None) -> list[str]:
    """Write every requested report ('-' streams to stdout); return warnings for the user.

    `shown` is what the reports people read are rendered from (the result with subscription ids
    pseudonymised, under --redact-subscriptions); JSON, the machine contract, always gets `result`.
    """
    shown = shown or result
    with gc_paused():  # rendering builds millions of short-lived acyclic objects: see aksaudit.run.bulk
        for report in ReportFormat:
            if getattr(args, report.value, None):
                write_output(getattr(args, report.value), report.pieces(result if report.machine_contract else shown))
        if not (args.sarif_dir or args.sarif):
            return []
        from ..reports import sarif
        if args.sarif_dir:
            for filename, text in sarif.render_per_subscription(shown).items():
                write_output(Path(args.sarif_dir) / filename, text)
        return sarif.warnings(shown, per_subscription=bool(args.sarif_dir))


def warn_if_empty(result: ScanResult, snapshot: str | None) -> None:
    """An estate without clusters is almost always the wrong file or scope, not a clean estate."""
    if result.clusters_total == 0:
        where = snapshot or "the live scope"
        channels.warning(f"NO AKS CLUSTERS FOUND in {where} ({result.resources_evaluated} resource(s) evaluated): "
                         "nothing was audited; check the snapshot, or the --subscription/--management-group "
                         "scope and that the identity can read it")


def run(args: argparse.Namespace, registry: Registry, console: Any) -> int:
    snapshot = snapshot_of(args)
    if snapshot and has_live_scope(args):
        raise UsageError("--snapshot reads a saved estate; it cannot be combined with --subscription or --management-group")
    config = load_config(registry, args.config)
    announce(config, args.quiet)
    apply_output_defaults(args, config)
    checks = chosen_checks(registry, split(args.select) or config.select, split(args.ignore) or config.ignore)
    frameworks = chosen_frameworks(split(args.framework) or config.frameworks)
    fail_on = args.fail_on or config.fail_on or DEFAULT_FAIL_ON
    if args.fail_on_new and not args.baseline:
        raise UsageError("--fail-on-new needs --baseline PREVIOUS.json")
    check_paths(outputs_of(args), inputs_of(args, snapshot, config))
    request = ScanRequest(
        source=SnapshotSource(snapshot) if snapshot else live_source(args), checks=checks, config=config,
        previous=previous_of(args.baseline),
        approved_egress=load_approval(args.approved) if args.approved else None,
        as_of=args.as_of, warnings=registry.problems, frameworks=frameworks)
    result = pipeline.run(request)
    report_collection(request.source, result)
    warn_if_empty(result, snapshot)
    if args.remediation:
        write_script(args.remediation, result.findings, header_of(result), registry, args.include_disruptive)
    shown = result
    if args.redact_subscriptions:
        from aksaudit.results.redaction import redact_result
        shown = redact_result(result)
    for warning in write_reports(args, result, shown):
        channels.warning(warning)
    from ..reports import terminal
    if args.quiet:
        terminal.render_notices(shown, console)
    else:
        terminal.render(shown, console, args.output_format)
    return exit_code(result, fail_on, only_new=args.fail_on_new)
