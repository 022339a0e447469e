"""Getting a token, and saying plainly what to do when that fails.

Production uses `DefaultAzureCredential`, which already covers the ways scans run: environment
service principals, workload identity (GitHub OIDC, Kubernetes), managed identity and an Azure
CLI login. Tests hand in their own credential (a client secret against a recorded or emulated
token endpoint), so the credential is a parameter everywhere and built here only by default.
"""
from __future__ import annotations

from typing import Any

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from .clouds import Cloud
from .errors import CannotStart

CREDENTIAL_SOURCES = (
    "environment (AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH)",
    "workload identity (AZURE_FEDERATED_TOKEN_FILE, e.g. GitHub OIDC or AKS workload identity)",
    "managed identity",
    "Azure CLI ('az login')",
    "Azure PowerShell and Azure Developer CLI logins",
)


class AuthenticationFailed(CannotStart):
    """No token, or a token Azure refuses: the scan cannot start (exit 2)."""


def default_credential(cloud: Cloud) -> Any:
    """DefaultAzureCredential for the cloud; instance discovery only works for Microsoft's own hosts."""
    from azure.identity import DefaultAzureCredential

    options: dict[str, Any] = {"authority": cloud.authority_host}
    if cloud.custom_authority:
        options["disable_instance_discovery"] = True
    return DefaultAzureCredential(**options)


def is_auth_failure(error: BaseException) -> bool:
    """A failure no retry can fix: no credential, or ARM rejecting the token (401)."""
    if isinstance(error, ClientAuthenticationError):
        return True
    return isinstance(error, HttpResponseError) and error.status_code == 401


def auth_failure(error: BaseException, cloud: Cloud) -> AuthenticationFailed:
    """An actionable message: what was tried, and what to run or set."""
    detail = str(getattr(error, "message", None) or error).strip()
    sources = "\n".join(f"  - {source}" for source in CREDENTIAL_SOURCES)
    return AuthenticationFailed(
        f"could not authenticate to Azure ({cloud.name}, authority {cloud.authority_host}).\n"
        f"{detail}\n"
        f"DefaultAzureCredential looks for a credential in this order, stopping at the first that is "
        f"configured:\n{sources}\n"
        f"To fix: run 'az login' (add '--tenant <tenant id>' if you belong to several tenants, and "
        f"'az cloud set --name {cloud.name}' for a national cloud), or set AZURE_TENANT_ID, AZURE_CLIENT_ID "
        f"and AZURE_CLIENT_SECRET for a service principal. The identity needs only the Reader role on "
        f"the subscriptions or management groups you scan.")
