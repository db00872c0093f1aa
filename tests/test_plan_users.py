"""Creating, inviting, restoring and deleting users; the CLI's plan/apply/drift contract."""

from __future__ import annotations

import json

from reconciler.areas.registry import privileged
from tests.tenancy import audits, cli_run, lines, make_tenant, oid, plan_of, store

NEW = """\
userPrincipalName: gina@contoso.com
profile:
  displayName: Gina Lopez
  jobTitle: Analyst
  employeeHireDate: 2026-12-01
  usageLocation: ES
manager: hank@contoso.com
groups: [Engineering]
licenses: [{sku: SPE_E3}]
directoryRoles: [Helpdesk Administrator]
"""
NEW_MANAGER = """\
userPrincipalName: hank@contoso.com
profile: {displayName: Hank, usageLocation: ES}
"""


def test_new_users_are_created_with_their_relations_in_order(tmp_path):
    folder = make_tenant(tmp_path, {"gina": NEW, "hank": NEW_MANAGER})
    plan = plan_of(folder)
    created = plan.changes[0]
    assert (created.kind, created.op) == ("user", "add")
    assert created.after["passwordProfile"] == "(sensitive value)"
    assert "password" not in json.dumps([c.to_json() for c in plan.changes]).replace(
        "passwordProfile", "")
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    db = store(folder)
    gina, hank = db.user_id_by_upn("gina@contoso.com"), db.user_id_by_upn("hank@contoso.com")
    assert db.manager_of(gina) == hank
    assert db.is_member(oid("group:Engineering"), gina)
    assert db.licenses_of([gina])[gina][0]["skuId"]
    assert [a["roleDefinitionId"] for a in db.role_assignments(principal_id=gina)] == [
        "729827e3-9c14-49f7-bb1b-9608f156bbb8"]
    order = [a["activityDisplayName"] for a in audits(folder)]
    assert order.index("Add user") < order.index("Change user license")
    assert plan_of(folder).changes == []


def test_a_new_user_needs_a_display_name(tmp_path):
    folder = make_tenant(tmp_path, {"ivy": "userPrincipalName: ivy@contoso.com\n"})
    assert [e.message for e in plan_of(folder).errors] == [
        "a new user needs profile.displayName"]


def test_a_guest_is_invited_and_its_profile_written_after(tmp_path):
    folder = make_tenant(tmp_path, {"pat": """
        userPrincipalName: pat_fabrikam.com#EXT#@contoso.onmicrosoft.com
        profile: {displayName: Pat (Fabrikam), userType: Guest, mail: pat@fabrikam.com,
                  companyName: Fabrikam}
        groups: [Staff]
        """})
    plan = plan_of(folder)
    assert [(c.kind, c.op, c.target) for c in plan.changes] == [
        ("user", "add", "pat_fabrikam.com#EXT#@contoso.onmicrosoft.com"),
        ("profile", "add", "companyName"), ("group", "add", "Staff")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert plan_of(folder).changes == []
    assert "Invite external user" in [a["activityDisplayName"] for a in audits(folder)]


def test_state_deleted_soft_deletes_and_present_restores(tmp_path):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"
                                           "state: deleted\n"})
    plan = plan_of(folder)
    assert lines(plan) == [("bob", "user", "remove", "bob@contoso.com", "bob@contoso.com",
                            None)]
    assert privileged(plan.changes[0])
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert store(folder).user_id_by_upn("bob@contoso.com") is None
    (folder / "users" / "bob.yaml").write_text("userPrincipalName: bob@contoso.com\n"
                                               "profile: {jobTitle: Returning Manager}\n")
    plan = plan_of(folder)
    assert [(c.kind, c.op, c.note) for c in plan.changes] == [
        ("user", "add", "restored from deleted users"), ("profile", "add", None)]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert plan_of(folder).changes == []


def test_users_without_a_file_are_never_touched(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "groups: []\n"})
    assert {c.user for c in plan_of(folder).changes} == {"alice@contoso.com"}


def test_plan_exit_codes_and_formats(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: Lead}\n"})
    assert cli_run("plan", str(folder)).exit_code == 0
    assert cli_run("plan", str(folder), "--detailed-exitcode").exit_code == 2
    assert cli_run("drift", str(folder)).exit_code == 2
    as_json = cli_run("plan", str(folder), "--format", "json")
    data = json.loads(as_json.stdout)
    assert data["format"] == 1 and data["summary"] == {"add": 0, "change": 1, "remove": 0}
    assert data["changes"][0]["kind"] == "profile"
    markdown = cli_run("plan", str(folder), "--format", "markdown").stdout
    assert markdown.startswith("### reconciler plan for `contoso.onmicrosoft.com`")
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert cli_run("drift", str(folder)).exit_code == 0
    assert cli_run("plan", str(folder), "--detailed-exitcode").exit_code == 0


def test_apply_without_a_terminal_needs_auto_approve(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: Lead}\n"})
    result = cli_run("apply", str(folder))
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert audits(folder) == []


def test_plan_for_one_user_and_an_unknown_user(tmp_path):
    folder = make_tenant(tmp_path, {
        "alice": "userPrincipalName: alice@contoso.com\nprofile: {jobTitle: Lead}\n",
        "bob": "userPrincipalName: bob@contoso.com\nprofile: {jobTitle: Boss}\n"})
    only = cli_run("plan", str(folder), "--user", "BOB@contoso.com", "--format", "json")
    assert [c["user"] for c in json.loads(only.stdout)["changes"]] == ["bob@contoso.com"]
    unknown = cli_run("plan", str(folder), "--user", "zed@contoso.com")
    assert unknown.exit_code == 1
    assert "--user zed@contoso.com: no file" in unknown.stderr


def test_invalid_input_sends_nothing_and_reads_nothing(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: 5}\n"})
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert "profile.jobTitle: expected text or null" in result.stderr
    assert not (folder / "state.db").exists()
