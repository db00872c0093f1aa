"""settings.authorizationPolicy in tenant.yaml: read, diffed, PATCHed, privileged when it
widens access; portal settings without a Graph API are refused by validate."""

from __future__ import annotations

from reconciler.areas.registry import privileged
from tests.tenancy import cli_run, make_tenant, plan_of, store

RESTRICTED = "2af84b1e-32c8-42b7-82bc-daa82404023b"
MEMBER = "a0b1b346-4d3e-4e8b-98f8-753987be4970"


def policy_of(folder):
    return store(folder).item("tenant", "authorizationPolicy", "authorizationPolicy")


def settings(body: str) -> str:
    return "settings:\n  authorizationPolicy:\n" + body


def changes(plan):
    return [(c.user, c.target, c.before, c.after, privileged(c)) for c in plan.changes]


def test_policy_members_are_set_changed_and_converge(tmp_path):
    folder = make_tenant(tmp_path, {}, tenant_extra=settings("""\
    allowInvitesFrom: adminsAndGuestInviters
    guestUserRoleId: restrictedGuest
    defaultUserRolePermissions:
      allowedToCreateApps: false
      allowedToCreateTenants: false
"""))
    assert changes(plan_of(folder)) == [
        ("tenant settings", "authorizationPolicy.allowInvitesFrom", "everyone",
         "adminsAndGuestInviters", False),
        ("tenant settings", "authorizationPolicy.defaultUserRolePermissions.allowedToCreateApps",
         True, False, False),
        ("tenant settings",
         "authorizationPolicy.defaultUserRolePermissions.allowedToCreateTenants", True, False,
         False),
        ("tenant settings", "authorizationPolicy.guestUserRoleId", "guest", "restrictedGuest",
         False),
    ]
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    policy = policy_of(folder)
    assert policy["guestUserRoleId"] == RESTRICTED
    assert policy["allowInvitesFrom"] == "adminsAndGuestInviters"
    permissions = policy["defaultUserRolePermissions"]
    assert (permissions["allowedToCreateApps"], permissions["allowedToCreateTenants"],
            permissions["allowedToCreateSecurityGroups"]) == (False, False, True)
    assert permissions["permissionGrantPoliciesAssigned"] == [
        "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"]
    assert plan_of(folder).changes == []


def test_widening_access_is_privileged_and_ids_are_accepted(tmp_path):
    folder = make_tenant(tmp_path, {}, tenant_extra=settings(f"""\
    guestUserRoleId: {MEMBER}
    defaultUserRolePermissions:
      allowedToCreateApps: true
"""))
    assert changes(plan_of(folder)) == [
        ("tenant settings", "authorizationPolicy.guestUserRoleId", "guest", "member", True)]
    result = cli_run("plan", str(folder))
    assert "# tenant settings will be updated" in result.output
    assert "~ settings.authorizationPolicy.guestUserRoleId: 'guest' -> 'member'" in \
        result.output
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert policy_of(folder)["guestUserRoleId"] == MEMBER
    # removing the section stops managing it: nothing is planned, nothing reverts
    (folder / "tenant.yaml").write_text((folder / "tenant.yaml").read_text().split(
        "settings:")[0])
    assert plan_of(folder).changes == []


def test_a_plan_for_some_users_leaves_tenant_settings_alone(tmp_path):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"},
                         tenant_extra=settings("    allowInvitesFrom: none\n"))
    assert plan_of(folder, "bob@contoso.com").changes == []
    assert [c.target for c in plan_of(folder).changes] == [
        "authorizationPolicy.allowInvitesFrom"]


def test_portal_settings_without_an_api_are_explained_by_validate(tmp_path):
    folder = make_tenant(tmp_path, {}, tenant_extra="settings:\n  staySignedIn: false\n")
    result = cli_run("validate", str(folder))
    assert result.exit_code != 0
    assert "tenant.yaml:9:3: settings.staySignedIn: not manageable" in result.output
    assert "no property in Graph v1.0" in result.output
    folder = make_tenant(tmp_path / "b", {}, tenant_extra=settings(
        "    guestUserRoleId: superGuest\n"))
    result = cli_run("validate", str(folder))
    assert "guestUserRoleId: not a guest access level" in result.output
