"""The GitHub side, tested locally: changed tenants, comment and issue bodies, workflows."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from reconciler import gitops
from reconciler.plan.change import Plan
from reconciler.plan.planfile import load
from tests.conftest import REPO
from tests.tenancy import cli_run

GOLDEN = Path(__file__).parent / "golden"
WORKFLOWS = REPO / ".github" / "workflows"


def test_changed_tenants_from_paths():
    existing = ["tenants/a", "tenants/b", "tenants/c"]
    assert gitops.changed_tenants(["tenants/b/users/x.yaml", "README.md"], "tenants",
                                  existing) == ["tenants/b"]
    assert gitops.changed_tenants(["tenants/gone/tenant.yaml"], "tenants", existing) == []
    assert gitops.changed_tenants(["schemas/user.schema.json"], "tenants", existing) == existing
    assert gitops.changed_tenants(["docs/x.md"], "tenants", existing) == []


def test_changed_tenants_between_two_commits(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"})
    for name in ("alpha", "beta"):
        (tmp_path / "tenants" / name / "users").mkdir(parents=True)
        (tmp_path / "tenants" / name / "tenant.yaml").write_text("x: 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "one")
    (tmp_path / "tenants" / "beta" / "users" / "new.yaml").write_text("y: 1\n")
    git("add", ".")
    git("commit", "-qm", "two")
    monkeypatch.chdir(tmp_path)
    result = cli_run("ci", "changed-tenants", "--base", "HEAD~1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == ["tenants/beta"]
    assert json.loads(cli_run("ci", "tenants", "--json").stdout) == ["tenants/alpha",
                                                                    "tenants/beta"]


@pytest.fixture(scope="module")
def golden_plan(tmp_path_factory):
    from tests.tenancy import make_tenant, plan_of
    from tests.test_render_golden import USERS

    os.environ["RECONCILER_NOW"] = "2026-11-22T10:00:00Z"
    try:
        return plan_of(make_tenant(tmp_path_factory.mktemp("gitops"), USERS))
    finally:
        del os.environ["RECONCILER_NOW"]


@pytest.mark.parametrize("name", ["comment.md", "issue.md"])
def test_comment_and_issue_bodies_match_their_golden_files(golden_plan, tmp_path, name):
    from reconciler.plan.planfile import save

    saved = tmp_path / "plan.json"
    save(golden_plan, saved)
    command = "comment-body" if name == "comment.md" else "issue-body"
    text = cli_run("ci", command, str(saved), env={"GITHUB_SERVER_URL": "https://github.com",
                                                    "GITHUB_REPOSITORY": "acme/identity",
                                                    "GITHUB_RUN_ID": "42"}).stdout
    if os.environ.get("UPDATE_GOLDEN"):
        (GOLDEN / name).write_text(text)
    assert text == (GOLDEN / name).read_text()
    marker = "plan" if name == "comment.md" else "drift"
    assert text.startswith(f"<!-- reconciler:{marker}:contoso.onmicrosoft.com -->\n")
    assert load(saved).tenant == "contoso.onmicrosoft.com"
    title = cli_run("ci", "issue-body", str(saved), "--title").stdout
    assert title == "Drift in contoso.onmicrosoft.com\n"


def test_the_pre_commit_hook_validates_the_changed_tenants(tmp_path):
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["entry"] == "reconciler ci validate-changed"
    good = cli_run("ci", "validate-changed", str(REPO / "tenants/demo/users/it/sam.porter.yaml"))
    assert good.exit_code == 0 and "1 tenant folder(s) valid." in good.stdout
    from tests.conftest import write_tenant

    folder = write_tenant(tmp_path, {"users/a.yaml": "userPrincipalName: nope\n"})
    bad = cli_run("ci", "validate-changed", str(folder / "users" / "a.yaml"))
    assert bad.exit_code == 1 and "userPrincipalName" in bad.stderr


def first_import(users: int) -> Plan:
    """A first import's plan: every user created with a profile, a group and a license;
    one in a hundred also gets a directory role (privileged)."""
    from reconciler.plan.change import Change

    plan = Plan(tenant="contoso.onmicrosoft.com", created_at="2026-11-22T10:00:00Z")
    for i in range(users):
        upn = f"user{i:04d}@contoso.com"
        plan.changes.append(Change(upn, "user", "add", upn, None, upn))
        for name in ("displayName", "jobTitle", "department", "city", "officeLocation"):
            plan.changes.append(Change(upn, "profile", "add", name, None, f"{name} of {i}"))
        plan.changes += [Change(upn, "group", "add", "Engineering", None, "Engineering"),
                         Change(upn, "license", "add", "SPE_E3", None, "SPE_E3")]
        if i % 100 == 7:
            plan.changes.append(Change(upn, "directoryRole", "add", "User Administrator",
                                       None, "User Administrator"))
    return plan


def test_a_3000_user_change_fits_in_one_comment_and_lists_every_privileged_change(tmp_path):
    from reconciler.plan.planfile import save
    from reconciler.render.markdown import render_markdown

    plan = first_import(3000)
    assert len(render_markdown(plan)) > 65_536 * 5  # the size that GitHub refused
    saved = tmp_path / "plan.json"
    save(plan, saved)
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/identity",
           "GITHUB_RUN_ID": "42"}
    body = cli_run("ci", "comment-body", str(saved), "--artifact", "plan-contoso",
                   "--tenant-dir", "tenants/contoso", env=env).stdout
    assert len(body) < 65_536 and len(body.encode()) < 65_536
    assert body.startswith("<!-- reconciler:plan:tenants/contoso -->\n")
    assert "**Plan: 24030 to add, 0 to change, 0 to remove.**" in body
    for i in range(7, 3000, 100):
        assert f"| `user{i:04d}@contoso.com` | `+ directoryRole: User Administrator` |" in body
    assert "<details open>" not in body and body.count("<details>") > 50
    assert "`plan-contoso` artifact of [this run](https://github.com/acme/identity/actions/" \
           "runs/42)" in body
    shown = body.count("<details>")
    assert f"{3000 - shown} of 3000 per-user sections" in body
    issue = cli_run("ci", "issue-body", str(saved), env=env).stdout
    assert len(issue.encode()) < 65_536 and issue.count("directoryRole") >= 30
    assert "`drift` artifact" in issue


def test_a_small_plan_is_never_cut(golden_plan):
    body = gitops.comment_body(golden_plan)
    assert "too long" not in body and "<details open>" in body


@pytest.mark.parametrize("log, expected", [
    ("tenants/c/users/a.yaml:2:1: state: unknown key\n1 problem found; nothing was sent.\n",
     "Validation found 1 problem in the YAML"),
    ("Error: cannot reach the identity platform at https://login.microsoftonline.com "
     "(ConnectError). Fix: check the network.\n", "> Error: cannot reach the identity"),
    ("", "stopped without saying why"),
])
def test_a_plan_that_never_came_gets_a_comment_saying_why(tmp_path, log, expected):
    plan, err = tmp_path / "plan.json", tmp_path / "plan.err"
    plan.write_text("")
    err.write_text(log)
    result = cli_run("ci", "comment-body", str(plan), "--log", str(err), "--tenant-dir",
                     "tenants/c")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!-- reconciler:plan:tenants/c -->\n")
    assert "could not plan `tenants/c`" in result.stdout and expected in result.stdout
