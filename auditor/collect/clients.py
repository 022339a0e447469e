"""The SDK clients a live scan uses, built once per scan for one cloud and one credential.

They are passed around as a value instead of living in module globals, so tests build them
against a recorded or emulated endpoint without patching anything.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from .clouds import Cloud
from .identity import default_credential
from .renewal import RenewableCredential, authentication_policy


@dataclass(frozen=True)
class AzureClients:
    cloud: Cloud
    graph: Any  # azure.mgmt.resourcegraph.ResourceGraphClient
    network: Callable[[str], Any]  # subscription id -> azure.mgmt.network.NetworkManagementClient
    containers: Callable[[str], Any] | None = None  # subscription id -> ContainerServiceClient (--source arm)


def connect(cloud: Cloud, credential: Any = None, **client_options: Any) -> AzureClients:
    """Clients for `cloud`; `client_options` go to both SDK clients (e.g. `connection_verify`).

    The Resource Graph client gets no SDK retries (`retry_total=0`): azure-core would not retry a
    POST 429 without Retry-After anyway, and one retry loop with one budget and one clock (ours)
    is easier to reason about than two nested ones.
    """
    from azure.mgmt.resourcegraph import ResourceGraphClient

    # A token Azure refuses mid-scan (expired early, revoked) is renewed and the request sent
    # again, once, by every client's authentication policy (see renewal.py).
    credential = credential if credential is not None else RenewableCredential(lambda: default_credential(cloud))
    graph = ResourceGraphClient(credential, base_url=cloud.resource_manager, credential_scopes=[cloud.scope],
                                retry_total=0, authentication_policy=authentication_policy(credential, cloud.scope),
                                **client_options)
    options = {"base_url": cloud.resource_manager, "credential_scopes": [cloud.scope], **client_options}

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
