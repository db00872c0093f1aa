"""Every failure a user can cause or meet ends in one `Error:` line with the fix, never a
traceback: each case runs the real command line in its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.emulator.server import serve_in_background
from tests.conftest import REPO
from tests.emulated import TENANT_ID, emulator

CLIENT_ID = "0a1b2c3d-0000-4000-8000-000000000001"
SECRET = "emulator-only-secret-value"
OTHER_TENANT = "99999999-2222-4333-8444-555555555555"


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("RECONCILER_", "GITHUB_", "ACTIONS_"))}
    return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=120,
                          env={**environ, "PYTHONPATH": str(REPO), **env})


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The failure's one `Error:` line; no traceback anywhere, exit 1."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    assert " Fix: " in errors[0] or "Fix:" in errors[0]
    return errors[0]


def tenant(root: Path, tenant_id: str, url: str, method: str = "client_secret") -> Path:
    folder = root / "t"
    (folder / "users").mkdir(parents=True, exist_ok=True)
    (folder / "tenant.yaml").write_text(
        f"tenant: {{id: {tenant_id}, domain: contoso.onmicrosoft.com}}\n"
        f"graph: {{url: \"{url}\"}}\n"
        f"auth: {{method: {method}, clientId: {CLIENT_ID}}}\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def served():
    seed = {"applications": [{"appId": CLIENT_ID, "displayName": "reconciler CI",
                              "passwordCredentials": [{"secretText": SECRET}]}]}
    origin, server = serve_in_background(emulator(seed, anonymous=False))
    yield origin
    server.shutdown()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_host_names_the_url(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    line = one_error_line(run("plan", str(tenant(tmp_path, TENANT_ID, url)),
                              RECONCILER_CLIENT_SECRET=SECRET))
    assert f"cannot reach the identity platform at {url}" in line
    assert "graph.url" in line


def test_an_unknown_tenant_id_names_tenant_id(tmp_path, served):
    line = one_error_line(run("plan", str(tenant(tmp_path, OTHER_TENANT, served)),
                              RECONCILER_CLIENT_SECRET=SECRET))
    assert f"tenant {OTHER_TENANT} is not known" in line and "tenant.id" in line


def test_a_wrong_secret_names_the_variable_and_never_the_secret(tmp_path, served):
    line = one_error_line(run("plan", str(tenant(tmp_path, TENANT_ID, served)),
                              RECONCILER_CLIENT_SECRET="wrong-value-123"))
    assert "AADSTS7000215" in line and "RECONCILER_CLIENT_SECRET" in line
    assert "wrong-value-123" not in line


def test_a_missing_secret_names_the_variable(tmp_path, served):
    line = one_error_line(run("plan", str(tenant(tmp_path, TENANT_ID, served))))
    assert "needs RECONCILER_CLIENT_SECRET in the environment" in line


def test_the_right_secret_plans(tmp_path, served):
    done = run("plan", str(tenant(tmp_path, TENANT_ID, served)),
               RECONCILER_CLIENT_SECRET=SECRET)
    assert done.returncode == 0, done.stderr
    assert "No changes" in done.stdout


@pytest.mark.parametrize("content, expected", [
    ("", "is empty"),
    ('{"a": 1}', "not a reconciler plan"),
    ('{"format": 1}', "not a reconciler plan"),
    ("[1, 2", "cannot read the plan"),
])
def test_an_empty_or_foreign_plan_file(tmp_path, content, expected):
    plan = tmp_path / "plan.json"
    plan.write_text(content, encoding="utf-8")
    line = one_error_line(run("ci", "comment-body", str(plan)))
    assert expected in line and "reconciler plan --format json" in line
    missing = one_error_line(run("ci", "comment-body", str(tmp_path / "nope.json")))
    assert "nope.json" in missing


def test_apply_with_a_foreign_plan_file(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text('{"a": 1}', encoding="utf-8")
    line = one_error_line(run("apply", str(REPO / "tenants" / "demo"), "--plan", str(plan)))
    assert "not a reconciler plan" in line


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout


def test_an_all_zero_base_compares_with_the_default_branch(tmp_path):
    for name in ("alpha", "beta"):
        (tmp_path / "tenants" / name).mkdir(parents=True)
        (tmp_path / "tenants" / name / "tenant.yaml").write_text("x: 1\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "one")
    zero = "0" * 40
    first = run("ci", "changed-tenants", "--base", zero, "--json", cwd=tmp_path)
    assert first.returncode == 0 and "Traceback" not in first.stderr
    assert first.stdout.strip() == '["tenants/alpha", "tenants/beta"]'  # all new on main
    git(tmp_path, "checkout", "-qb", "feature")
    (tmp_path / "tenants" / "beta" / "new.yaml").write_text("y: 1\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "two")
    branch = run("ci", "changed-tenants", "--base", zero, "--json", cwd=tmp_path)
    assert branch.returncode == 0, branch.stderr
    assert branch.stdout.strip() == '["tenants/beta"]'  # since it left main
    unknown = one_error_line(run("ci", "changed-tenants", "--base", "1" * 40, cwd=tmp_path))
    assert "not in this clone" in unknown and "fetch-depth: 0" in unknown


def test_an_unexpected_failure_is_one_line_too(monkeypatch, tenant_folder):
    """Whatever escapes the handlers: one line, and the traceback only on request."""
    import reconciler.reconcile
    from tests.tenancy import cli_run

    def broken(*_args, **_kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(reconciler.reconcile, "run_plan", broken)
    folder = tenant_folder({})
    result = cli_run("plan", str(folder))
    assert result.exit_code == 1 and result.exception is None or \
        isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [
        "Error: unexpected KeyError: 'surprise'. Fix: this is a bug in reconciler; run again "
        "with RECONCILER_DEBUG=1 and report the traceback it prints."]
    debug = cli_run("plan", str(folder), env={"RECONCILER_DEBUG": "1"})
    assert isinstance(debug.exception, KeyError)
