#!/usr/bin/env python3
"""Record the live-collection cassettes in cassettes/ with the real SDKs.

Default: each scenario in tests/emulator/scenarios.py runs against the local Resource Graph
emulator (HTTPS on 127.0.0.1, its own throwaway CA) serving examples/hub-spoke-drifted.json (the
vWAN and outbound-endpoint scenarios: tests/scenarios/vwan-secured-hub.json), through
azure-identity's client-secret flow, ResourceGraphClient, NetworkManagementClient and ContainerServiceClient,
exactly as tests/collect/test_live_cassettes.py replays it. Hosts are rewritten to Azure's, secrets and
tokens are scrubbed (see tests/emulator/recording.py).

    python scripts/record_cassettes.py                   # every scenario
    python scripts/record_cassettes.py management_group  # just one

Refreshing from real Azure (needs a service principal with Reader, in the environment as
AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, so the recorded token flow is the
same client-secret flow the replay uses):

    python scripts/record_cassettes.py --azure --subscription <id> \\
        --map <real tenant id>=8a1f3c52-7d4e-4b69-9e21-3f6d0c8b7a15 --map <real sub id>=<fake id> \\
        --out cassettes/azure single_subscription three_page_pagination

Real recordings go to a separate folder because the committed cassettes' assertions depend on
the example estate; use them to compare Azure's wire format with the emulator's (field by field)
and fix the emulator where they differ. Faults (429, truncation, forbidden subscriptions) cannot
be provoked on demand in Azure, so only the plain scenarios make sense there. Review a real
recording before sharing it: resource names and properties are recorded as Azure returned them,
only the ids given with --map are replaced.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from azure.identity import ClientSecretCredential  # noqa: E402

from aksaudit.collect.clients import connect  # noqa: E402
from aksaudit.collect.clouds import ARM_ENDPOINT_ENV, resolve_cloud  # noqa: E402
from aksaudit.collect.live import ScopeRequest  # noqa: E402
from emulator import Emulator, FakeClock  # noqa: E402
from emulator.recording import Scrubber, make_vcr  # noqa: E402
from emulator.scenarios import CASSETTES, CLIENT_ID, RECORDING_SECRET, SCENARIOS, Scenario  # noqa: E402
from emulator.tenant import FAKE_TENANT  # noqa: E402


def record_emulated(scenario: Scenario, folder: Path) -> None:
    target = folder / f"{scenario.name}.yaml"
    target.unlink(missing_ok=True)
    with Emulator(scenario.tenant()) as emulator:
        for fault in scenario.fresh_faults():
            emulator.add_fault(fault)
        previous = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = emulator.ca_path  # requests (under azure-core) trusts the emulator's CA
        try:
            credential = ClientSecretCredential(FAKE_TENANT, CLIENT_ID, RECORDING_SECRET, authority=emulator.url,
                                                disable_instance_discovery=True)
            clients = connect(resolve_cloud("AzureCloud", {ARM_ENDPOINT_ENV: emulator.url}), credential)
            recorder = make_vcr(folder, Scrubber(origin=emulator.url), record_mode="all")
            with recorder.use_cassette(target.name):
                snapshot, _ = scenario.collect_all(clients, FakeClock())
        finally:
            if previous is None:
                os.environ.pop("REQUESTS_CA_BUNDLE", None)
            else:
                os.environ["REQUESTS_CA_BUNDLE"] = previous
    _report(scenario.name, target, snapshot)


def record_azure(scenario: Scenario, folder: Path, scope: ScopeRequest | None, id_map: dict[str, str]) -> None:
    missing = [v for v in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET") if not os.environ.get(v)]
    if missing:
        sys.exit(f"--azure needs a service principal in the environment; missing {', '.join(missing)}")
    if scope is not None:
        scenario = dataclasses.replace(scenario, scope=scope)
    target = folder / f"{scenario.name}.yaml"
    target.unlink(missing_ok=True)
    credential = ClientSecretCredential(os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"],
                                        os.environ["AZURE_CLIENT_SECRET"])
    clients = connect(resolve_cloud("AzureCloud", {}), credential)
    recorder = make_vcr(folder, Scrubber(id_map=id_map), record_mode="all")
    with recorder.use_cassette(target.name):
        snapshot, _ = scenario.collect_all(clients, FakeClock())
    _report(scenario.name, target, snapshot)


def _report(name: str, target: Path, snapshot) -> None:
    state = "complete" if snapshot.complete else f"incomplete: {'; '.join(snapshot.gaps)}"
    print(f"{name}: {len(snapshot.rows)} rows -> {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target} "
          f"({state})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", help=f"default: all of {', '.join(SCENARIOS)}")
    parser.add_argument("--out", type=Path, default=CASSETTES, help="folder to write cassettes to")
    parser.add_argument("--azure", action="store_true", help="record against real Azure instead of the emulator")
    parser.add_argument("--subscription", action="append", default=[], help="with --azure: scope to record")
    parser.add_argument("--management-group", action="append", default=[], help="with --azure: scope to record")
    parser.add_argument("--map", action="append", default=[], metavar="REAL=FAKE", help="with --azure: id to replace")
    args = parser.parse_args()
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        sys.exit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.scenarios or list(SCENARIOS):
        if args.azure:
            scope = ScopeRequest(tuple(args.subscription), tuple(args.management_group)) \
                if args.subscription or args.management_group else None
            record_azure(SCENARIOS[name], args.out, scope, dict(item.split("=", 1) for item in args.map))
        else:
            record_emulated(SCENARIOS[name], args.out)


if __name__ == "__main__":
    main()
