"""The SDK clients a live scan uses, built once per scan for one cloud and one credential.

They are passed around as a value instead of living in module globals, so tests build them
against a recorded or emulated endpoint without patching anything.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from azure.core.pipeline.policies import RetryPolicy

from .clouds import Cloud
from .identity import default_credential
from .renewal import RenewableCredential, authentication_policy


@dataclass(frozen=True)
class AzureClients:
    cloud: Cloud
    graph: Any  # azure.mgmt.resourcegraph.ResourceGraphClient
    network: Callable[[str], Any]  # subscription id -> azure.mgmt.network.NetworkManagementClient
    containers: Callable[[str], Any] | None = None  # subscription id -> ContainerServiceClient (--source arm)


def arm_retry_options(retry_budget: float | None) -> dict[str, Any]:
    """azure-core retry settings bounding each ARM request's retries by the scan's retry budget.

    ARM reads (rule collection groups, vWAN lookups, `--source arm`) keep the SDK's own retry
    policy, which honours ARM's `Retry-After`; left alone it retries 10 times with back-off up to
    two minutes, so one failing endpoint could hold a scan for many minutes past
    `--retry-budget`. Two bounds: as many retries as the SDK's back-off fits into half the
    budget, so a failing read normally ends with ARM's own error (`HTTP 500 ...`), and azure-core's
    `timeout` (the time one operation may take with all its retries) at the budget, for long
    `Retry-After` waits. A budget of 0 means no retries (a `timeout` of 0 would fail every request).
    """
    if retry_budget is None:
        return {}
    if retry_budget <= 0:
        return {"retry_total": 0}
    sdk = RetryPolicy()  # azure-core's defaults: back-off factor, its cap, the number of retries
    retries, slept = 0, 0.0
    while retries < sdk.total_retries:
        # azure-core retries the first failure at once, then waits factor * 2**n, capped.
        wait = 0.0 if retries == 0 else min(sdk.backoff_max, sdk.backoff_factor * 2 ** retries)
        if slept + wait > retry_budget / 2:
            break
        slept, retries = slept + wait, retries + 1
    return {"retry_total": retries, "timeout": retry_budget}


def connect(cloud: Cloud, credential: Any = None, *, retry_budget: float | None = None,
            **client_options: Any) -> AzureClients:
    """Clients for `cloud`; `client_options` go to both SDK clients (e.g. `connection_verify`).

    The Resource Graph client gets no SDK retries (`retry_total=0`): azure-core would not retry a
    POST 429 without Retry-After anyway, and one retry loop with one budget and one clock (ours)
    is easier to reason about than two nested ones. The ARM clients keep the SDK's retries,
    bounded per request by `retry_budget` (see `arm_retry_options`).
    """
    from azure.mgmt.resourcegraph import ResourceGraphClient

    # A token Azure refuses mid-scan (expired early, revoked) is renewed and the request sent
    # again, once, by every client's authentication policy (see renewal.py).
    credential = credential if credential is not None else RenewableCredential(lambda: default_credential(cloud))
    graph = ResourceGraphClient(credential, base_url=cloud.resource_manager, credential_scopes=[cloud.scope],
                                retry_total=0, authentication_policy=authentication_policy(credential, cloud.scope),
                                **client_options)
    options = {"base_url": cloud.resource_manager, "credential_scopes": [cloud.scope], **client_options,
               **arm_retry_options(retry_budget)}

    def network_client(subscription_id: str) -> Any:
        # Imported on first use: it is the largest SDK and only the rule-group fallback (and
        # --source arm) need it.
        from azure.mgmt.network import NetworkManagementClient
        return NetworkManagementClient(credential, subscription_id, **options,
                                       authentication_policy=authentication_policy(credential, cloud.scope))

    def container_client(subscription_id: str) -> Any:
        # Only `--source arm` lists clusters through ARM; most scans never import this SDK.
        from azure.mgmt.containerservice import ContainerServiceClient
        return ContainerServiceClient(credential, subscription_id, **options,
                                      authentication_policy=authentication_policy(credential, cloud.scope))

    network, containers = _per_subscription(network_client), _per_subscription(container_client)
    return AzureClients(cloud, graph, network, containers)


def _per_subscription(make: Callable[[str], Any]) -> Callable[[str], Any]:
    """One client per subscription, made on first use; safe from the many threads of `--source arm`."""
    made: dict[str, Any] = {}
    lock = threading.Lock()

    def client(subscription_id: str) -> Any:
        with lock:
            if subscription_id not in made:
                made[subscription_id] = make(subscription_id)
            return made[subscription_id]

    return client
