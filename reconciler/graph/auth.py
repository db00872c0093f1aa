"""Sign-in with msal: client secret, certificate, or GitHub Actions' OIDC federated credential."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msal

from reconciler.graph.errors import AuthError

AUTHORITY_HOST = "https://login.microsoftonline.com"
SCOPES = {
    "graph": ["https://graph.microsoft.com/.default"],
    "exchange": ["https://outlook.office365.com/.default"],
}
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
SECRET_VARIABLE = "RECONCILER_CLIENT_SECRET"
CERT_PATH_VARIABLE = "RECONCILER_CERT_PATH"
CERT_THUMBPRINT_VARIABLE = "RECONCILER_CERT_THUMBPRINT"


class NoAuth:
    """For an anonymous emulator: no Authorization header at all."""

    def token(self, resource: str) -> str | None:
        return None

    def refresh(self, resource: str) -> None:
        return None


class MsalAuth:
    """App-only tokens from msal, cached in memory; `refresh` drops them after a 401."""

    def __init__(self, app: msal.ConfidentialClientApplication) -> None:
        self.app = app
        self.lock = threading.Lock()

    def token(self, resource: str) -> str | None:
        with self.lock:
            result = self.app.acquire_token_for_client(scopes=SCOPES[resource])
        if "access_token" not in result:
            raise AuthError(
                f"sign-in failed: {result.get('error')}: "
                f"{(result.get('error_description') or '').splitlines()[0]}"
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
    app = msal.ConfidentialClientApplication(
        client_id,
        authority=f"{AUTHORITY_HOST}/{tenant_id}",
        client_credential=credential_for(method, http, environ),
        http_client=MsalHttp(http),
    )
    return MsalAuth(app)
