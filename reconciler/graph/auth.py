"""Sign-in with msal: client secret, certificate, or GitHub Actions' OIDC federated credential."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import msal

from reconciler.graph.errors import AuthError, UnreachableError

AUTHORITY_HOST = "https://login.microsoftonline.com"
SCOPES = {
    "graph": ["https://graph.microsoft.com/.default"],
    "exchange": ["https://outlook.office365.com/.default"],
}
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
SECRET_VARIABLE = "RECONCILER_CLIENT_SECRET"
CERT_PATH_VARIABLE = "RECONCILER_CERT_PATH"
CERT_THUMBPRINT_VARIABLE = "RECONCILER_CERT_THUMBPRINT"


def scopes_for(resource: str) -> list[str]:
    """`graph`, `exchange`, or `sharepoint:https://{tenant}.sharepoint.com` (one host each)."""
    if resource.startswith("sharepoint:"):
        return [resource.removeprefix("sharepoint:").rstrip("/") + "/.default"]
    return SCOPES[resource]


class NoAuth:
    """For an anonymous emulator: no Authorization header at all."""

    def token(self, resource: str) -> str | None:
        return None

    def refresh(self, resource: str) -> None:
        return None


class MsalAuth:
    """App-only tokens from msal, cached in memory; `refresh` drops them after a 401."""

    def __init__(self, app: msal.ConfidentialClientApplication, tenant_id: str = "",
                 hint: str = "") -> None:
        self.app = app
        self.tenant_id = tenant_id
        self.hint = hint  # where the credential came from, named when sign-in fails
        self.lock = threading.Lock()

    def token(self, resource: str) -> str | None:
        with self.lock, _signing_in(self.tenant_id):
            result = self.app.acquire_token_for_client(scopes=scopes_for(resource))
        if "access_token" not in result:
            raise AuthError(
                f"sign-in failed: {result.get('error')}: "
                f"{(result.get('error_description') or '').splitlines()[0]}"
                + (f" ({self.hint})" if self.hint else "")
            )
        return result["access_token"]

    def refresh(self, resource: str) -> None:
        with self.lock:
            self.app.remove_tokens_for_client()


class MsalHttp:
    """httpx.Client as msal's http_client: form values msal gives as bytes become text.

    msal signs client assertions as bytes; requests encodes those as text, httpx would send
    the literal "b'...'"; this adapter is the difference.
    """

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def post(self, url: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        if isinstance(data, dict):
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self.http.post(url, data=data, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(url, **kwargs)

    def close(self) -> None:
        """The connection belongs to the caller; msal must not close it."""


def github_oidc_assertion(http: httpx.Client,
                          environ: dict[str, str] | None = None) -> Callable[[], str]:
    """A callable msal calls whenever it needs a fresh GitHub Actions ID token."""
    env = environ if environ is not None else os.environ

    def fetch() -> str:
        url = env.get("ACTIONS_ID_TOKEN_REQUEST_URL")
        bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        if not url or not bearer:
            raise AuthError("auth.method github_oidc needs ACTIONS_ID_TOKEN_REQUEST_URL and "
                            "ACTIONS_ID_TOKEN_REQUEST_TOKEN (give the workflow "
                            "`permissions: id-token: write`)")
        separator = "&" if "?" in url else "?"
        response = http.get(f"{url}{separator}audience={FEDERATED_AUDIENCE}",
                            headers={"Authorization": f"Bearer {bearer}"})
        if response.status_code != 200:
            raise AuthError(f"GitHub OIDC token request failed with HTTP {response.status_code}")
        return response.json()["value"]

    return fetch


def credential_for(method: str, http: httpx.Client,
                   environ: dict[str, str] | None = None) -> Any:
    """msal's client_credential for an auth method, read from the environment."""
    env = environ if environ is not None else os.environ
    if method == "client_secret":
        secret = env.get(SECRET_VARIABLE)
        if not secret:
            raise AuthError(f"auth.method client_secret needs {SECRET_VARIABLE} in the "
                            "environment")
        return secret
    if method == "certificate":
        path, thumbprint = env.get(CERT_PATH_VARIABLE), env.get(CERT_THUMBPRINT_VARIABLE)
        if not path or not thumbprint:
            raise AuthError(f"auth.method certificate needs {CERT_PATH_VARIABLE} (a PEM file) "
                            f"and {CERT_THUMBPRINT_VARIABLE} in the environment")
        try:
            pem = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthError(f"{CERT_PATH_VARIABLE}: cannot read {path}: {exc.strerror}") from exc
        credential: dict[str, Any] = {"private_key": pem, "thumbprint": thumbprint}
        return credential
    if method == "github_oidc":
        if not env.get("ACTIONS_ID_TOKEN_REQUEST_URL"):
            raise AuthError("auth.method github_oidc needs ACTIONS_ID_TOKEN_REQUEST_URL and "
                            "ACTIONS_ID_TOKEN_REQUEST_TOKEN (give the workflow "
                            "`permissions: id-token: write`)")
        return {"client_assertion": github_oidc_assertion(http, dict(env))}
    raise AuthError(f"auth.method {method} has no credential")


def msal_auth(method: str, client_id: str, tenant_id: str, http: httpx.Client,
              environ: dict[str, str] | None = None) -> MsalAuth:
    """A token provider for `method`, talking to the identity platform through `http`."""
    credential = credential_for(method, http, environ)
    with _signing_in(tenant_id):  # msal reads the tenant's discovery document right here
        app = msal.ConfidentialClientApplication(
            client_id,
            authority=f"{AUTHORITY_HOST}/{tenant_id}",
            client_credential=credential,
            http_client=MsalHttp(http),
        )
    return MsalAuth(app, tenant_id, CREDENTIAL_HINTS.get(method, ""))


# Where each method's credential comes from: named when the identity platform rejects it.
CREDENTIAL_HINTS = {
    "client_secret": f"check {SECRET_VARIABLE} and auth.clientId in tenant.yaml",
    "certificate": f"check {CERT_PATH_VARIABLE}, {CERT_THUMBPRINT_VARIABLE} and auth.clientId "
                   "in tenant.yaml",
    "github_oidc": "check the app's federated credential (issuer, subject) and auth.clientId "
                   "in tenant.yaml",
}


@contextmanager
def _signing_in(tenant_id: str) -> Iterator[None]:
    """msal's failures as ours: an unreachable identity platform names where it tried, an
    unknown tenant (msal raises ValueError) names tenant.id."""
    try:
        yield
    except httpx.TransportError as exc:
        raise UnreachableError(f"cannot reach the identity platform at "
                               f"{_where(exc)} ({type(exc).__name__})") from exc
    except ValueError as exc:
        first = (str(exc).splitlines() or [""])[0]
        if "Discovery failed" in first or "authority" in first.lower():
            raise AuthError(f"tenant {tenant_id} is not known to the identity platform "
                            "(tenant.id in tenant.yaml: the directory (tenant) id or "
                            "its onmicrosoft.com domain)") from exc
        raise AuthError(f"sign-in failed: {first[:300]}") from exc


def _where(exc: httpx.TransportError) -> str:
    try:
        url = exc.request.url
    except RuntimeError:
        return AUTHORITY_HOST
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"
