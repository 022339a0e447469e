"""Renewing a refused token: the pieces the fault matrix's token-expiry row runs end to end.

The credentials here are tiny stand-ins for the Azure credential protocol (`get_token_info`),
not mocks of aksaudit or SDK methods: what is tested is our wrapper's bookkeeping.
"""
from __future__ import annotations

import itertools
import threading

from azure.core.credentials import AccessTokenInfo

from aksaudit.collect.renewal import RenewableCredential, challenge_error


class Issuer:
    """A credential that caches one token until it is replaced, as MSAL's cache does."""

    serial = itertools.count(1)

    def __init__(self) -> None:
        self.token = f"token-{next(self.serial)}"
        self.closed = False

    def get_token_info(self, *scopes, options=None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, 2_000_000_000)

    def close(self) -> None:
        self.closed = True


def test_a_refused_token_gets_a_fresh_credential_and_a_new_token():
    built: list[Issuer] = []
    credential = RenewableCredential(lambda: built.append(Issuer()) or built[-1])
    first = credential.get_token_info("scope").token
    assert credential.get_token_info("scope").token == first  # cached, like the real thing
    assert credential.renew(first) is True and built[0].closed
    assert credential.get_token_info("scope").token != first and len(built) == 2


def test_threads_that_saw_the_same_401_renew_once():
    built: list[Issuer] = []
    credential = RenewableCredential(lambda: built.append(Issuer()) or built[-1])
    refused = credential.get_token_info("scope").token
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(credential.renew(refused))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1 and credential.renewals == 1
    assert credential.renew("a token it never issued") is False


def test_only_an_invalid_token_challenge_asks_for_renewal():
    assert challenge_error({"WWW-Authenticate": 'Bearer authorization_uri="https://login", error="invalid_token", '
                                                'error_description="The access token has expired"'}) == "invalid_token"
    assert challenge_error({"WWW-Authenticate": 'Bearer error="insufficient_claims", claims="e30="'}) == \
        "insufficient_claims"
    assert challenge_error({"WWW-Authenticate": 'Basic realm="x"'}) == ""
    assert challenge_error({}) == ""
