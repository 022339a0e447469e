"""How cassettes are recorded and replayed: one vcrpy configuration for both, so they agree.

Recording talks to the emulator (or to Azure); what is written looks like Azure: the emulator's
loopback origin becomes `https://management.azure.com` for ARM paths and
`https://login.microsoftonline.com` for Entra ID paths, so replay runs the SDKs with their
production endpoints. Secrets never reach a cassette: request headers are cut to Content-Type
and Accept (no Authorization), client secrets in token requests and issued access tokens are
replaced, and `id_map` swaps real tenant and subscription ids for fake ones when recording
from Azure.

Matching is method + scheme + host + path + query, plus the JSON body for Resource Graph
queries (the query, scope, page size and skip token are what make one page differ from the
next). Token requests are matched without their body: it carries the (scrubbed) secret.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import vcr

ARM_HOST = "management.azure.com"
LOGIN_HOST = "login.microsoftonline.com"
FAKE_SECRET = "REDACTED"
FAKE_TOKEN = "REDACTED-ACCESS-TOKEN"  # not JWT-shaped: a secret scan must find no token at all
KEEP_REQUEST_HEADERS = {"content-type", "accept"}
KEEP_RESPONSE_HEADERS = {"content-type", "retry-after", "x-ms-user-quota-remaining", "x-ms-user-quota-resets-after",
                         "x-ms-tenant-subscription-limit-hit", "location", "azure-asyncoperation"}
LRO_HEADERS = {"location", "azure-asyncoperation"}  # URLs a long-running operation is polled at
GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"


def _is_arm(path: str) -> bool:
    return path.lower().startswith(("/providers/", "/subscriptions/"))


def _swap_ids(text: str, id_map: Mapping[str, str]) -> str:
    for real, fake in id_map.items():
        text = re.sub(re.escape(real), fake, text, flags=re.IGNORECASE)
    return text


def graph_body_matcher(r1: Any, r2: Any) -> None:
    """Resource Graph queries must carry the same JSON body; other requests match on their URI.

    vcrpy runs every matcher on every recorded request (to explain mismatches), so a pair that
    is not two Resource Graph queries is left to the URI matchers.
    """
    if any(urlsplit(r.uri).path.lower() != GRAPH_PATH for r in (r1, r2)):
        return
    assert json.loads(r1.body or b"{}") == json.loads(r2.body or b"{}"), "Resource Graph request bodies differ"


class Scrubber:
    """vcrpy hooks that make a recording look like Azure and carry no secret."""

    def __init__(self, origin: str | None = None, id_map: Mapping[str, str] | None = None) -> None:
        self.origin = origin.rstrip("/") if origin else None  # the emulator's https://127.0.0.1:port
        self.id_map = dict(id_map or {})

    def _text(self, text: str) -> str:
        if self.origin:
            text = text.replace(self.origin, f"https://{LOGIN_HOST}")
        return _swap_ids(text, self.id_map)

    def _uri(self, uri: str) -> str:
        parts = urlsplit(uri)
        host = parts.netloc
        if parts.hostname in ("127.0.0.1", "localhost"):  # the emulator stands in for both services
            host = ARM_HOST if _is_arm(parts.path) else LOGIN_HOST
        return _swap_ids(urlunsplit(("https", host, parts.path, parts.query, "")), self.id_map)

    def request(self, request: Any) -> Any:
        request = copy.deepcopy(request)
        request.uri = self._uri(request.uri)
        request.headers = {k: v for k, v in request.headers.items() if k.lower() in KEEP_REQUEST_HEADERS}
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        if "client_secret=" in body or "client_assertion=" in body:
            fields = [(k, FAKE_SECRET if k in ("client_secret", "client_assertion") else v)
                      for k, v in parse_qsl(body, keep_blank_values=True)]
            body = urlencode(fields)
        request.body = self._text(body).encode() if body else request.body
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        response = copy.deepcopy(response)
        response["headers"] = {k: ([self._uri(u) for u in v] if k.lower() in LRO_HEADERS else v)
                               for k, v in response["headers"].items() if k.lower() in KEEP_RESPONSE_HEADERS}
        raw = response["body"].get("string", b"")
        text = raw.decode() if isinstance(raw, bytes) else raw
        if '"access_token"' in text:
            document = json.loads(text)
            document["access_token"] = FAKE_TOKEN
            text = json.dumps(document)
        response["body"]["string"] = self._text(text).encode()
        return response


def make_vcr(cassettes: str | Path, scrubber: Scrubber | None = None, record_mode: str = "none") -> vcr.VCR:
    scrubber = scrubber or Scrubber()
    recorder = vcr.VCR(
        cassette_library_dir=str(cassettes),
        record_mode=record_mode,
        match_on=("method", "scheme", "host", "path", "query", "graph_body"),
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
    )
    recorder.register_matcher("graph_body", graph_body_matcher)
    return recorder
