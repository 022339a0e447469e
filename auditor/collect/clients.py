"""The SDK clients a live scan uses, built once per scan for one cloud and one credential.

They are passed around as a value instead of living in module globals, so tests build them
against a recorded or emulated endpoint without patching anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .clouds import Cloud
from .identity import default_credential


@dataclass(frozen=True)
class AzureClients:
    cloud: Cloud
    graph: Any  # azure.mgmt.resourcegraph.ResourceGraphClient
    network: Callable[[str], Any]  # subscription id -> azure.mgmt.network.NetworkManagementClient


def connect(cloud: Cloud, credential: Any = None, **client_options: Any) -> AzureClients:
    """Clients for `cloud`; `client_options` go to both SDK clients (e.g. `connection_verify`).

    The Resource Graph client gets no SDK retries (`retry_total=0`): azure-core would not retry a
    POST 429 without Retry-After anyway, and one retry loop with one budget and one clock (ours)
    is easier to reason about than two nested ones.
    """
    from azure.mgmt.resourcegraph import ResourceGraphClient

    credential = credential if credential is not None else default_credential(cloud)
    graph = ResourceGraphClient(credential, base_url=cloud.resource_manager, credential_scopes=[cloud.scope],
                                retry_total=0, **client_options)
    cache: dict[str, Any] = {}

    def network(subscription_id: str) -> Any:
        if subscription_id not in cache:
            # Imported on first use: it is the largest SDK and only the rule-group fallback needs it.
            from azure.mgmt.network import NetworkManagementClient

            cache[subscription_id] = NetworkManagementClient(
                credential, subscription_id, base_url=cloud.resource_manager, credential_scopes=[cloud.scope],
                **client_options)
        return cache[subscription_id]

    return AzureClients(cloud, graph, network)
