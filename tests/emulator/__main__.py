"""Run the emulator by hand: `python -m tests.emulator ESTATE.json [--mg NAME=SUB,SUB ...]`.

Prints the environment a shell needs to point `aksaudit scan --subscription ...` at it, then
serves until interrupted. The benchmark (benchmarks/run.py) starts it this way too, in its own
process so that serving pages never competes with the scan for the same interpreter.
"""
from __future__ import annotations

import argparse
import json
import time

from . import Behaviour, Emulator, Fault, Tenant, arm


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator")
    parser.add_argument("estate", help="ARG rows: a JSON array or an aksaudit snapshot")
    parser.add_argument("--mg", action="append", default=[], metavar="NAME=SUB,SUB", help="a management group")
    parser.add_argument("--name", action="append", default=[], metavar="SUB=DISPLAY NAME", help="a subscription name")
    parser.add_argument("--forbid", action="append", default=[], metavar="SUB", help="a subscription the caller may not read")
    parser.add_argument("--rtt", type=float, default=0.03, help="seconds of network round trip charged to every "
                        "request, whatever the endpoint (default: %(default)s)")
    parser.add_argument("--latency", type=float, default=0.0, help="service seconds added to every response")
    parser.add_argument("--quota", type=int, default=15, help="queries per window per identity")
    parser.add_argument("--window", type=float, default=5.0, help="seconds per quota window")
    parser.add_argument("--arm-latency", type=float, default=None, help="seconds added to every ARM response "
                        "(default: --latency)")
    parser.add_argument("--arm-page-size", type=int, default=100, help="items per ARM list page")
    parser.add_argument("--throttle-every", type=int, default=0, metavar="N",
                        help="answer every N-th Resource Graph request with a 429 whose quota headers tell the truth")
    parser.add_argument("--layout", metavar="FILE", help="JSON with 'management_groups' and 'subscription_names' "
                        "(e.g. a benchmark estate's *.expected.json)")
    parser.add_argument("--cache", action="store_true", help="index the tenant once and cache query results "
                        "(large tenants; the tenant is never edited)")
    parser.add_argument("--lean", action="store_true", help="with --cache: keep file offsets, not rows, and decode "
                        "only the rows served (an estate written one row per line, as benchmarks/estate.py does)")
    args = parser.parse_args()
    groups = {name: subs.split(",") for name, subs in (item.split("=", 1) for item in args.mg)}
    names = dict(item.split("=", 1) for item in args.name)
    if args.layout:
        with open(args.layout, encoding="utf-8") as handle:
            layout = json.load(handle)
        groups = {**layout.get("management_groups", {}), **groups}
        names = {**layout.get("subscription_names", {}), **names}
    if args.lean:
        tenant = Tenant(rows=[], management_groups=groups, subscription_names=names, forbidden=set(args.forbid))
        index = arm.TenantIndex.build_lean(args.estate, tenant)
    else:
        tenant = Tenant.from_file(args.estate, management_groups=groups, subscription_names=names,
                                  forbidden=set(args.forbid))
        index = None
    faults = [Fault("throttle", times=-1, every=args.throttle_every, actual_quota=True)] if args.throttle_every else []
    behaviour = Behaviour(quota=args.quota, window=args.window, latency=args.latency, arm_latency=args.arm_latency,
                          arm_page_size=args.arm_page_size, rtt=args.rtt, cache=args.cache or args.lean, faults=faults)
    with Emulator(tenant, behaviour, index=index) as emulator:
        for key, value in emulator.client_env().items():
            print(f"export {key}='{value}'")
        print("# serving; Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
