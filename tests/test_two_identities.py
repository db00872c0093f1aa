"""Two identities: the read-only app (auth.clientId) federated to pull_request plans; the
write app (auth.writeClientId) federated only to the protected environment applies; a pull
request never signs in as an app that may write."""

from __future__ import annotations

import pytest

from reconciler.emulator.identity import GITHUB_ISSUER
from reconciler.emulator.server import serve_in_background
from tests.emulated import TENANT_ID, emulator
from tests.tenancy import cli_run

READ_APP = "0a1b2c3d-0000-4000-8000-00000000000a"
WRITE_APP = "0a1b2c3d-0000-4000-8000-00000000000b"
PR_SUBJECT = "repo:acme/identity:pull_request"
ENV_SUBJECT = "repo:acme/identity:environment:production"


@pytest.fixture
def served():
    seed = {"applications": [
        {"appId": READ_APP, "displayName": "reconciler read",
         "federatedIdentityCredentials": [{"issuer": GITHUB_ISSUER, "subject": PR_SUBJECT}]},
        {"appId": WRITE_APP, "displayName": "reconciler write",
         "federatedIdentityCredentials": [{"issuer": GITHUB_ISSUER, "subject": ENV_SUBJECT}]},
    ]}
    em = emulator(seed, anonymous=False)
    origin, server = serve_in_background(em)
    yield em, origin
    server.shutdown()


def folder(tmp_path, origin: str, auth: str):
    from tests.conftest import write_tenant

    return write_tenant(tmp_path, {
        "tenant.yaml": f"tenant: {{id: {TENANT_ID}, domain: contoso.onmicrosoft.com}}\n"
                       f"graph: {{url: \"{origin}\"}}\nauth: {auth}\n",
        "users/a.yaml": "userPrincipalName: a@contoso.onmicrosoft.com\n"
                        "profile: {displayName: A, mailNickname: a}\n"})


def users(em) -> list[str]:
    return [u["userPrincipalName"] for u in em.store.all_objects("user")]


def actions_env(origin: str, event: str) -> dict[str, str]:
    return {"GITHUB_EVENT_NAME": event,
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{origin}/_github/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-request-token"}


TWO = f"{{method: github_oidc, clientId: {READ_APP}, writeClientId: {WRITE_APP}}}"


def test_a_pull_request_plans_as_the_read_app_and_apply_signs_in_as_the_write_app(
        tmp_path, served):
    em, origin = served
    tenant = folder(tmp_path, origin, TWO)
    em.store.set_meta("githubSubject", PR_SUBJECT)
    plan = cli_run("plan", str(tenant), "--out", str(tmp_path / "plan.json"),
                   env=actions_env(origin, "pull_request"))
    assert plan.exit_code == 0, plan.output
    assert users(em) == []  # nothing written
    refused = cli_run("apply", str(tenant), "--plan", str(tmp_path / "plan.json"),
                      env=actions_env(origin, "pull_request"))
    assert refused.exit_code == 1
    assert "refused: a pull_request run never writes to the tenant" in refused.stderr
    em.store.set_meta("githubSubject", ENV_SUBJECT)  # the approved job in the environment
    applied = cli_run("apply", str(tenant), "--plan", str(tmp_path / "plan.json"),
                      env=actions_env(origin, "push"))
    assert applied.exit_code == 0, applied.output
    assert users(em) == ["a@contoso.onmicrosoft.com"]


def test_the_read_app_cannot_stand_in_for_the_write_app(tmp_path, served):
    """The federation is what keeps a pull request from writing: the environment's token
    is not accepted for the read app, nor the pull request's for the write app."""
    em, origin = served
    tenant = folder(tmp_path, origin, TWO)
    em.store.set_meta("githubSubject", PR_SUBJECT)
    applied = cli_run("apply", str(tenant), "--auto-approve", env=actions_env(origin, "push"))
    assert applied.exit_code == 1
    assert "No matching federated identity record" in applied.stderr
    assert users(em) == []


@pytest.mark.parametrize("auth", [
    f"{{method: github_oidc, clientId: {WRITE_APP}}}",
    f"{{method: github_oidc, clientId: {WRITE_APP}, writeClientId: {WRITE_APP}}}",
])
def test_a_pull_request_never_plans_with_an_app_that_may_write(tmp_path, served, auth):
    em, origin = served
    tenant = folder(tmp_path, origin, auth)
    em.store.set_meta("githubSubject", PR_SUBJECT)
    result = cli_run("plan", str(tenant), env=actions_env(origin, "pull_request"))
    assert result.exit_code == 1
    assert "may sign in only as the read-only app" in result.stderr
    assert "auth.writeClientId" in result.stderr
    assert em.stats["tokens"] == 0  # refused before any sign-in


def test_one_client_id_still_works_outside_pull_requests(tmp_path, served):
    """Old tenant files (one clientId) stay valid and keep working for apply and drift."""
    em, origin = served
    tenant = folder(tmp_path, origin, f"{{method: github_oidc, clientId: {WRITE_APP}}}")
    em.store.set_meta("githubSubject", ENV_SUBJECT)
    assert cli_run("validate", str(tenant)).exit_code == 0
    result = cli_run("plan", str(tenant), env=actions_env(origin, "schedule"))
    assert result.exit_code == 0, result.output
