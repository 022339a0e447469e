"""An HTTPS Azure Resource Graph emulator on loopback, speaking the real wire format.

It serves what aksaudit's live collector touches, so the real SDKs can be exercised end to end
without Azure:

* `POST /providers/Microsoft.ResourceGraph/resources?api-version=...` — the KQL subset in
  kql.py, `subscriptions` / `managementGroups` / tenant scoping, `$top` + `$skipToken` paging,
  `resultTruncated` as the string Azure sends, quota headers, the 10,000-subscription cap header,
  and `NoValidSubscriptionsInQueryRequest` when no requested subscription is readable;
* `GET .../firewallPolicies/{p}/ruleCollectionGroups` — the ARM list the SDK fallback calls;
* `GET /subscriptions/{s}/providers/{namespace}/{type}` (paged with `nextLink`), `GET /subscriptions`
  and management-group descendants — the ARM reads of `scan --source arm` (see arm.py);
* `GET /emulator/stats` — request counts by route and status, for the benchmark;
* `GET /{tenant}/v2.0/.well-known/openid-configuration` and `POST /{tenant}/oauth2/v2.0/token`
  — enough of Entra ID for azure-identity's client-secret flow (with instance discovery off).

Faults are injected per request (429 with or without Retry-After, 5xx or any status, truncation,
delay for timeouts, a connection reset half-way through a page, a rejected or lost `$skipToken`,
an access token that expires mid-scan), and a configurable latency applies to every request. Only loopback: the
server binds 127.0.0.1 and nothing else.
"""
from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import json
import math
import re
import secrets
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from . import arm
from .kql import QueryError, parse
from .tenant import Tenant, subscription_of

GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"
RCG_LIST = re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/microsoft\.network/"
                      r"firewallpolicies/([^/]+)/rulecollectiongroups$", re.IGNORECASE)
# ARM child lists of what Resource Graph does not hold (see tenant.ARM_ONLY_TYPES).
CHILD_LIST = re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/(microsoft\.network/virtualhubs|"
                        r"microsoft\.containerservice/managedclusters)/([^/]+)/(routingintent|hubroutetables|"
                        r"hubvirtualnetworkconnections|outboundnetworkdependenciesendpoints)$", re.IGNORECASE)
CHILD_ARM_TYPES = {"routingintent": "Microsoft.Network/virtualHubs/routingIntent",
                   "hubroutetables": "Microsoft.Network/virtualHubs/hubRouteTables",
                   "hubvirtualnetworkconnections": "Microsoft.Network/virtualHubs/hubVirtualNetworkConnections"}
# Network Interfaces - Get Effective Route Table: a POST answered 202 with Azure-AsyncOperation and
# Location; the operation is polled, then its result read from Location (ARM's long-running POST).
EFFECTIVE_ROUTES = re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/microsoft\.network/"
                              r"networkinterfaces/([^/]+)/effectiveroutetable$", re.IGNORECASE)
OPERATION = re.compile(r"^/subscriptions/([^/]+)/providers/microsoft\.network/locations/([^/]+)/"
                       r"(operations|operationresults)/([^/]+)$", re.IGNORECASE)
