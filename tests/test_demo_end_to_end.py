"""The demo tenant end to end: in-process, and over loopback with msal sign-in."""

from __future__ import annotations

import json
import shutil

import pytest

from reconciler.emulator.app import Emulator
from reconciler.emulator.server import serve_in_background
from reconciler.emulator.store import Store
from tests.conftest import DEMO
from tests.tenancy import cli_run

CLIENT_ID = "0a1b2c3d-0000-4000-8000-000000000099"
SECRET = "demo-only-client-secret"


def PASSWORDS_OUT(demo):  # noqa: N802 - reads as the option it stands for
    return ("--password-out", str(demo.parent / "passwords.tsv"))


@pytest.fixture
def demo(tmp_path):
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns(".reconciler"))
    return folder


def writes(db) -> int:
    return len(Store(db).audits())


def test_the_demo_plans_applies_and_then_has_no_changes(demo):
    first = cli_run("plan", str(demo), "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "will be created" in first.stdout and "will be deleted" in first.stdout
    applied = cli_run("apply", str(demo), "--auto-approve", *PASSWORDS_OUT(demo))
    assert applied.exit_code == 0, applied.output
    assert "0 failed, 0 unknown, 0 skipped" in applied.stdout
    again = cli_run("plan", str(demo), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes. The tenant matches the desired state." in again.stdout
    database = demo / ".reconciler" / "emulator.db"
    before = writes(database)
    second = cli_run("apply", str(demo), "--auto-approve", *PASSWORDS_OUT(demo))
    assert second.exit_code == 0
    assert writes(database) == before  # a second apply sends no write at all


def test_the_demo_over_loopback_with_msal_sign_in(demo, tmp_path):
    """Certificate sign-in (SharePoint takes no other app-only proof) end to end; a client
    secret signs in to Graph and Exchange but the demo's SharePoint entries are refused."""
    from tests.test_auth import certificate

    key_pem, cert_pem, thumbprint = certificate()
    pem = tmp_path / "key.pem"
    pem.write_text(key_pem)
    seed = json.loads((demo / "emulator-seed.json").read_text())
    seed["applications"] = [{"appId": CLIENT_ID, "displayName": "reconciler demo",
                             "passwordCredentials": [{"secretText": SECRET}],
                             "keyCredentials": [{"key": cert_pem}]}]
    emulator = Emulator(tmp_path / "served.db", seed=seed)
    origin, server = serve_in_background(emulator)
    try:
        tenant = (demo / "tenant.yaml").read_text()
        tenant = tenant.replace("url: emulator:.reconciler/emulator.db", f"url: {origin}")
        by_certificate = tenant.replace("method: none              # the in-process emulator "
                                        "needs no sign-in",
                                        f"method: certificate\n  clientId: {CLIENT_ID}")
        (demo / "tenant.yaml").write_text(by_certificate)
        env = {"RECONCILER_CERT_PATH": str(pem), "RECONCILER_CERT_THUMBPRINT": thumbprint}
        assert cli_run("plan", str(demo), "--detailed-exitcode", env=env).exit_code == 2
        applied = cli_run("apply", str(demo), "--auto-approve", *PASSWORDS_OUT(demo), env=env)
        assert applied.exit_code == 0, applied.output
        again = cli_run("plan", str(demo), "--detailed-exitcode", env=env)
        assert again.exit_code == 0, again.output
        assert emulator.stats["tokens"] >= 3  # each run signed in through msal
        apps = {a["initiatedBy"]["app"]["appId"] for a in emulator.store.audits()}
        assert apps == {CLIENT_ID}
        by_secret = by_certificate.replace("method: certificate", "method: client_secret")
        (demo / "tenant.yaml").write_text(by_secret)
        secret = cli_run("plan", str(demo), env={"RECONCILER_CLIENT_SECRET": SECRET})
        assert secret.exit_code == 1
        assert "SharePoint accepts app-only tokens proven with a certificate only" in \
            secret.stderr
        wrong = cli_run("plan", str(demo), env={"RECONCILER_CLIENT_SECRET": "wrong"})
        assert wrong.exit_code == 1 and "AADSTS7000215" in wrong.stderr
    finally:
        server.shutdown()
