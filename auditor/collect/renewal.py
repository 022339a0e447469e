"""A token that expires mid-scan: get a fresh one and send the request again, once.

Credentials cache their token until shortly before the expiry *they* computed. Azure can refuse
it earlier: the client's clock runs behind, or the token was revoked (Continuous Access
Evaluation, a disabled secret). ARM then answers 401 with `WWW-Authenticate: Bearer ...
error="invalid_token"`. azure-core's authentication policy drops its copy of the token, but the
credential would hand back the same cached one, so every later request of a long scan would
fail and the scan would stop with "could not authenticate" although signing in again works.

`RenewableCredential` wraps the credential a scan builds (`DefaultAzureCredential` for the
cloud) and, told which token was refused, builds a fresh one: its cache is empty, so the next
request gets a new token. `RenewingAuthenticationPolicy` is the SDK clients' authentication
policy: on that 401 it renews and lets azure-core send the request again, once. A second 401
is returned as it is, and the scan stops with the actionable authentication error as before.
A credential handed in by the caller (tests, library use) cannot be rebuilt; the request is
still retried once with whatever token it gives.
"""
from __future__ import annotations

import hashlib
import re
import threading
from typing import Any, Callable

from azure.core.credentials import AccessTokenInfo
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

_ERROR = re.compile(r'\berror\s*=\s*"?([^",\s]+)', re.IGNORECASE)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class RenewableCredential:
    """Delegates to a credential built by `factory`, rebuilt when a token it issued is refused."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._inner: Any = None
        self._issued: set[str] = set()  # digests of the tokens the current credential handed out
        self._lock = threading.Lock()
        self.renewals = 0

    def _current(self) -> Any:
        with self._lock:
            if self._inner is None:
                self._inner = self._factory()
            return self._inner

    def _issue(self, inner: Any, token: str) -> None:
        with self._lock:
            if inner is self._inner:
                self._issued.add(_digest(token))

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        inner = self._current()
        token = inner.get_token(*scopes, **kwargs)
        self._issue(inner, token.token)
        return token

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        inner = self._current()
        if hasattr(inner, "get_token_info"):
            info = inner.get_token_info(*scopes, options=options)
        else:
            token = inner.get_token(*scopes, **dict(options or {}))
            info = AccessTokenInfo(token.token, token.expires_on)
        self._issue(inner, info.token)
        return info

    def renew(self, refused_token: str) -> bool:
        """Start over with a fresh credential if the refused token is the current one's (threads
        that all saw the same 401 renew once); True when a new credential was built."""
        with self._lock:
            if self._inner is None or _digest(refused_token) not in self._issued:
                return False
            old, self._inner, self._issued = self._inner, None, set()
            self.renewals += 1
        close = getattr(old, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # closing the old one is a courtesy; the scan goes on  # noqa: BLE001
                pass
        return True

    def close(self) -> None:
        with self._lock:
            inner, self._inner = self._inner, None
        if inner is not None and hasattr(inner, "close"):
            inner.close()


def challenge_error(headers: Any) -> str:
    """The `error` parameter of a Bearer challenge ('' when there is none)."""
    challenge = headers.get("WWW-Authenticate") or "" if headers is not None else ""
    if not challenge.lower().lstrip().startswith("bearer"):
        return ""
    match = _ERROR.search(challenge)
    return match.group(1).lower() if match else ""


class RenewingAuthenticationPolicy(ARMChallengeAuthenticationPolicy):
    """ARM's authentication policy, plus: a token refused as invalid (expired, revoked) is renewed
    and the request sent again, once (azure-core resends when `on_challenge` returns True)."""

    def on_challenge(self, request: Any, response: Any) -> bool:
        if super().on_challenge(request, response):  # a claims challenge (CAE), handled by azure-core
            return True
        if challenge_error(response.http_response.headers) != "invalid_token":
            return False
        refused = (request.http_request.headers.get("Authorization") or "").partition(" ")[2]
        renew = getattr(self._credential, "renew", None)
        if renew is not None:
            renew(refused)
        self.authorize_request(request, *self._scopes)
        return True


def authentication_policy(credential: Any, scope: str) -> RenewingAuthenticationPolicy:
    """One per SDK client: a pipeline links its policies, so an instance cannot be shared."""
    return RenewingAuthenticationPolicy(credential, scope)