EFFECTIVE_ROUTES_ACTION = "Microsoft.Network/networkInterfaces/effectiveRouteTable/action"
EFFECTIVE_ROUTES_TYPE = "microsoft.network/networkinterfaces/effectiveroutetable"
OPENID = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration$")
TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
MAX_TOP = 1000
RESPONSE_LIMIT = 16 * 1024 ** 2  # bytes: "has exceeded the limit of 16777216"
STATS = "/emulator/stats"


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next `times` matching requests (-1: all of them).

    kind: "throttle" (429, RateLimiting body; quota headers saying the quota is spent unless
    `quota_headers` is False; Retry-After only if `retry_after`),
    "error" (`status` with ARM error `code`), "truncate" (resultTruncated "true", no $skipToken),
    "delay" (sleep `seconds` before answering: client timeouts), "reset" (send the headers and
    half the body, then reset the connection), "reject_skip_token" (a page asked for with a
    `$skipToken` gets 400 InvalidSkipToken, as when the token has expired), "drop_skip_token"
    (the page is served without its `$skipToken`, although `totalRecords` says more rows exist),
    "expire_token" (the presented access token is revoked and answered 401
    ExpiredAuthenticationToken, so only a fresh token gets through). `route` is "graph" or "arm";
    `table` and `page` (1-based) narrow Resource Graph faults; for "arm", `table` names the child
    list a fault is for (`routingintent`, `hubroutetables` ...).
    """

    kind: str
    times: int = 1
    every: int = 0  # > 0: only every n-th matching request (deterministic "n% of requests")
    route: str = "graph"
    table: str | None = None
    page: int | None = None
    status: int = 503
    code: str = "ServiceUnavailable"
    retry_after: float | None = None
    resets_after: float = 1.0
    quota_headers: bool = True
    actual_quota: bool = False  # a 429 reporting the identity's real quota state (not spent by it)
    seconds: float = 0.0
    hits: int = 0
    seen: int = 0  # matching requests so far (for `every`)

    def matches(self, route: str, table: str | None, page: int | None) -> bool:
        return (self.times != 0 and self.route == route and (self.table is None or self.table == table)
                and (self.page is None or self.page == page))


@dataclass
class Record:
    method: str
    path: str
    body: Any
    status: int
    at: float = 0.0  # the emulator's clock when the answer was sent


@dataclass
class _Window:
    started: float
    used: int = 0


@dataclass
class Behaviour:
    """Service-side settings: the quota per identity, latency, and the subscription cap."""

    quota: int = 15
    window: float = 5.0
    latency: float = 0.0
    subscription_limit: int = 10000
    page_limit: int = 1000  # rows per page the service returns at most, whatever $top asks
    faults: list[Fault] = field(default_factory=list)
    arm_latency: float | None = None  # per ARM request; None: the same as `latency`
    arm_page_size: int = 100  # items per ARM list page before a nextLink
    cache: bool = False  # index the tenant and cache query results once (big benchmark tenants, never edited)
    # Resource Graph's response size limit (16 MiB): a larger answer is refused with 400 BadRequest,
    # detail ResponsePayloadTooLarge, as captured from the service. None: no limit.
    response_limit: int | None = RESPONSE_LIMIT
    # A network round trip charged to every request, whatever the endpoint (identity, ARM, Resource
    # Graph), before `latency`/`arm_latency` (the service's own time) is added.
    rtt: float = 0.0
    # ARM's read bucket per subscription (size, refill per second), reported on every ARM answer in
    # x-ms-ratelimit-remaining-subscription-reads; an empty bucket answers 429 with Retry-After.
    arm_bucket: tuple[int, float] = (250, 25.0)


@functools.lru_cache(maxsize=1)
def _tls() -> tuple[str, ssl.SSLContext]:
    """One throwaway CA and loopback certificate per process: key generation is the slow part."""
    import trustme

    ca = trustme.CA()
    folder = tempfile.mkdtemp(prefix="arg-emulator-")
    atexit.register(shutil.rmtree, folder, True)
    ca_path = str(Path(folder) / "ca.pem")
    ca.cert_pem.write_to_path(ca_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return ca_path, context


def _hhmmss(seconds: float) -> str:
    whole = max(0, math.ceil(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _arm_error(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


class Emulator:
    """Start with `with Emulator(tenant) as emu:`; `emu.url` and `emu.ca_path` point clients at it."""

    def __init__(self, tenant: Tenant, behaviour: Behaviour | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 index: "arm.TenantIndex | None" = None) -> None:
        self.tenant = tenant
        self.behaviour = behaviour or Behaviour()
        self.clock = clock
        self.sleep = sleep
        self._arm_buckets: dict[str, tuple[float, float]] = {}
        self.records: list[Record] = []
        self.in_flight = 0
        self.peak_in_flight = 0  # most Resource Graph requests being served at once
        self._tokens: set[str] = set()
        self._revoked: set[str] = set()
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self.ca_path, self._context = _tls()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # With `cache`, an index built here; or one given (a lean index over the estate file).
        self.index = index if index is not None else arm.TenantIndex.build(tenant) if self.behaviour.cache else None
        self._results: dict[str, list[dict[str, Any]]] = {}  # query fingerprint -> rows (with `cache`)
        # Long-running operations: id -> [polls left before Succeeded, the result body]
        self.operations: dict[str, list[Any]] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "Emulator":
        emulator = self

        class Handler(_Handler):
            owner = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="arg-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "emulator not started"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def authority_host(self) -> str:
        return self.url.split("://", 1)[1]

    def client_env(self) -> dict[str, str]:
        """Environment for a subprocess `aksaudit` that should talk to this emulator."""
        return {"AKSAUDIT_ARM_ENDPOINT": self.url, "AZURE_AUTHORITY_HOST": self.url,
                "REQUESTS_CA_BUNDLE": self.ca_path, "SSL_CERT_FILE": self.ca_path,
                "AZURE_TENANT_ID": self.tenant.tenant_id,
                "AZURE_CLIENT_ID": self.tenant.client_id or "3c9e7a21-5b4d-4f8e-a6c2-1d0b9e8f7a63",
                "AZURE_CLIENT_SECRET": self.tenant.client_secret or "emulator-secret"}

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.behaviour.faults.append(fault)
        return fault

    def graph_requests(self) -> list[Record]:
        return [r for r in self.records if r.path.lower().startswith(GRAPH_PATH)]

    # --- service logic (called from handler threads) -----------------------------------------

    def take_fault(self, route: str, table: str | None = None, page: int | None = None) -> Fault | None:
        with self._lock:
            for fault in self.behaviour.faults:
                if fault.matches(route, table, page):
                    if fault.every > 0:
                        fault.seen += 1
                        if fault.seen % fault.every:
                            continue
                    fault.times -= 1 if fault.times > 0 else 0
                    fault.hits += 1
                    return fault
        return None

    def peek_quota(self, token: str) -> tuple[int, float]:
        """(remaining, seconds to reset) of this identity's window, without spending any."""
        with self._lock:
            now = self.clock()
            window = self._windows.get(token)
            if window is None or now - window.started >= self.behaviour.window:
                return self.behaviour.quota, self.behaviour.window
            return self.behaviour.quota - window.used, self.behaviour.window - (now - window.started)

    def query_rows(self, fingerprint: str, compute: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """A query's full result: computed per request, or once with `cache` (pages of big tenants)."""
        if not self.behaviour.cache:
            return compute()
        with self._lock:
            found = self._results.get(fingerprint)
        if found is None:
            found = compute()
            with self._lock:
                self._results[fingerprint] = found
        return found

    def stats(self) -> dict[str, Any]:
        """Requests by route and status: what the benchmark compares with the lower bound."""
        with self._lock:
            records = list(self.records)
        graph = [r for r in records if r.path.lower().startswith(GRAPH_PATH)]
        arm_calls = [r for r in records if r.method == "GET" and not r.path.startswith(STATS)
                     and "/oauth2/" not in r.path and "/.well-known/" not in r.path and "/discovery/" not in r.path]
        return {"graph": len(graph), "graph_throttled": sum(r.status == 429 for r in graph),
                "graph_failed": sum(r.status >= 400 and r.status != 429 for r in graph),
                "arm": len(arm_calls), "arm_throttled": sum(r.status == 429 for r in arm_calls),
                "arm_failed": sum(r.status >= 400 and r.status != 429 for r in arm_calls),
                "arm_by_kind": arm_kinds(arm_calls),
                "peak_in_flight": self.peak_in_flight}

    def arm_read(self, subscription: str) -> int:
        """Spend one read of the subscription's ARM bucket: reads left after it, or -1 when empty."""
        size, refill = self.behaviour.arm_bucket
        with self._lock:
            now = self.clock()
            tokens, then = self._arm_buckets.get(subscription.lower(), (float(size), now))
            tokens = min(float(size), tokens + (now - then) * refill)
            if tokens < 1.0:
                self._arm_buckets[subscription.lower()] = (tokens, now)
                return -1
            self._arm_buckets[subscription.lower()] = (tokens - 1.0, now)
            return int(tokens - 1.0)

    def spend_quota(self, token: str) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds to reset) for this identity's current window."""
        with self._lock:
            now = self.clock()
            window = self._windows.get(token)
            if window is None or now - window.started >= self.behaviour.window:
                window = self._windows[token] = _Window(now)
            left = self.behaviour.window - (now - window.started)
            if window.used >= self.behaviour.quota:
                return False, 0, left
            window.used += 1
            return True, self.behaviour.quota - window.used, left

    def readable(self, subscriptions: Any) -> list[str]:
        """`Tenant.readable`, without rescanning the rows when the tenant is indexed."""
        if self.index is None:
            return self.tenant.readable(subscriptions)
        blocked = {s.lower() for s in self.tenant.forbidden}
        return sorted({s.lower() for s in subscriptions} & set(self.index.subscriptions) - blocked)

    def all_subscriptions(self) -> list[str]:
        return self.index.subscriptions if self.index is not None else self.tenant.subscriptions()

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return token

    def knows_token(self, token: str) -> bool:
        with self._lock:
            return token in self._tokens

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._tokens.discard(token)
            self._revoked.add(token)

    def issued_tokens(self) -> set[str]:
        """Every access token issued, revoked ones too (the secrets test looks for them everywhere)."""
        with self._lock:
            return self._tokens | self._revoked

    def entered(self, delta: int) -> None:
        with self._lock:
            self.in_flight += delta
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def record(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)


