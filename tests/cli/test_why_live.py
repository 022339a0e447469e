"""`aksaudit why` read live, end to end: the same answer and exit code as over the estate file.

The CLI runs in a subprocess as users run it, against the HTTPS emulator serving
examples/hub-spoke.json (a clean hub and spoke, so the questions below cover every verdict the
estate can give: allowed by a network or an application rule, denied by the firewall's default,
unknown behind an FQDN tag). The live answer must equal the snapshot answer field for field.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import EXAMPLES, aksaudit_cmd
from emulator import Behaviour, Emulator, Tenant
from emulator.scenarios import HUB, MANAGEMENT_GROUP, NAMES, SPOKE

ESTATE = EXAMPLES / "hub-spoke.json"
QUESTIONS = [
    ("aks-payments-prod", ("--to", "203.0.113.40:443")),  # a network rule allows it
    ("aks-payments-staging", ("--to", "203.0.113.40:443")),  # that rule's sources leave staging out
    ("aks-payments-prod", ("--to", "ghcr.io")),  # an application rule allows it
    ("aks-analytics-prod", ("--to", "8.8.8.8:53/udp")),  # nothing allows it: denied
    ("aks-analytics-prod", ("--to", "mcr.microsoft.com")),  # behind the AzureKubernetesService FQDN tag
    ("/subscriptions/e91b47c5-1a6d-4f2e-b3c8-5d7a9e0f2b64/resourcegroups/rg-aks-payments-weu/providers/"
     "Microsoft.ContainerService/managedClusters/aks-payments-prod", ("--to", "mcr.microsoft.com", "--ip", "20.61.99.1")),
]


@pytest.fixture(scope="module")
def emulator():
    tenant = Tenant.from_file(ESTATE, subscription_names=NAMES, management_groups={MANAGEMENT_GROUP: [HUB, SPOKE]})
    instance = Emulator(tenant, Behaviour()).start()
    yield instance
    instance.stop()


def why(*args: str, emulator: Emulator | None = None) -> tuple[int, dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSAUDIT_"))}
    if emulator is not None:
        env.update(emulator.client_env())
    env["AZURE_CONFIG_DIR"] = os.environ.get("AZURE_CONFIG_DIR", "/nonexistent-az-config")
    proc = subprocess.run([*aksaudit_cmd(), "why", *args, "--json", "--quiet"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.mark.parametrize("cluster, question", QUESTIONS)
def test_live_why_answers_as_the_snapshot_does(emulator, cluster, question):
    code, live, stderr = why(cluster, *question, "--management-group", MANAGEMENT_GROUP, emulator=emulator)
    offline_code, offline, _ = why(cluster, *question, "--snapshot", str(ESTATE))
    assert live["gaps"] == [], live["gaps"]
    assert (code, live) == (offline_code, offline)


def test_the_questions_cover_every_verdict_the_estate_gives():
    """Without this the equality above could hold over answers that are all alike."""
    verdicts = {why(cluster, *question, "--snapshot", str(ESTATE))[1]["verdict"] for cluster, question in QUESTIONS}
    assert verdicts == {"allowed", "denied", "unknown"}


def test_live_why_through_subscriptions_named_by_display_name(emulator):
    cluster, question = QUESTIONS[0]
    code, live, _ = why(cluster, *question, "--subscription", NAMES[HUB], "--subscription", NAMES[SPOKE],
                        emulator=emulator)
    assert (code, live) == why(cluster, *question, "--snapshot", str(ESTATE))[:2]


def test_live_why_for_a_cluster_outside_the_scope_is_a_one_line_error(emulator):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSAUDIT_"))}
    env.update(emulator.client_env())
    env["AZURE_CONFIG_DIR"] = os.environ.get("AZURE_CONFIG_DIR", "/nonexistent-az-config")
    proc = subprocess.run([*aksaudit_cmd(), "why", "aks-payments-prod", "--to", "ghcr.io", "--subscription", HUB,
                           "--quiet"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "aks-payments-prod" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
