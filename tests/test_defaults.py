"""`defaults` in tenant.yaml: merged under every user file key by key, located where set."""

from __future__ import annotations

import pytest

from reconciler.desired.loader import load_tenant
from tests.tenancy import E3, cli_run, lines, make_tenant, oid, plan_of, small_seed, store

DEFAULTS = """\
defaults:
  directoryRoles: []
  mailbox:
    forwarding: null
    permissions: {fullAccess: [], sendAs: []}
"""


@pytest.fixture
def seed():
    data = small_seed()
    bob = next(u for u in data["users"] if u["userPrincipalName"] == "bob@contoso.com")
    bob["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []}]  # bob gets a mailbox
    data["mailboxPermissions"] = [{"mailbox": oid("alice@contoso.com"),
                                   "trustee": oid("bob@contoso.com"), "right": "FullAccess"}]
    return data


def test_a_file_value_wins_and_a_file_list_replaces_the_default(tmp_path, seed):
    folder = make_tenant(tmp_path, {
        "alice": "userPrincipalName: alice@contoso.com\n"
                 "directoryRoles: [User Administrator]\n"
                 "mailbox: {permissions: {sendAs: [bob@contoso.com]}}\n",
        "bob": "userPrincipalName: bob@contoso.com\n",
    }, seed=seed, tenant_extra=DEFAULTS)
    tenant = load_tenant(folder).tenant
    alice, bob = tenant.user("alice@contoso.com"), tenant.user("bob@contoso.com")
    assert [e.ref for e in alice.directory_roles] == ["User Administrator"]
    assert [e.ref for e in alice.mailbox_permissions["sendAs"]] == ["bob@contoso.com"]
    assert alice.mailbox_permissions["fullAccess"] == []  # key by key under mailbox
    assert alice.manages("mailbox.forwarding") and "mailbox.forwarding" in alice.defaulted
    assert "directoryRoles" not in alice.defaulted
    assert bob.manages("directoryRoles") and bob.directory_roles == []
    assert not bob.manages("groups")  # not in defaults, not in the file: unmanaged
    assert lines(plan_of(folder)) == [
        ("alice", "mailboxPermission", "remove", "fullAccess: bob@contoso.com",
         {"right": "fullAccess", "trustee": "bob@contoso.com"}, None),
        ("alice", "mailboxPermission", "add", "sendAs: bob@contoso.com", None,
         {"right": "sendAs", "trustee": "bob@contoso.com"}),
    ]


def test_a_role_granted_outside_git_is_planned_away_when_defaults_manage_roles(tmp_path):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"},
                         tenant_extra="defaults: {directoryRoles: []}\n")
    result = cli_run("plan", str(folder), "--detailed-exitcode")
    assert result.exit_code == 0, result.output  # bob holds no role: nothing to do
    seed = small_seed()
    seed["roleAssignments"].append({"id": "bob-ga", "roleDefinitionId":
                                    "62e90394-69f5-4237-9190-012177145e10",
                                    "principalId": oid("bob@contoso.com"),
                                    "directoryScopeId": "/"})
    other = make_tenant(tmp_path / "granted", {"bob": "userPrincipalName: bob@contoso.com\n"},
                        seed=seed, tenant_extra="defaults: {directoryRoles: []}\n")
    assert lines(plan_of(other)) == [
        ("bob", "directoryRole", "remove", "Global Administrator", "Global Administrator",
         None)]
    assert cli_run("apply", str(other), "--auto-approve").exit_code == 0
    assert not [a for a in store(other).audits()
                if a.get("activityDisplayName") == "Remove member from role"
                and "erin" in str(a)]  # erin's file does not exist: never touched
    assert plan_of(other).changes == []


def test_a_user_without_a_mailbox_satisfies_mailbox_defaults(tmp_path, seed):
    folder = make_tenant(tmp_path, {
        "erin": "userPrincipalName: erin@contoso.com\ndirectoryRoles: [Global Administrator]\n",
    }, seed=seed, tenant_extra=DEFAULTS)
    plan = plan_of(folder)
    assert plan.errors == [] and plan.warnings == []
    assert plan.changes == []
    # a file that sets a mailbox key itself still hears that there is no mailbox
    (folder / "users" / "erin.yaml").write_text(
        "userPrincipalName: erin@contoso.com\ndirectoryRoles: [Global Administrator]\n"
        "mailbox: {forwarding: {address: bob@contoso.com}}\n")
    plan = plan_of(folder)
    assert [e.path for e in plan.errors] == ["mailbox"]
    assert plan.errors[0].file.endswith("users/erin.yaml")


def test_a_bad_default_is_one_error_located_in_tenant_yaml(tmp_path, seed):
    folder = make_tenant(tmp_path, {
        "alice": "userPrincipalName: alice@contoso.com\n",
        "bob": "userPrincipalName: bob@contoso.com\n",
    }, seed=seed, tenant_extra="defaults:\n  directoryRoles:\n    - Global Adminstrator\n")
    plan = plan_of(folder)
    assert len(plan.errors) == 1
    error = plan.errors[0]
    assert error.file.endswith("tenant.yaml") and error.path == "defaults.directoryRoles[0]"
    text = (folder / "tenant.yaml").read_text().splitlines()
    assert text[error.line - 1].strip() == "- Global Adminstrator"
    assert "Global Administrator" in error.message


def test_a_schema_error_in_defaults_names_tenant_yaml_line(tmp_path, seed):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"},
                         seed=seed, tenant_extra="defaults:\n  mailbox:\n    fowarding: null\n"
                                                 "  userPrincipalName: x@contoso.com\n")
    problems = load_tenant(folder).problems
    shown = sorted(f"{p.file.rsplit('/', 1)[-1]}:{p.line}: {p.path}: {p.message}"
                   for p in problems)
    assert shown == [
        "tenant.yaml:10: defaults.mailbox.fowarding: unknown key (did you mean 'forwarding'?)",
        "tenant.yaml:11: defaults.userPrincipalName: unknown key (valid keys: "
        "authentication, calendar, directoryRoles, extensionAttributes, groups, licenses, "
        "mailbox, profile)",
    ]