ARM_KINDS = (("outboundnetworkdependenciesendpoints", "outbound network dependencies endpoints"),
             ("/routingintent", "routing intent"), ("/hubvirtualnetworkconnections", "hub virtual network connections"),
             ("/rulecollectiongroups", "rule collection groups"))


def arm_kinds(calls: list[Record]) -> dict[str, int]:
    """ARM requests by what they read: each lookup kind, and `list` for everything else."""
    counts: dict[str, int] = {}
    for record in calls:
        path = urlsplit(record.path).path.lower()
        kind = next((name for marker, name in ARM_KINDS if marker in path), "list")
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _skip_token(offset: int, fingerprint: str) -> str:
    return base64.b64encode(json.dumps({"o": offset, "h": fingerprint}).encode()).decode()


def _read_skip_token(token: str, fingerprint: str) -> int | None:
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
        return int(data["o"]) if data.get("h") == fingerprint else None
    except (ValueError, KeyError, TypeError):
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: Emulator

    def setup(self) -> None:
        # TLS per connection, in the handler thread: a slow handshake never blocks accept().
        self.request = self.owner._context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, *_: Any) -> None:  # quiet: tests read `records`, not stderr
        pass

    # --- plumbing ------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None, parsed: Any = None) -> None:
        body = json.dumps(payload).encode()
        if status == 401 and "/oauth2/" not in self.path and "WWW-Authenticate" not in (headers or {}):
            # As ARM answers every refused bearer token: a challenge naming the error.
            headers = {**(headers or {}), "WWW-Authenticate": f'Bearer authorization_uri="{self.owner.url}/'
                       f'{self.owner.tenant.tenant_id}", error="invalid_token", error_description="The access '
                       f'token is invalid."'}
        self.owner.record(Record(self.command, self.path, parsed, status, self.owner.clock()))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True  # the client gave up (a timeout test): nothing to answer

    def _reset_mid_body(self, status: int, payload: Any, parsed: Any = None) -> None:
        """Headers and half the body, then a TCP reset: the client sees the page cut off."""
        body = json.dumps(payload).encode()
        self.owner.record(Record(self.command, self.path, parsed, -status, self.owner.clock()))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            raw = self.request.unwrap() if hasattr(self.request, "unwrap") else self.request
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
        except (OSError, ssl.SSLError):
            pass
        self.close_connection = True

    def _expired(self, parsed: Any) -> None:
        """What ARM answers a token it no longer accepts; the token stays refused from now on."""
        token = (self.headers.get("Authorization") or "")[7:]
        self.owner.revoke_token(token)
        self._send(401, _arm_error("ExpiredAuthenticationToken", "The access token expiry UTC time is earlier "
                                   "than current UTC time."),
                   {"WWW-Authenticate": f'Bearer authorization_uri="{self.owner.url}/{self.owner.tenant.tenant_id}", '
                                        'error="invalid_token", error_description="The access token has expired"'},
                   parsed=parsed)

    def _bearer_ok(self) -> bool:
        auth = self.headers.get("Authorization") or ""
        return auth.startswith("Bearer ") and self.owner.knows_token(auth[7:])

    def _delay(self, fault: Fault | None, latency: float | None = None) -> None:
        latency = self.owner.behaviour.latency if latency is None else latency
        if latency:
            self.owner.sleep(latency)
        if fault and fault.kind == "delay":
            self.owner.sleep(fault.seconds)

    def _arm_delay(self, fault: Fault | None) -> None:
        self._delay(fault, self.owner.behaviour.arm_latency)

    # --- routes ----------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = urlsplit(self.path).path
        if self.owner.behaviour.rtt and path != STATS:
            self.owner.sleep(self.owner.behaviour.rtt)
        if match := OPENID.match(path):
            return self._openid(match.group(1))
        if path == "/common/discovery/instance":
            return self._send(200, {"tenant_discovery_endpoint":
                                    f"{self.owner.url}/{self.owner.tenant.tenant_id}/v2.0/.well-known/openid-configuration"})
        if match := RCG_LIST.match(path):
            return self._rule_groups(*match.groups())
        if match := CHILD_LIST.match(path):
            return self._child_list(*match.groups())
        if path == STATS:
            return self._send(200, self.owner.stats())
        if match := arm.LIST.match(path):
            return self._arm_list(*match.groups())
        if arm.SUBSCRIPTIONS.match(path):
            return self._arm_paged(lambda: arm.subscription_entries(
                self.owner.tenant, self.owner.readable(self.owner.all_subscriptions())))
        if match := arm.DESCENDANTS.match(path):
            return self._arm_descendants(match.group(1))
        if match := OPERATION.match(path):
            return self._operation(*match.groups())
        self._send(404, _arm_error("NotFound", f"the emulator does not serve GET {path}"))

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if self.owner.behaviour.rtt:
            self.owner.sleep(self.owner.behaviour.rtt)
        body = self._body()
        if path.lower() == GRAPH_PATH:
            self.owner.entered(1)
            try:
                return self._graph(body)
            finally:
                self.owner.entered(-1)
        if match := TOKEN.match(path):
            return self._token(match.group(1), body)
        if match := EFFECTIVE_ROUTES.match(path):
            return self._effective_routes(*match.groups())
        self._send(404, _arm_error("NotFound", f"the emulator does not serve POST {path}"))

    def _openid(self, tenant: str) -> None:
        base = f"{self.owner.url}/{tenant}"
        self._send(200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"{base}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "tenant_region_scope": "EU",
        })

    def _token(self, tenant: str, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        shown = {k: ("<redacted>" if k in ("client_secret", "client_assertion") else v) for k, v in form.items()}
        expected = self.owner.tenant
        wrong_tenant = tenant.lower() != expected.tenant_id.lower()
        wrong_client = expected.client_id is not None and (
            form.get("client_id") != expected.client_id or form.get("client_secret") != expected.client_secret)
        if wrong_tenant or wrong_client:
            code = "AADSTS90002: Tenant not found." if wrong_tenant else \
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is " \
                "the client secret value, not the client secret ID."
            return self._send(400 if wrong_tenant else 401, {
                "error": "invalid_request" if wrong_tenant else "invalid_client", "error_description": code,
                "error_codes": [90002 if wrong_tenant else 7000215], "trace_id": str(uuid.uuid4()),
                "correlation_id": str(uuid.uuid4())}, parsed=shown)
        self._send(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                         "access_token": self.owner.issue_token()}, parsed=shown)

    def _rule_groups(self, subscription: str, group: str, policy: str) -> None:
        fault = self.owner.take_fault("arm")
        self._arm_delay(fault)
        if not self._bearer_ok():
            return self._send(401, _arm_error("InvalidAuthenticationToken", "The access token is invalid."))
        if fault and fault.kind in ("error", "throttle"):
            status = 429 if fault.kind == "throttle" else fault.status
            return self._send(status, _arm_error(fault.code if fault.kind == "error" else "TooManyRequests",
                                                 "Injected fault."))
        if subscription.lower() in {s.lower() for s in self.owner.tenant.forbidden}:
            return self._send(403, _arm_error(
                "AuthorizationFailed", f"The client does not have authorization to perform action "
                f"'Microsoft.Network/firewallPolicies/ruleCollectionGroups/read' over scope "
                f"'/subscriptions/{subscription}/resourceGroups/{group}' or the scope is invalid."))
        found = arm.rule_groups(self.owner.tenant, self.owner.index, subscription, group, policy)
        if found is None:
            return self._send(404, _arm_error("ResourceNotFound", f"The Resource 'Microsoft.Network/firewallPolicies/"
                                              f"{policy}' under resource group '{group}' was not found."))
        self._send(200, {"value": found})

    def _child_list(self, subscription: str, group: str, parent_type: str, name: str, child: str) -> None:
        """A virtual hub's routing intent, route tables or connections, or a cluster's outbound dependencies: the
        estate file's rows of that type under the parent, as ARM lists them (the AKS list is bare
        `{category, endpoints}` items, no ids)."""
        parent_type, child = parent_type.lower(), child.lower()
        parent_id = f"/subscriptions/{subscription}/resourcegroups/{group}/providers/{parent_type}/{name}".lower()
        row_type = f"{parent_type}/{child}"
        tenant, index = self.owner.tenant, self.owner.index
        if not any(str(r.get("id", "")).lower() == parent_id for r in arm.rows_of_type(tenant, index, subscription,
                                                                                       parent_type)):
            fault = self.owner.take_fault("arm")
            self._arm_delay(fault)
            if self._arm_refused(fault, subscription, f"{row_type}/read"):
                return
            return self._send(404, _arm_error("ResourceNotFound", f"The Resource '{parent_type}/{name}' under "
                                              f"resource group '{group}' was not found."))
        rows = [r for r in arm.rows_of_type(tenant, index, subscription, row_type)
                if str(r.get("id", "")).lower().startswith(parent_id + "/")]
        if child == "outboundnetworkdependenciesendpoints":
            items = [{"category": (r.get("properties") or {}).get("category"),
                      "endpoints": (r.get("properties") or {}).get("endpoints") or []} for r in rows]
        else:
            items = [{"id": r["id"], "name": r.get("name") or r["id"].rsplit("/", 1)[-1], "type": CHILD_ARM_TYPES[child],
                      "etag": "W/\"00000000-0000-0000-0000-000000000000\"", "properties": r.get("properties") or {}}
                     for r in rows]
        fault = self.owner.take_fault("arm", child)  # a fault with `table` set to the child list refuses only it
        self._arm_delay(fault)
        self._arm_paged(lambda: items, fault, subscription=subscription, action=f"{row_type}/read")

    def _effective_routes(self, subscription: str, group: str, nic: str) -> None:
        """Start the effective-route-table operation of a NIC: 202, then `_operation` polls and answers.

        The routes are the estate file's effective-route row of that NIC (`properties.routes`, as
        the network API writes EffectiveRoute); a NIC without one does not exist (404)."""
        fault = self.owner.take_fault("arm", "effectiveroutetable")
        self._arm_delay(fault)
        scope = f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Network/networkInterfaces/{nic}"
        if self._arm_refused(fault, subscription, EFFECTIVE_ROUTES_ACTION):
            return
        if EFFECTIVE_ROUTES_ACTION.lower() in {a.lower() for a in self.owner.tenant.denied_actions}:
            return self._send(403, _arm_error(
                "AuthorizationFailed", f"The client '{self.owner.tenant.client_id or 'emulator-client'}' does not "
                f"have authorization to perform action '{EFFECTIVE_ROUTES_ACTION}' over scope '{scope}' or the "
                f"scope is invalid. If access was recently granted, please refresh your credentials."))
        wanted = f"{scope}/effectiveRouteTable".lower()
        found = [r for r in arm.rows_of_type(self.owner.tenant, self.owner.index, subscription, EFFECTIVE_ROUTES_TYPE)
                 if str(r.get("id", "")).lower() == wanted]
        if not found:
            return self._send(404, _arm_error("NotFound", f"Resource '{nic}' not found."))
        operation = str(uuid.uuid5(uuid.NAMESPACE_URL, wanted))  # stable: re-recording gives the same URLs
        self.owner.operations[operation] = [1, {"value": (found[0].get("properties") or {}).get("routes") or []}]
        base = f"{self.owner.url}/subscriptions/{subscription}/providers/Microsoft.Network/locations/westeurope"
        version = (parse_qs(urlsplit(self.path).query).get("api-version") or [""])[0]
        self._send(202, {}, {"Azure-AsyncOperation": f"{base}/operations/{operation}?api-version={version}",
                               "Location": f"{base}/operationResults/{operation}?api-version={version}",
                               "Retry-After": "1"})

    def _operation(self, subscription: str, location: str, kind: str, operation: str) -> None:
        """A long-running operation's status (InProgress once, then Succeeded), or its result."""
        if not self._bearer_ok():
            return self._send(401, _arm_error("InvalidAuthenticationToken", "The access token is invalid."))
        state = self.owner.operations.get(operation)
        if state is None:
            return self._send(404, _arm_error("NotFound", f"Operation '{operation}' not found."))
        if kind.lower() == "operationresults":
            return self._send(200, state[1])
        if state[0] > 0:
            state[0] -= 1
            return self._send(200, {"name": operation, "status": "InProgress"}, {"Retry-After": "1"})
        self._send(200, {"name": operation, "status": "Succeeded"})

    # --- ARM lists (scan --source arm) ----------------------------------------------------------------

    def _arm_refused(self, fault: Fault | None, subscription: str | None, action: str) -> bool:
        """Send the error this request gets, if any: auth, an injected fault, or no access."""
        if not self._bearer_ok():
            self._send(401, _arm_error("InvalidAuthenticationToken", "The access token is invalid."))
            return True
        if fault and fault.kind in ("error", "throttle"):
            throttled = fault.kind == "throttle"
            headers = {"Retry-After": str(int(math.ceil(fault.retry_after)))} if throttled and fault.retry_after else {}
            self._send(429 if throttled else fault.status,
                       _arm_error("TooManyRequests" if throttled else fault.code, "Injected fault."), headers)
            return True
        if subscription is not None and subscription.lower() in {s.lower() for s in self.owner.tenant.forbidden}:
            self._send(403, _arm_error(
                "AuthorizationFailed", f"The client does not have authorization to perform action '{action}' over "
                f"scope '/subscriptions/{subscription}' or the scope is invalid."))
            return True
        return False

    def _arm_paged(self, items: Callable[[], list[dict[str, Any]]], fault: Fault | None = None,
                   subscription: str | None = None, action: str = "read") -> None:
        """One page of an ARM list, with a nextLink to the following one."""
        if fault is None:
            fault = self.owner.take_fault("arm")
            self._arm_delay(fault)
        if self._arm_refused(fault, subscription, action):
            return
        left = self.owner.arm_read(subscription) if subscription else None
        if left is not None and left < 0:
            return self._send(429, _arm_error("SubscriptionRequestsThrottled", "Number of 'read' requests for "
                              f"subscription '{subscription}' exceeded."), {"Retry-After": "1"})
        rate = {} if left is None else {"x-ms-ratelimit-remaining-subscription-reads": str(left)}
        query = parse_qs(urlsplit(self.path).query)
        offset = int((query.get("$skiptoken") or ["0"])[0] or 0)
        size = max(1, self.owner.behaviour.arm_page_size)
        found = items()
        payload: dict[str, Any] = {"value": found[offset:offset + size]}
        if offset + size < len(found):
            version = (query.get("api-version") or [""])[0]
            payload["nextLink"] = (f"{self.owner.url}{urlsplit(self.path).path}?api-version={version}"
                                   f"&$skiptoken={offset + size}")
        self._send(200, payload, rate)

    def _arm_list(self, subscription: str, namespace: str, kind: str) -> None:
        rtype = f"{namespace}/{kind}"
        self._arm_paged(lambda: [arm.arm_body(row, rtype) for row in arm.rows_of_type(
            self.owner.tenant, self.owner.index, subscription, rtype)], subscription=subscription,
            action=f"{rtype}/read")

    def _arm_descendants(self, group: str) -> None:
        fault = self.owner.take_fault("arm")
        self._arm_delay(fault)
        if group not in self.owner.tenant.management_groups and self._bearer_ok():
            return self._send(403, _arm_error("AuthorizationFailed", f"The client does not have authorization to "
                                              f"perform action 'Microsoft.Management/managementGroups/descendants/read' "
                                              f"over scope '/providers/Microsoft.Management/managementGroups/{group}'."))
        self._arm_paged(lambda: arm.descendant_entries(self.owner.tenant, group), fault)

    # --- Resource Graph ------------------------------------------------------------------------------

    def _graph(self, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._send(400, _arm_error("BadRequest", "The request body is not valid JSON."))
        if not self._bearer_ok():
            return self._send(401, _arm_error("InvalidAuthenticationToken", "The access token is invalid."),
                              parsed=body)
        if "api-version" not in parse_qs(urlsplit(self.path).query):
            return self._send(400, _arm_error("MissingApiVersionParameter",
                                              "The api-version query parameter (?api-version=) is required."), parsed=body)
        try:
            query = parse(str(body.get("query", "")))
        except QueryError as error:
            return self._send(400, _arm_error("BadRequest", "Please provide below info when asking for support: "
                                              f"timestamp = {time.strftime('%Y-%m-%dT%H:%M:%S')}, correlationId = "
                                              f"{uuid.uuid4()}.", [{"code": "InvalidQuery", "message": str(error)}]),
                              parsed=body)
        options = body.get("options") or {}
        top = min(int(options.get("$top") or MAX_TOP), MAX_TOP, self.owner.behaviour.page_limit)
        fingerprint = hashlib.sha256(json.dumps([body.get("query"), body.get("subscriptions"),
                                                 body.get("managementGroups")]).encode()).hexdigest()[:16]
        offset = int(options.get("$skip") or 0)
        if options.get("$skipToken"):
            offset = _read_skip_token(str(options["$skipToken"]), fingerprint)
            if offset is None:
                return self._send(400, _arm_error("BadRequest", "Invalid skip token.",
                                                  [{"code": "InvalidSkipToken", "message": "The skip token is "
                                                    "invalid, or was issued for another query or scope."}]), parsed=body)
        page = offset // max(top, 1) + 1
        fault = self.owner.take_fault("graph", query.table, page)
        self._delay(fault)
        token = (self.headers.get("Authorization") or "")[7:]
        if fault and fault.kind == "expire_token":
            return self._expired(body)
        if fault and fault.kind == "reject_skip_token" and options.get("$skipToken"):
            return self._send(400, _arm_error("BadRequest", "Invalid skip token.",
                                              [{"code": "InvalidSkipToken", "message": "The skip token has expired."}]),
                              parsed=body)
        if fault and fault.kind == "throttle":
            if fault.actual_quota:
                remaining, left = self.owner.peek_quota(token)
                return self._throttled(body, fault.retry_after, left, remaining)
            return self._throttled(body, fault.retry_after, fault.resets_after if fault.quota_headers else None)
        allowed, remaining, resets = self.owner.spend_quota(token)
        if not allowed:
            return self._throttled(body, None, resets)
        headers = {"x-ms-user-quota-remaining": str(remaining), "x-ms-user-quota-resets-after": _hhmmss(resets)}
        if fault and fault.kind == "error":
            return self._send(fault.status, _arm_error(fault.code, "Injected fault."), headers, parsed=body)
        scope = self._scope(body, query.table, headers)
        if isinstance(scope, tuple):
            return self._send(*scope, headers, parsed=body)
        readable = set(scope)
        index = self.owner.index
        if index is not None:
            try:
                rows = self.owner.query_rows(fingerprint, lambda: index.select(query, str(body.get("query", "")),
                                                                                sorted(readable)))
            except QueryError as error:
                return self._send(400, _arm_error("BadRequest", str(error)), headers, parsed=body)
            data = index.project(query, rows[offset:offset + top])
        else:
            rows = query.run(r for r in self.owner.tenant.table(query.table)
                             if str(r.get("subscriptionId") or subscription_of(str(r.get("id", "")))).lower() in readable)
            data = rows[offset:offset + top]
        if fault and fault.kind == "truncate":
            data = data[:max(1, len(data) // 2)]  # what ARG does past its limits: fewer rows, no $skipToken
        response: dict[str, Any] = {"totalRecords": len(rows), "count": len(data), "data": data, "facets": [],
                                    "resultTruncated": "false"}
        if fault and fault.kind == "truncate":
            response["resultTruncated"] = "true"
        elif offset + top < len(rows) and not (fault and fault.kind == "drop_skip_token"):
            response["$skipToken"] = _skip_token(offset + top, fingerprint)
        limit = self.owner.behaviour.response_limit
        if limit is not None:
            size = len(json.dumps(response, separators=(",", ":")).encode())
            if size > limit:
                return self._send(400, _arm_error(
                    "BadRequest", f"Please provide below info when asking for support: timestamp = "
                    f"{time.strftime('%Y-%m-%dT%H:%M:%S')}, correlationId = {uuid.uuid4()}.",
                    [{"code": "ResponsePayloadTooLarge", "message": f"Response payload size is {size}, and has "
                      f"exceeded the limit of {limit}. Please consider querying less data at a time and make "
                      f"paginated call if needed."}]), headers, parsed=body)
        if fault and fault.kind == "reset":
            return self._reset_mid_body(200, response, parsed=body)
        self._send(200, response, headers, parsed=body)

    def _throttled(self, body: Any, retry_after: float | None, resets: float | None, remaining: int = 0) -> None:
        headers = {} if resets is None else {"x-ms-user-quota-remaining": str(remaining),
                                             "x-ms-user-quota-resets-after": _hhmmss(resets)}
        if retry_after is not None:
            headers["Retry-After"] = str(int(math.ceil(retry_after)))
        self._send(429, _arm_error(
            "RateLimiting", f"Please provide below info when asking for support: timestamp = "
            f"{time.strftime('%Y-%m-%dT%H:%M:%S')}, correlationId = {uuid.uuid4()}.",
            [{"code": "RateLimiting", "message": "Client application has been throttled and should not attempt to "
              "repeat the request until an amount of time has elapsed. Please see "
              "https://aka.ms/resourcegraph-throttling for help."}]), headers, parsed=body)

    def _scope(self, body: dict[str, Any], table: str, headers: dict[str, str]) -> list[str] | tuple[int, Any]:
        """Readable subscriptions for the request, or (status, error body)."""
        tenant = self.owner.tenant
        if body.get("subscriptions"):
            readable = self.owner.readable(body["subscriptions"])
            if not readable:
                return 400, _arm_error("BadRequest", "Please provide below info when asking for support.",
                                       [{"code": "NoValidSubscriptionsInQueryRequest",
                                         "message": "There were no valid subscriptions in the query request."}])
            return readable
        if body.get("managementGroups"):
            subs: list[str] = []
            for group in body["managementGroups"]:
                if group not in tenant.management_groups:
                    return 403, _arm_error("AuthorizationFailed", f"The client does not have authorization to "
                                           f"perform action 'Microsoft.Management/managementGroups/read' over "
                                           f"scope '/providers/Microsoft.Management/managementGroups/{group}'.")
                subs.extend(tenant.management_groups[group])
            readable = self.owner.readable(subs)
        else:
            readable = self.owner.readable(self.owner.all_subscriptions())
        limit = self.owner.behaviour.subscription_limit
        if table != "resourcecontainers" and len(readable) > limit:
            headers["x-ms-tenant-subscription-limit-hit"] = "true"
            readable = readable[:limit]
        return readable

