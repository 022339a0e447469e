"""Run the emulator by hand: `python -m tests.emulator ESTATE.json [--mg NAME=SUB,SUB ...]`.

Prints the environment a shell needs to point `aksaudit scan --subscription ...` at it, then
serves until interrupted.
"""
from __future__ import annotations

import argparse
import time

from . import Behaviour, Emulator, Tenant


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator")
    parser.add_argument("estate", help="ARG rows: a JSON array or an aksaudit snapshot")
    parser.add_argument("--mg", action="append", default=[], metavar="NAME=SUB,SUB", help="a management group")
    parser.add_argument("--name", action="append", default=[], metavar="SUB=DISPLAY NAME", help="a subscription name")
    parser.add_argument("--forbid", action="append", default=[], metavar="SUB", help="a subscription the caller may not read")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--quota", type=int, default=15, help="queries per window per identity")
    args = parser.parse_args()
    groups = {name: subs.split(",") for name, subs in (item.split("=", 1) for item in args.mg)}
    names = dict(item.split("=", 1) for item in args.name)
    tenant = Tenant.from_file(args.estate, management_groups=groups, subscription_names=names, forbidden=set(args.forbid))
    with Emulator(tenant, Behaviour(quota=args.quota, latency=args.latency)) as emulator:
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
