"""The identity platform's side: discovery, the token endpoint, and bearer-token checks."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import jwt
from cryptography import x509

from reconciler.emulator.wire import GraphError, Request, Response

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

AUDIENCES = {
    "https://graph.microsoft.com/.default": ("graph", "https://graph.microsoft.com"),
    "https://outlook.office365.com/.default": ("exchange", "https://outlook.office365.com"),
}
REPORTED_EXPIRES_IN = 3599
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_GITHUB_SUBJECT = "repo:example/identity:environment:production"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


_SHAREPOINT_SCOPE = re.compile(r"^(https://[a-z0-9-]+(?:-admin)?\.sharepoint\.com)/\.default$")


def audience_of(scope: str) -> tuple[str, str] | None:
    """(service, token audience) for a `.default` scope: Graph, Exchange or a SharePoint host."""
    if scope in AUDIENCES:
        return AUDIENCES[scope]
    found = _SHAREPOINT_SCOPE.match(scope.lower())
    return ("sharepoint", found.group(1)) if found else None


def handles(path: str) -> bool:
    return (path.endswith("/oauth2/v2.0/token") or "/.well-known/openid-configuration" in path
            or path.startswith("/common/discovery/instance") or path == "/_github/token")


def answer(em: Emulator, request: Request) -> Response:
    path = request.path
    if path.startswith("/common/discovery/instance"):
        return Response.of_json(200, {
            "tenant_discovery_endpoint":
                f"{request.origin}/{em.tenant_id}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": "login.microsoftonline.com",
                          "preferred_cache": "login.windows.net",
                          "aliases": ["login.microsoftonline.com", "login.windows.net",
                                      "login.microsoft.com", "sts.windows.net"]}],
        })
    if "/.well-known/openid-configuration" in path:
        tenant = path.strip("/").split("/")[0]
        _check_tenant(em, tenant)
        base = f"{request.origin}/{em.tenant_id}"
        return Response.of_json(200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"https://login.microsoftonline.com/{em.tenant_id}/v2.0",
            "jwks_uri": f"{request.origin}/{em.tenant_id}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported":
                ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "tenant_region_scope": "EU",
        })
    if path == "/_github/token":
        return _github_token(em, request)
    return _token(em, request, path.strip("/").split("/")[0])


def _check_tenant(em: Emulator, tenant: str) -> None:
    known = {em.tenant_id, "common", "organizations", em.store.get_meta("domain") or ""}
    if tenant not in known:
        raise _aad_error(400, "invalid_request", 90002,
                         f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                         "tenant ID and are signing into the correct cloud.")


def _aad_error(status: int, error: str, code: int, text: str) -> GraphError:
    failure = GraphError(status, error, f"AADSTS{code}: {text}")
    failure.aad = {"error": error, "error_description": f"AADSTS{code}: {text}",
                   "error_codes": [code], "trace_id": str(uuid.uuid4()),
                   "correlation_id": str(uuid.uuid4())}
    return failure


def _token(em: Emulator, request: Request, tenant: str) -> Response:
    try:
        _check_tenant(em, tenant)
        form = dict(parse_qsl(request.body.decode()))
        if form.get("grant_type") != "client_credentials":
            raise _aad_error(400, "unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type.")
        client_id = form.get("client_id", "")
        scope = form.get("scope", "").split(" ")
        target = next((audience_of(s) for s in scope if audience_of(s)), None)
        if target is None:
            raise _aad_error(400, "invalid_scope", 1002012,
                             f"The provided value for scope {form.get('scope')} is not valid. "
                             "Client credential flows must have a scope value with /.default.")
        app = _authenticate(em, client_id, form)
        # appidacr: 1 = the app proved itself with a secret, 2 = with a certificate/assertion
        acr = "1" if "client_secret" in form else "2"
    except GraphError as failure:
        body = getattr(failure, "aad", {"error": failure.code, "error_description": str(failure)})
        return Response.of_json(failure.status, body)
    issued = time.time()
    now = int(issued)
    lifetime = em.faults.token_ttl if em.faults.token_ttl else REPORTED_EXPIRES_IN + 1
    claims = {
        "aud": target[1], "iss": f"https://sts.windows.net/{em.tenant_id}/",
        "iat": now, "nbf": now, "exp": math.ceil(issued + lifetime), "tid": em.tenant_id,
        "appid": client_id, "appidacr": acr, "app_displayname": app.get("displayName", client_id),
        "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)), "idtyp": "app",
        "jti": str(uuid.uuid4()),
    }
    token = jwt.encode(claims, em.signing_key, algorithm="HS256")
    with em.stats_lock:
        em.stats["tokens"] += 1
    return Response.of_json(200, {"token_type": "Bearer", "expires_in": REPORTED_EXPIRES_IN,
                                  "ext_expires_in": REPORTED_EXPIRES_IN, "access_token": token})


def _authenticate(em: Emulator, client_id: str, form: dict[str, str]) -> dict[str, Any]:
    apps = em.store.items("tenant", "application")
    app = next((a for a in apps if a.get("appId") == client_id), None)
    if apps and app is None:
        raise _aad_error(400, "unauthorized_client", 700016,
                         f"Application with identifier '{client_id}' was not found in the "
                         f"directory '{em.tenant_id}'.")
    app = app or {}
    if "client_secret" in form:
        secrets = [c.get("secretText") for c in app.get("passwordCredentials", [])]
        if app and form["client_secret"] not in secrets:
            raise _aad_error(401, "invalid_client", 7000215,
                             "Invalid client secret provided. Ensure the secret being sent in "
                             "the request is the client secret value, not the client secret ID.")
        return app
    if form.get("client_assertion_type") == ASSERTION_TYPE and form.get("client_assertion"):
        _check_assertion(em, app, client_id, form["client_assertion"])
        return app
    raise _aad_error(401, "invalid_client", 7000218,
                     "The request body must contain the following parameter: 'client_assertion' "
                     "or 'client_secret'.")


def _check_assertion(em: Emulator, app: dict[str, Any], client_id: str, assertion: str) -> None:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _aad_error(401, "invalid_client", 50027,
                         "JWT token is invalid or malformed.") from exc
    if claims.get("iss") == GITHUB_ISSUER or claims.get("aud") == FEDERATED_AUDIENCE:
        federated = app.get("federatedIdentityCredentials", [])
        if app and not any(f.get("issuer") == claims.get("iss")
                           and f.get("subject") == claims.get("sub") for f in federated):
            raise _aad_error(400, "invalid_request", 70021,
                             "No matching federated identity record found for presented "
                             f"assertion. Assertion Issuer: '{claims.get('iss')}'. Assertion "
                             f"Subject: '{claims.get('sub')}'.")
        if claims.get("exp", 0) < time.time():
            raise _aad_error(400, "invalid_client", 700024, "Client assertion is not within its "
                             "valid time range.")
        return
    if claims.get("sub") != client_id:
        raise _aad_error(401, "invalid_client", 700023,
                         "Client assertion audience claim does not match Realm issuer.")
    for credential in app.get("keyCredentials", []):
        certificate = x509.load_pem_x509_certificate(credential["key"].encode())
        thumbprints = {
            base64.urlsafe_b64encode(certificate.fingerprint(algorithm)).decode().rstrip("=")
            for algorithm in (_sha1(), _sha256())
        }
        presented = {str(header.get(k, "")).rstrip("=") for k in ("x5t", "x5t#S256")}
        if presented & thumbprints:
            try:
                jwt.decode(assertion, certificate.public_key(), algorithms=["RS256", "PS256"],
                           options={"verify_aud": False})
            except jwt.PyJWTError as exc:
                raise _aad_error(401, "invalid_client", 700027,
                                 "Client assertion failed signature validation.") from exc
            return
    if app.get("keyCredentials"):
        raise _aad_error(401, "invalid_client", 700027,
                         "The certificate with identifier used to sign the client assertion is "
                         "not registered on application.")


def _sha1() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA1()  # noqa: S303 - Entra's legacy x5t thumbprint is SHA-1


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _github_token(em: Emulator, request: Request) -> Response:
    """A stand-in for GitHub Actions' OIDC endpoint (ACTIONS_ID_TOKEN_REQUEST_URL)."""
    if not request.headers.get("authorization", "").lower().startswith("bearer "):
        return Response.of_json(401, {"message": "Bad credentials"})
    now = int(time.time())
    claims = {"iss": GITHUB_ISSUER, "aud": request.query.get("audience", FEDERATED_AUDIENCE),
              "sub": em.store.get_meta("githubSubject") or DEFAULT_GITHUB_SUBJECT,
              "iat": now, "nbf": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    return Response.of_json(200, {"value": jwt.encode(claims, em.signing_key, "HS256")})


def check_bearer(em: Emulator, request: Request, audience: str) -> dict[str, Any]:
    """The token's claims, or the 401 Graph gives for a missing, malformed or expired one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not token or scheme.lower() != "bearer":
        raise _unauthorized("Access token is empty.")
    try:
        claims = jwt.decode(token, em.signing_key, algorithms=["HS256"],
                            options={"verify_aud": False, "verify_exp": False})
    except jwt.PyJWTError as exc:
        raise _unauthorized("IDX14100: JWT is not well formed, there are no dots (.).") from exc
    if audience == "sharepoint":
        _check_sharepoint(claims)
    else:
        expected = "https://outlook.office365.com" if audience == "exchange" else \
            "https://graph.microsoft.com"
        if claims.get("aud") != expected:
            raise _unauthorized("Invalid audience.")
    if claims.get("exp", 0) < time.time():
        with em.stats_lock:
            em.stats["expired_tokens"] += 1
        raise _unauthorized("Lifetime validation failed, the token is expired.")
    return claims


def _check_sharepoint(claims: dict[str, Any]) -> None:
    """SharePoint REST takes only a SharePoint-audience token proven with a certificate."""
    if not str(claims.get("aud", "")).endswith(".sharepoint.com"):
        raise GraphError(401, "Unauthorized", "Invalid audience Uri 'https://graph.microsoft.com'.")
    if claims.get("appidacr") != "2":
        raise GraphError(401, "Unauthorized", "Unsupported app only token.")


def _unauthorized(message: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message, {
        "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline'
                            '.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-'
                            '000000000000"'})


def new_signing_key() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()
