"""FQDN patterns of application rules, read as the sets of host names they match.

Azure Firewall matches a target FQDN either exactly or, when it starts with `*`, as a suffix: the
pattern `*X` matches every host name that ends with `X`. So `*.com` matches every name under the
public suffix `com`, and so do `*com` and `*m`; `*.co.uk` every name under `co.uk`. Whether a
pattern is broad is therefore a question about suffixes, answered against the Public Suffix List
(the ICANN section, shipped inside the `publicsuffixlist` package: no download at run time) and
against a list of domains anyone can host content under (storage accounts, web apps, CDNs), which
is the checks' configurable option because which of them an estate accepts is policy.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import publicsuffixlist

# Domains under which anyone can publish content with a free account: a wildcard over one of
# them lets a workload reach an attacker's bucket, site or tunnel. Reference architectures allow
# some (for example `*.blob.core.windows.net` for storage), so this is a finding users scope.
DEFAULT_MULTI_TENANT_DOMAINS = (
    "blob.core.windows.net", "web.core.windows.net", "file.core.windows.net", "queue.core.windows.net",
    "table.core.windows.net", "dfs.core.windows.net", "azurewebsites.net", "azurestaticapps.net",
    "azureedge.net", "azurefd.net", "cloudapp.azure.com", "cloudapp.net", "trafficmanager.net",
    "servicebus.windows.net", "azurecr.io", "cloudfront.net", "s3.amazonaws.com", "amazonaws.com",
    "storage.googleapis.com", "appspot.com", "web.app", "firebaseapp.com", "github.io",
    "githubusercontent.com", "herokuapp.com", "netlify.app", "vercel.app", "pages.dev", "workers.dev",
    "ngrok.io", "ngrok-free.app",
)


def target_host(target: str) -> str:
    """The host part of a target FQDN or URL (`https://*.x.com/path` -> `*.x.com`), normalised."""
    host = target.strip().lower()
    if "://" in host:
        host = host.split("://", 1)[1]
    return host.split("/", 1)[0].rstrip(".")


def matches(pattern: str, host: str) -> bool:
    """Whether the application-rule pattern matches one host name."""
    pattern, host = target_host(pattern), host.strip().lower().rstrip(".")
    if pattern.startswith("*"):
        return host.endswith(pattern[1:])
    return pattern == host


def every_name(pattern: str) -> bool:
    """`*` (and the `*.*` some users write) match every host name."""
    return target_host(pattern) in ("*", "*.*")


@lru_cache(maxsize=1)
def _icann_rules() -> tuple[str, ...]:
    """The ICANN section of the packaged Public Suffix List, wildcard rules as their parent.

    Read on first use only: a scan whose application rules hold no wildcard never pays for it.
    Internationalised suffixes stay in their Unicode form here (see `_icann_suffixes`).
    """
    data = Path(publicsuffixlist.__file__).with_name("public_suffix_list.dat").read_text(encoding="utf-8")
    body = data.split("===BEGIN ICANN DOMAINS===", 1)[-1].split("===END ICANN DOMAINS===", 1)[0]
    found: set[str] = set()
    for line in body.splitlines():
        rule = line.strip().lower()
        if rule and not rule.startswith(("//", "!")):
            found.add(rule.removeprefix("*."))
    return tuple(sorted(found))


@lru_cache(maxsize=1)
def _punycode_suffixes() -> frozenset[str]:
    """The internationalised suffixes in the ASCII (punycode) form users also write them in.

    Apart because encoding a thousand names costs more than reading the whole list, and only a
    pattern holding `xn--`, or a tail within one label (`*p1ai`), can match every name under one.
    """
    found: set[str] = set()
    for rule in _icann_rules():
        if not rule.isascii():
            try:
                found.add(rule.encode("idna").decode("ascii"))
            except UnicodeError:
                pass
    return frozenset(found)


def _icann_suffixes(tail: str) -> tuple[str, ...]:
    """The suffixes a pattern ending in `tail` may cover (punycode ones only when it could be one)."""
    could_be_punycode = "xn--" in tail or "." not in tail
    return (*_icann_rules(), *sorted(_punycode_suffixes())) if could_be_punycode else _icann_rules()


@lru_cache(maxsize=1)
def _icann_set() -> frozenset[str]:
    return frozenset(_icann_rules())


def _is_icann_suffix(domain: str) -> bool:
    return domain in _icann_set() or ("xn--" in domain and domain in _punycode_suffixes())


@lru_cache(maxsize=8192)
def public_suffix_covered(pattern: str) -> str | None:
    """A public suffix every name under which the pattern matches (`*.co.uk` -> `co.uk`), or None."""
    host = target_host(pattern)
    if not host.startswith("*") or every_name(host):
        return None
    tail = host[1:]
    if tail.startswith(".") and "*" not in tail:
        # The usual spelling, '*.<domain>': a public suffix exactly when the domain is one.
        return tail[1:] if _is_icann_suffix(tail[1:]) else None
    for suffix in _icann_suffixes(tail):
        if ("." + suffix).endswith(tail):
            return suffix
    return None


def domain_covered(pattern: str, domains: tuple[str, ...]) -> str | None:
    """One of `domains` every name under which the pattern matches, or None."""
    host = target_host(pattern)
    if not host.startswith("*"):
        return None
    tail = host[1:]
    for domain in domains:
        if ("." + domain.strip().lower().rstrip(".")).endswith(tail):
            return domain
    return None
