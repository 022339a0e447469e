"""The live scope flags that `scan` and `snapshot` share.

Declaring them once here keeps the two commands from drifting apart. The flags become a
`LiveSource`; collecting from it is the pipeline's part (`aksaudit.run.sources`).
"""
from __future__ import annotations

import argparse
from typing import Any

from ..collect.clouds import CLOUDS
from ..collect.live import ScopeRequest
from ..collect.queries import SUBSCRIPTION_BATCH
from ..collect.throttle import RetryPolicy
from aksaudit.run.engine import ScanResult
from ..run.request import LiveSource, Source
from . import channels
from .arguments import choice


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("live collection from Azure Resource Graph "
                                      "(neither --subscription nor --management-group: every readable subscription)")
    group.add_argument("--subscription", action="append", metavar="ID|NAME",
                       help="a subscription id or display name to audit (repeatable)")
    group.add_argument("--management-group", action="append", metavar="ID",
                       help="a management group to audit, with every subscription below it (repeatable)")
    group.add_argument("--cloud", type=choice(CLOUDS), choices=tuple(CLOUDS), default="AzureCloud",
                       help="Azure cloud to sign in to and query (default: AzureCloud)")
    group.add_argument("--retry-budget", type=float, default=RetryPolicy().budget, metavar="SECONDS",
                       help="seconds without a successful request (from the start, then from the latest success) "
                            "past which throttled or failed requests are no longer retried and their data is "
                            "reported missing (default: %(default)s)")
    group.add_argument("--source", type=choice(("arg", "arm")), choices=("arg", "arm"), default="arg",
                       help="arg: Azure Resource Graph, a few paged queries for the whole scope (default); arm: "
                            "list every type per subscription from Azure Resource Manager, authoritative with no "
                            "indexing lag (e.g. right after a fix), but one request per subscription and type")
    group.add_argument("--subscription-batch", type=_batch_size, default=None, metavar="N",
                       help=f"subscriptions per Resource Graph request, 1-{SUBSCRIPTION_BATCH} (default "
                            f"{SUBSCRIPTION_BATCH}); with a tenant or management-group scope, its subscriptions are "
                            "listed first and queried N at a time")
    group.add_argument("--no-dependency-lists", dest="dependency_lists", action="store_false",
                       help="do not ask the AKS API for each cluster's own outbound dependency list; the required-egress check judges "
                            "the documented required FQDNs instead (one ARM read per cluster fewer: see "
                            "docs/live-scans.md)")
    group.add_argument("--effective-routes", action="store_true",
                       help="also read the routes Azure really applies to one node network interface per AKS subnet "
                            "(routes learned from VPN/ExpressRoute gateways included) and compare them with the route "
                            "table; needs Microsoft.Network/networkInterfaces/effectiveRouteTable/action (see "
                            "docs/live-scans.md)")


def _batch_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= SUBSCRIPTION_BATCH:
        raise argparse.ArgumentTypeError(f"must be between 1 and {SUBSCRIPTION_BATCH}, got {value}")
    return value


def has_live_scope(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "subscription", None) or getattr(args, "management_group", None))


def live_source(args: argparse.Namespace) -> LiveSource:
    """The live source the scope flags describe."""
    return LiveSource(
        scope=ScopeRequest(tuple(s.strip() for s in args.subscription or () if s.strip()),
                           tuple(m.strip() for m in args.management_group or () if m.strip())),
        cloud=args.cloud, retry_budget=args.retry_budget, api=args.source, subscription_batch=args.subscription_batch,
        quiet=args.quiet, dependency_lists=getattr(args, "dependency_lists", True),
        effective_routes=getattr(args, "effective_routes", False))


def warn_collection(meta: Any) -> None:
    for warning in (meta or {}).get("warnings") or ():
        channels.warning(warning)


def report_collection(source: Source, result: ScanResult) -> None:
    """What a live collection warned about (a saved snapshot's warnings were shown when it was saved)."""
    if isinstance(source, LiveSource):
        warn_collection(result.meta)
