"""Which Entra ID authority and Resource Manager endpoint a scan talks to.

Each national cloud has its own sign-in host, its own ARM endpoint and its own token audience;
mixing them fails with confusing 401s, so they travel together as one `Cloud`. Two environment
variables can point a scan elsewhere (Azure Stack Hub, a private test endpoint):
`AZURE_AUTHORITY_HOST`, which azure-identity itself honours, and `AKSAUDIT_ARM_ENDPOINT`. The
token audience always stays the cloud's, so an override never changes what the token is for.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Mapping
from urllib.parse import urlsplit

from .errors import CannotStart

ARM_ENDPOINT_ENV = "AKSAUDIT_ARM_ENDPOINT"
AUTHORITY_ENV = "AZURE_AUTHORITY_HOST"


@dataclass(frozen=True)
class Cloud:
    """Endpoints of one Azure cloud; `custom_authority` disables Entra instance discovery."""

    name: str
    authority_host: str  # host name only, as azure-identity expects ("login.microsoftonline.com")
    resource_manager: str  # "https://management.azure.com"
    audience: str  # what tokens are requested for
    custom_authority: bool = False

    @property
    def scope(self) -> str:
        return self.audience.rstrip("/") + "/.default"


CLOUDS: Mapping[str, Cloud] = {
    "AzureCloud": Cloud("AzureCloud", "login.microsoftonline.com", "https://management.azure.com",
                        "https://management.azure.com"),
    "AzureUSGovernment": Cloud("AzureUSGovernment", "login.microsoftonline.us", "https://management.usgovcloudapi.net",
                               "https://management.usgovcloudapi.net"),
    "AzureChinaCloud": Cloud("AzureChinaCloud", "login.chinacloudapi.cn", "https://management.chinacloudapi.cn",
                             "https://management.chinacloudapi.cn"),
}
KNOWN_AUTHORITY_HOSTS = frozenset(c.authority_host for c in CLOUDS.values())


class CloudError(CannotStart):
    """An unknown cloud name or a malformed endpoint override."""


def _host(value: str) -> str:
    """azure-identity wants a bare host; people also paste 'https://host/'."""
    value = value.strip()
    return (urlsplit(value).netloc or value) if "://" in value else value.rstrip("/")


def resolve_cloud(name: str = "AzureCloud", environ: Mapping[str, str] | None = None) -> Cloud:
    """The named cloud, with the documented environment overrides applied."""
    environ = os.environ if environ is None else environ
    if name not in CLOUDS:
        raise CloudError(f"unknown cloud '{name}' (choose one of: {', '.join(CLOUDS)})")
    cloud = CLOUDS[name]
    authority = environ.get(AUTHORITY_ENV, "").strip()
    if authority:
        host = _host(authority)
        cloud = replace(cloud, authority_host=host, custom_authority=host not in KNOWN_AUTHORITY_HOSTS)
    endpoint = environ.get(ARM_ENDPOINT_ENV, "").strip()
    if endpoint:
        if not endpoint.startswith("https://"):
            raise CloudError(f"{ARM_ENDPOINT_ENV} must be an https:// URL, got '{endpoint}'")
        cloud = replace(cloud, resource_manager=endpoint.rstrip("/"))
    return cloud
