"""The SDK clients a live scan uses, built once per scan for one cloud and one credential.

They are passed around as a value instead of living in module globals, so tests build them
against a recorded or emulated endpoint without patching anything.

All of them send through one transport: one `requests` session, so one connection pool for
the ARM endpoint, reused by every subscription's client, instead of a pool per client and a new
TLS connection (with its own load of the CA bundle) for each subscription's first request. And
all of a scan's readers share its limits (`ScanLimits`): the Resource Graph quota the estate's
queries spend is the quota the change-history queries after them find left.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from azure.core.pipeline.policies import RetryPolicy

from .clouds import Cloud
from .identity import default_credential
from .renewal import RenewableCredential, authentication_policy


CONNECTIONS = 64  # connections kept open to one host: more than the workers that share them
CONNECTION_KEYS = ("connection_verify", "connection_cert", "connection_timeout", "read_timeout")


class ScanLimits:
    """The throttling state every reader of one scan shares: Resource Graph's quota window and
    ARM's per-subscription read buckets. Made once per clock (a test's fake clock gets its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._graph: dict[int, Any] = {}
        self._arm: dict[int, Any] = {}

    def graph(self, clock: Any) -> Any:
        from .throttle import QuotaLimiter, SystemClock
        with self._lock:
            key = id(clock) if not isinstance(clock, SystemClock) else 0
            if key not in self._graph:
                self._graph[key] = QuotaLimiter(clock, poll=QuotaLimiter.POLL if isinstance(clock, SystemClock) else None)
            return self._graph[key]

    def arm(self, clock: Any = None) -> Any:
        from .arm_limits import ArmLimiter
        from .throttle import SystemClock
        with self._lock:
            key = 0 if clock is None or isinstance(clock, SystemClock) else id(clock)
            if key not in self._arm:
                self._arm[key] = ArmLimiter(clock)
            return self._arm[key]


@dataclass(frozen=True)
class AzureClients:
    cloud: Cloud
    graph: Any  # azure.mgmt.resourcegraph.ResourceGraphClient
    network: Callable[[str], Any]  # subscription id -> azure.mgmt.network.NetworkManagementClient
    containers: Callable[[str], Any] | None = None  # subscription id -> ContainerServiceClient (--source arm)
    limits: ScanLimits = field(default_factory=ScanLimits, compare=False, repr=False)


def shared_transport(**client_options: Any) -> Any:
    """One azure-core transport over one `requests` session for every client of a scan.

    The session's pool keeps up to CONNECTIONS connections to a host, so the worker threads of
    all subscriptions reuse warm TLS connections; the SDK's own retry policy stays in charge
    (the adapter's retries are off, as azure-core sets them on the sessions it makes itself).
    """
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from urllib3.util.retry import Retry

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=CONNECTIONS,
                                            max_retries=Retry(total=False, redirect=False, raise_on_status=False))
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)
    return RequestsTransport(session=session, session_owner=False,
                             **{k: v for k, v in client_options.items() if k in CONNECTION_KEYS})


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
    if "transport" not in client_options:
        client_options = {**client_options, "transport": shared_transport(**client_options)}
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
