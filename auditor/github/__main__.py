"""`python -m aksaudit.github upload`: the GitHub Action's upload step, usable from any CI.

The token is read from GITHUB_TOKEN (never a flag, so it stays out of process listings and
logs); repository, commit, ref and API URL default to the variables GitHub Actions sets.
Exit codes: 0 every complete subscription uploaded and processed; 1 an upload was rejected or
failed to process, or an alert could not be updated; 2 the command could not start.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from .client import CodeScanning
from .limits import DISMISSED_REASONS
from .runs import SarifDirError, read_sarif_dir
from .summary import render
from .upload import previous_categories, upload


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m aksaudit.github", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upload", help="upload per-subscription SARIF in batches and triage accepted risks")
    up.add_argument("--sarif-dir", required=True, metavar="DIR", help="what `aksaudit scan --sarif-dir` wrote")
    up.add_argument("--repository", default=os.environ.get("GITHUB_REPOSITORY", ""), help="owner/name (default: $GITHUB_REPOSITORY)")
    up.add_argument("--commit-sha", default=os.environ.get("GITHUB_SHA", ""), help="default: $GITHUB_SHA")
    up.add_argument("--ref", default=os.environ.get("GITHUB_REF", ""), help="refs/heads/<branch> (default: $GITHUB_REF)")
    up.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL", "https://api.github.com"))
    up.add_argument("--dismiss-reason", choices=DISMISSED_REASONS[:2], default="won't fix",
                    help="reason given when dismissing the alert of a suppressed finding (default: won't fix)")
    up.add_argument("--previous", metavar="PATH", help="a previous JSON v1 result or SARIF directory: "
                    "its subscriptions missing from this scan are reported")
    up.add_argument("--summary", metavar="PATH", default=os.environ.get("GITHUB_STEP_SUMMARY", ""),
                    help="append the Markdown summary here (default: $GITHUB_STEP_SUMMARY)")
    up.add_argument("--poll-interval", type=float, default=5.0, help="seconds between processing checks")
    up.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for all uploads to be processed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN", "")
    missing = [name for name, value in (("GITHUB_TOKEN", token), ("--repository", args.repository),
                                        ("--commit-sha", args.commit_sha), ("--ref", args.ref)) if not value]
    if missing:
        print(f"aksaudit.github: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        runs = read_sarif_dir(args.sarif_dir)
        previous = previous_categories(args.previous) if args.previous else ()
    except (SarifDirError, OSError, ValueError) as error:
        print(f"aksaudit.github: {error}", file=sys.stderr)
        return 2
    if not runs:
        print(f"aksaudit.github: no *.sarif files in {args.sarif_dir}", file=sys.stderr)
        return 2
    client = CodeScanning(args.api_url, args.repository, token)
    try:
        outcome = upload(runs, client, commit_sha=args.commit_sha, ref=args.ref, reason=args.dismiss_reason,
                         previous=previous, poll_interval=args.poll_interval, timeout=args.timeout)
    except SarifDirError as error:
        print(f"aksaudit.github: {error}", file=sys.stderr)
        return 2
    text = render(outcome)
    if args.summary:
        with Path(args.summary).open("a", encoding="utf-8") as handle:
            handle.write(text)
    for rejection in outcome.rejections:
        print(f"aksaudit.github: error: upload of {', '.join(rejection.categories)} rejected: "
              f"{'; '.join(rejection.errors)}", file=sys.stderr)
    for error in outcome.action_errors:
        print(f"aksaudit.github: error: {error}", file=sys.stderr)
    print(f"aksaudit.github: {len(outcome.uploaded)} of {len(outcome.scanned)} scope(s) uploaded in "
          f"{outcome.uploads} upload(s); {len(outcome.held_back)} held back", file=sys.stderr)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
