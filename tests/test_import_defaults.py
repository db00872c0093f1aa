"""`import` under tenant defaults: the id anchor, and explicit values where a default
would otherwise change the user, so import-then-plan is clean and later changes are drift."""

from __future__ import annotations

import yaml

from tests.tenancy import cli_run, make_tenant, oid, plan_of

DEFAULTS = """\
defaults:
  directoryRoles: []
  groups: [Engineering]
  profile: {jobTitle: Staff, accountEnabled: true}
  mailbox:
    forwarding: null
    permissions: {fullAccess: [], sendAs: [], sendOnBehalf: []}
"""


def test_import_writes_the_anchor_and_what_defaults_would_change(tmp_path):
    folder = make_tenant(tmp_path, {}, tenant_extra=DEFAULTS)
    result = cli_run("import", "--tenant", str(folder))
    assert result.exit_code == 0, result.output
    erin = yaml.safe_load((folder / "users" / "erin.yaml").read_text())
    assert erin["id"] == oid("erin@contoso.com")
    assert erin["directoryRoles"] == ["Global Administrator"]  # live, not the default []
    assert erin["groups"] == []           # the default [Engineering] would add her
    assert erin["profile"]["jobTitle"] is None  # the default would set "Staff"
    alice = yaml.safe_load((folder / "users" / "alice.yaml").read_text())
    assert alice["profile"]["jobTitle"] == "Engineer"
    assert "Engineering" in alice["groups"]
    assert "accountEnabled" not in alice["profile"]  # live equals the default: left to it
    assert plan_of(folder).changes == []
    assert cli_run("plan", str(folder), "--detailed-exitcode").exit_code == 0
    tenant = (folder / "tenant.yaml").read_text()
    assert "  unmanagedUsers: report" in tenant
    assert yaml.safe_load(tenant)["policy"]["unmanagedUsers"] == "report"


def test_an_existing_unmanaged_users_choice_is_kept(tmp_path):
    folder = make_tenant(tmp_path, {}, tenant_extra="")
    text = (folder / "tenant.yaml").read_text().replace(
        "policy:\n", "policy:\n  unmanagedUsers: ignore\n")
    (folder / "tenant.yaml").write_text(text)
    assert cli_run("import", "--tenant", str(folder)).exit_code == 0
    assert (folder / "tenant.yaml").read_text() == text
