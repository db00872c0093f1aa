"""Signing in to a served emulator with msal: secret, certificate, GitHub OIDC; expiry."""

from __future__ import annotations

import datetime
import hashlib
import time

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from reconciler.emulator.identity import DEFAULT_GITHUB_SUBJECT, GITHUB_ISSUER
from reconciler.emulator.server import serve_in_background
from reconciler.emulator.transport import RedirectingTransport
from reconciler.graph.auth import msal_auth
from reconciler.graph.client import GraphClient
from reconciler.graph.errors import AuthError
from tests.emulated import TENANT_ID, emulator, user_body

CLIENT_ID = "0a1b2c3d-0000-4000-8000-000000000001"
SECRET = "emulator-only-secret-value"


def certificate() -> tuple[str, str, str]:
    """(private key PEM, certificate PEM, SHA-1 thumbprint hex) of a fresh self-signed cert."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reconciler-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return key_pem, cert_pem, thumbprint


@pytest.fixture(scope="module")
def cert():
    return certificate()


@pytest.fixture
def served(cert):
    seed = {"applications": [{
        "appId": CLIENT_ID, "displayName": "reconciler CI",
        "passwordCredentials": [{"secretText": SECRET}],
        "keyCredentials": [{"key": cert[1]}],
        "federatedIdentityCredentials": [{"issuer": GITHUB_ISSUER,
                                          "subject": DEFAULT_GITHUB_SUBJECT}],
    }]}
    em = emulator(seed, anonymous=False)
    origin, server = serve_in_background(em)
    yield em, origin
    server.shutdown()


def signed_in(origin: str, method: str, env: dict[str, str]) -> GraphClient:
    http = httpx.Client(transport=RedirectingTransport(origin))
    return GraphClient(http, msal_auth(method, CLIENT_ID, TENANT_ID, http, env))


def test_client_secret_sign_in_reads_the_tenant(served):
    em, origin = served
    graph = signed_in(origin, "client_secret", {"RECONCILER_CLIENT_SECRET": SECRET})
    assert graph.list("/users") == []
    assert em.stats["tokens"] == 1


def test_a_wrong_secret_fails_sign_in_without_echoing_it(served):
    _, origin = served
    graph = signed_in(origin, "client_secret", {"RECONCILER_CLIENT_SECRET": "wrong-value-123"})
    with pytest.raises(AuthError) as caught:
        graph.list("/users")
    assert "AADSTS7000215" in str(caught.value)
    assert "wrong-value-123" not in str(caught.value)


def test_certificate_sign_in(served, cert, tmp_path):
    em, origin = served
    pem = tmp_path / "app.pem"
    pem.write_text(cert[0])
    graph = signed_in(origin, "certificate", {"RECONCILER_CERT_PATH": str(pem),
                                              "RECONCILER_CERT_THUMBPRINT": cert[2]})
    assert graph.list("/users") == []
    assert em.stats["tokens"] == 1


def test_a_certificate_the_app_does_not_know_is_refused(served, tmp_path):
    _, origin = served
    other = certificate()
    pem = tmp_path / "other.pem"
    pem.write_text(other[0])
    graph = signed_in(origin, "certificate", {"RECONCILER_CERT_PATH": str(pem),
                                              "RECONCILER_CERT_THUMBPRINT": other[2]})
    with pytest.raises(AuthError, match="AADSTS700027"):
        graph.list("/users")


def github_env(origin: str) -> dict[str, str]:
    return {"ACTIONS_ID_TOKEN_REQUEST_URL": f"{origin}/_github/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-request-token"}


def test_github_oidc_federated_sign_in(served):
    em, origin = served
    graph = signed_in(origin, "github_oidc", github_env(origin))
    assert graph.list("/users") == []
    assert em.stats["tokens"] == 1


def test_github_oidc_with_an_unknown_subject_is_refused(served):
    em, origin = served
    em.store.set_meta("githubSubject", "repo:someone/else:ref:refs/heads/main")
    graph = signed_in(origin, "github_oidc", github_env(origin))
    with pytest.raises(AuthError, match="No matching federated identity record"):
        graph.list("/users")


def test_github_oidc_without_the_runner_variables_says_what_is_missing():
    with pytest.raises(AuthError, match="id-token: write"):
        signed_in("http://127.0.0.1:9", "github_oidc", {}).list("/users")


@pytest.mark.parametrize("method", ["client_secret", "github_oidc"])
def test_an_expired_token_is_renewed_mid_run_without_losing_a_request(served, method):
    em, origin = served
    em.faults.token_ttl = 1
    env = {"RECONCILER_CLIENT_SECRET": SECRET, **github_env(origin)}
    graph = signed_in(origin, method, env)
    created = graph.write("POST", "/users", user_body("first@contoso.onmicrosoft.com"))
    assert created.ok
    time.sleep(2.1)  # the token dies on the server while msal still holds it as valid
    result = graph.write("PATCH", f"/users/{created.body['id']}", {"jobTitle": "Engineer"})
    assert result.ok
    assert em.stats["expired_tokens"] == 1
    assert em.stats["tokens"] == 2
    updates = [a for a in em.store.audits() if a["activityDisplayName"] == "Update user"]
    assert len(updates) == 1


def test_requests_without_a_token_get_graphs_401(served):
    _, origin = served
    response = httpx.get(f"{origin}/v1.0/users")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_tokens_and_secrets_never_reach_logs_or_errors(served, caplog):
    import logging

    em, origin = served
    caplog.set_level(logging.DEBUG)
    graph = signed_in(origin, "client_secret", {"RECONCILER_CLIENT_SECRET": SECRET})
    graph.list("/users")
    failed = graph.write("PATCH", "/users/00000000-0000-4000-8000-000000000000", {"city": "x"})
    token = graph.sender.tokens.token("graph")
    text = caplog.text + str(failed.error)
    assert token and token not in text and SECRET not in text


def test_the_audit_log_names_the_calling_application(served):
    em, origin = served
    graph = signed_in(origin, "client_secret", {"RECONCILER_CLIENT_SECRET": SECRET})
    assert graph.write("POST", "/users", user_body("audited@contoso.onmicrosoft.com")).ok
    app = em.store.audits()[-1]["initiatedBy"]["app"]
    assert app["appId"] == CLIENT_ID and app["displayName"] == "reconciler CI"
