"""Devices, applications, SharePoint site groups and authentication hygiene: each key both
ways, judged from the emulator's record of what was written; import then plan is clean; an
offboarding file leaves nothing behind."""

from __future__ import annotations

import yaml

from reconciler.areas.registry import privileged
from reconciler.render.text import render_text
from tests.tenancy import E3, audits, cli_run, lines, make_tenant, oid, plan_of, small_seed, store

EMS = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e"
INTUNE = "c1ec4a95-1f05-45b3-a911-aa3fa01094f5"
SALESFORCE = "50000000-0000-4000-8000-000000000001"
WIKI = "50000000-0000-4000-8000-000000000002"
STANDARD, ADMIN = "b1c2d3e4-0001-4f5a-8b6c-7d8e9f0a1b01", "b1c2d3e4-0002-4f5a-8b6c-7d8e9f0a1b02"
FINANCE = "https://contoso.sharepoint.com/sites/finance"
D = "d0000000-0000-4000-8000-0000000000"  # managed device ids: D + two hex digits
TEAM_SITE = "https://contoso.sharepoint.com/sites/staff"


def seed() -> dict:
    data = small_seed()
    data["subscribedSkus"].append({
        "skuId": EMS, "skuPartNumber": "EMS", "prepaidUnits": {"enabled": 5},
        "servicePlans": [{"servicePlanId": INTUNE, "servicePlanName": "INTUNE_A"}]})
    alice, bob = data["users"][0], data["users"][1]
    alice["assignedLicenses"].append({"skuId": EMS, "disabledPlans": []})
    bob["assignedLicenses"] = [{"skuId": EMS, "disabledPlans": []}]
    alice["authentication"] = {"microsoftAuthenticatorMethods": [
        {"id": "m-phone", "displayName": "Alice's iPhone",
         "createdDateTime": "2025-01-05T10:00:00Z"},
        {"id": "m-old", "displayName": "Alice's old Android",
         "createdDateTime": "2022-03-01T09:00:00Z"}]}
    data["managedDevices"] = [
        {"id": D + "42", "deviceName": "LAPTOP-0042", "userId": alice["id"]},
        {"id": D + "43", "deviceName": "LAPTOP-0043", "userId": None},
        {"id": D + "44", "deviceName": "LAPTOP-0044", "userId": bob["id"]},
        {"id": D + "a1", "deviceName": "KIOSK", "userId": None},
        {"id": D + "a2", "deviceName": "KIOSK", "userId": None}]
    data["servicePrincipals"] = [
        {"id": SALESFORCE, "appId": "9e8d7c6b-0001-4a3b-8c2d-1e0f9a8b7c01",
         "displayName": "Salesforce", "appRoles": [
             {"id": STANDARD, "value": "standard_user", "displayName": "Standard User",
              "isEnabled": True, "allowedMemberTypes": ["User"]},
             {"id": ADMIN, "value": "admin", "displayName": "System Administrator",
              "isEnabled": True, "allowedMemberTypes": ["User"]}]},
        {"id": WIKI, "appId": "9e8d7c6b-0002-4a3b-8c2d-1e0f9a8b7c02", "displayName": "Wiki",
         "appRoles": []}]
    data["sites"] = [{"webUrl": FINANCE, "title": "Finance"},
                     {"webUrl": TEAM_SITE, "title": "Staff", "groupId": oid("group:Staff")}]
    return data


def alice(body: str) -> dict[str, str]:
    return {"alice": "userPrincipalName: alice@contoso.com\n" + body}


def applied(folder) -> None:
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "0 failed, 0 unknown" in result.stdout, result.stdout
    again = plan_of(folder)
    assert again.changes == [] and again.errors == [], lines(again)


def test_devices_both_ways(tmp_path):
    folder = make_tenant(tmp_path, alice(
        "devices: [LAPTOP-0043, {id: " + D + "44}]\n"), seed=seed())
    plan = plan_of(folder)
    assert lines(plan) == [
        ("alice", "device", "remove", "LAPTOP-0042", "LAPTOP-0042", None),
        ("alice", "device", "add", "LAPTOP-0043", None, "LAPTOP-0043"),
        ("alice", "device", "add", "LAPTOP-0044", "bob@contoso.com", "LAPTOP-0044")]
    applied(folder)
    primaries = {d["id"]: d.get("@primaryUser")
                 for d in store(folder).items("tenant", "managedDevice")}
    assert primaries[D + "43"] == primaries[D + "44"] == oid("alice@contoso.com")
    assert primaries[D + "42"] is None  # made shared, never deleted
    writes = [a["activityDisplayName"] for a in audits(folder) if a["category"] == "Device"]
    assert sorted(writes) == ["Remove managed device primary user",
                              "Update managed device primary user",
                              "Update managed device primary user"]


def test_device_errors_ambiguous_unlicensed_and_claimed_twice(tmp_path):
    folder = make_tenant(tmp_path, {
        **alice("devices: [KIOSK, LAPTOP-0043]\n"),
        "bob": "userPrincipalName: bob@contoso.com\ndevices: [LAPTOP-0043]\n",
        "carol": "userPrincipalName: carol@contoso.com\ndevices: [LAPTOP-9999]\n"}, seed=seed())
    plan = plan_of(folder)
    messages = sorted(e.message for e in plan.errors)
    assert any("2 managed devices are named 'KIOSK'" in m and D + "a1" in m for m in messages)
    assert any("also named by bob@contoso.com" in m for m in messages)
    assert any("also named by alice@contoso.com" in m for m in messages)
    assert any("carol@contoso.com has no Intune licence" in m for m in messages)
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 1
    assert not [a for a in audits(folder) if a["category"] == "Device"]


def test_applications_both_ways_and_group_assignments_are_reported(tmp_path):
    data = seed()
    folder = make_tenant(tmp_path, alice(
        "applications:\n  - {app: Salesforce, role: standard_user}\n  - {app: Wiki}\n"),
        seed=data)
    plan = plan_of(folder)
    assert lines(plan) == [
        ("alice", "application", "add", "Salesforce (Standard User)", None,
         {"app": "Salesforce", "role": "Standard User"}),  # plan data, not display text
        ("alice", "application", "add", "Wiki (default access)", None,
         {"app": "Wiki", "role": None})]
    assert "+ application: Wiki (default access)" in render_text(plan)
    applied(folder)
    held = {(a["resourceId"], a["appRoleId"])
            for a in store(folder).items(oid("alice@contoso.com"), "appRoleAssignment")}
    assert held == {(SALESFORCE, STANDARD), (WIKI, "00000000-0000-0000-0000-000000000000")}
    # a role change is a removal and an add; an app given to a group is reported
    (folder / "users" / "alice.yaml").write_text(
        "userPrincipalName: alice@contoso.com\n"
        "applications: [{app: Salesforce, role: System Administrator}]\n")
    db = store(folder)
    db.put_item(oid("group:Engineering"), "appRoleAssignment", "via-group", {
        "id": "via-group", "appRoleId": STANDARD, "principalId": oid("group:Engineering"),
        "principalType": "Group", "principalDisplayName": "Engineering",
        "resourceId": SALESFORCE, "resourceDisplayName": "Salesforce"})
    plan = plan_of(folder)
    assert sorted((c.op, c.target) for c in plan.changes) == [
        ("add", "Salesforce (System Administrator)"), ("remove", "Salesforce (Standard User)"),
        ("remove", "Wiki (default access)")]
    assert [n.message for n in plan.notes] == [
        "assigned through group Engineering: not manageable here"]
    applied(folder)


def test_application_references_that_name_nothing_or_too_much(tmp_path):
    folder = make_tenant(tmp_path, alice(
        "applications: [{app: Salesforce}, {app: Wiki, role: Editor}, {app: Nope}]\n"),
        seed=seed())
    messages = [e.message for e in plan_of(folder).errors]
    assert "Salesforce has roles for users: name one (Standard User, System Administrator)" \
        in messages
    assert "Wiki has no role 'Editor' for users (it has: none)" in messages
    assert "no enterprise application 'Nope' (by displayName or appId)" in messages


def test_sharepoint_site_groups_and_group_connected_sites(tmp_path):
    folder = make_tenant(tmp_path, alice(
        f"sharePoint:\n  - {{site: '{FINANCE}', group: visitors}}\n"
        f"  - {{site: '{TEAM_SITE}', group: owners}}\n"), seed=seed())
    plan = plan_of(folder)
    # alice is a member of Staff, the group behind the staff site: a file that lists the
    # site manages all three of its groups for her (authoritative), so that membership goes
    assert [(c.op, c.target, c.note) for c in plan.changes] == [
        ("add", "contoso.sharepoint.com/sites/finance visitors", None),
        ("remove", "contoso.sharepoint.com/sites/staff members",
         "through the Microsoft 365 group Staff"),
        ("add", "contoso.sharepoint.com/sites/staff owners",
         "through the Microsoft 365 group Staff")]
    assert [privileged(c) for c in plan.changes] == [False, False, True]
    assert plan.changes[0].after == {"site": FINANCE, "group": "visitors"}  # data
    assert "+ sharePoint: contoso.sharepoint.com/sites/finance visitors" in render_text(plan)
    applied(folder)
    db = store(folder)
    assert db.item(oid("group:Staff"), "groupOwner", oid("alice@contoso.com")) is not None
    assert not db.is_member(oid("group:Staff"), oid("alice@contoso.com"))
    members = db.items("/sites/finance|visitor", "spMember")
    assert [m["LoginName"] for m in members] == ["i:0#.f|membership|alice@contoso.com"]
    # a site is read while any file names it: bob's keeps finance in view
    (folder / "users" / "alice.yaml").write_text(
        f"userPrincipalName: alice@contoso.com\nsharePoint: [{{site: '{TEAM_SITE}', "
        "group: owners}]\n")
    (folder / "users" / "bob.yaml").write_text(
        f"userPrincipalName: bob@contoso.com\nsharePoint: [{{site: '{FINANCE}', "
        "group: visitors}]\n")
    plan = plan_of(folder)
    assert sorted((c.user, c.op, c.target) for c in plan.changes) == [
        ("alice@contoso.com", "remove", "contoso.sharepoint.com/sites/finance visitors"),
        ("bob@contoso.com", "add", "contoso.sharepoint.com/sites/finance visitors"),
        ("bob@contoso.com", "remove", "contoso.sharepoint.com/sites/staff members")]
    applied(folder)
    assert [m["LoginName"] for m in store(folder).items("/sites/finance|visitor", "spMember")] \
        == ["i:0#.f|membership|bob@contoso.com"]


def test_authentication_email_and_authenticator_devices(tmp_path):
    folder = make_tenant(tmp_path, alice(
        "authentication: {emailMethod: alice@example.org, authenticatorDevices: "
        "[Alice's iPhone, Alice's iPad]}\n"), seed=seed())
    plan = plan_of(folder)
    assert [(c.kind, c.op, c.target, c.note) for c in plan.changes] == [
        ("emailMethod", "add", "email", None),
        ("authenticatorDevice", "remove", "Alice's old Android", "registered 2022-03-01T09:00:00Z")]
    assert all(privileged(c) for c in plan.changes)
    assert [n.target for n in plan.notes] == ["Alice's iPad"]  # cannot be created here
    applied(folder)
    db = store(folder)
    assert [m["id"] for m in db.items(oid("alice@contoso.com"), "authenticatorMethod")] == [
        "m-phone"]
    assert db.items(oid("alice@contoso.com"), "emailMethod")[0]["emailAddress"] == \
        "alice@example.org"


def test_removing_the_last_strong_method_warns_and_protected_users_keep_theirs(tmp_path):
    folder = make_tenant(tmp_path, {
        **alice("authentication: {authenticatorDevices: []}\n"),
        "erin": "userPrincipalName: erin@contoso.com\n"
                "authentication: {emailMethod: null, authenticatorDevices: []}\n"},
        seed=_erin_with_methods(seed()))
    plan = plan_of(folder)
    assert any("removes the last strong authentication method" in w for w in plan.warnings)
    assert {c.user for c in plan.changes} == {"alice@contoso.com"}
    assert [e.message.split(":")[0] for e in plan.errors] == ["erin@contoso.com is protected"]
    assert "Erin's phone" in plan.errors[0].message


def _erin_with_methods(data: dict) -> dict:
    data["users"][4]["authentication"] = {"microsoftAuthenticatorMethods": [
        {"id": "m-erin", "displayName": "Erin's phone"}]}
    return data


def test_import_then_plan_has_no_changes(tmp_path):
    data = seed()
    data["users"][0]["appRoleAssignments"] = []
    folder = make_tenant(tmp_path, {**alice(
        "applications: [{app: Salesforce, role: Standard User}]\n"
        f"sharePoint: [{{site: '{FINANCE}', group: members}}]\n"
        "authentication: {emailMethod: alice@example.org}\n"),
        "bob": f"userPrincipalName: bob@contoso.com\nsharePoint: [{{site: '{FINANCE}', "
               "group: visitors}]\n"}, seed=data)
    applied(folder)
    (folder / "users" / "alice.yaml").unlink()
    result = cli_run("import", "--tenant", str(folder), "--user", "alice@contoso.com")
    assert result.exit_code == 0, result.output
    written = yaml.safe_load((folder / "users" / "alice.contoso.com.yaml").read_text()) \
        if (folder / "users" / "alice.contoso.com.yaml").exists() else yaml.safe_load(
        next((folder / "users").glob("alice*.yaml")).read_text())
    assert written["devices"] == ["LAPTOP-0042"]
    assert written["applications"] == [{"app": "Salesforce", "role": "Standard User"}]
    assert written["authentication"]["authenticatorDevices"] == [
        "Alice's iPhone", "Alice's old Android"]
    assert written["authentication"]["emailMethod"] == "alice@example.org"
    assert written["sharePoint"] == [{"site": FINANCE, "group": "members"}]  # bob's file
    # brought the finance site into view
    plan = plan_of(folder)
    assert plan.changes == [] and plan.errors == [], lines(plan)


def test_an_offboarding_file_leaves_nothing_behind(tmp_path):
    data = seed()
    data["users"][0]["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []},
                                            {"skuId": EMS, "disabledPlans": []}]
    folder = make_tenant(tmp_path, {**alice(
        "applications: [{app: Wiki}]\n"
        f"sharePoint: [{{site: '{FINANCE}', group: members}}]\n"),
        "bob": f"userPrincipalName: bob@contoso.com\nsharePoint: [{{site: '{FINANCE}', "
               "group: members}]\n"}, seed=data)
    applied(folder)
    (folder / "users" / "alice.yaml").write_text(
        "userPrincipalName: alice@contoso.com\n"
        "signIn: {blockAt: 2020-01-01T00:00:00Z, onBlock: {removeGroups: true, "
        "removeDirectoryRoles: true, removeLicenses: true}}\n"
        "applications: []\ndevices: []\nsharePoint: []\n"
        "authentication: {authenticatorDevices: []}\n")
    applied(folder)
    db = store(folder)
    me = oid("alice@contoso.com")
    assert db.groups_of(me) == [oid("group:Everyone")] or set(db.groups_of(me)) <= {
        oid("group:Everyone"), oid("group:Badge")}  # dynamic and synced: not manageable
    assert db.role_assignments(principal_id=me) == []
    assert db.licenses_of([me])[me] == []
    assert db.items(me, "appRoleAssignment") == []
    assert db.items(me, "authenticatorMethod") == []
    assert not any(d.get("@primaryUser") == me for d in db.items("tenant", "managedDevice"))
    assert [m["LoginName"] for m in db.items("/sites/finance|member", "spMember")] == [
        "i:0#.f|membership|bob@contoso.com"]
    assert db.get_object(me, "user")["accountEnabled"] is False


def test_a_connected_site_defers_its_members_to_the_groups_key(tmp_path):
    folder = make_tenant(tmp_path, alice(
        f"groups: [Engineering, Staff]\nsharePoint: [{{site: '{TEAM_SITE}', group: owners}}]\n"),
        seed=seed())
    plan = plan_of(folder)
    assert [(c.kind, c.op, c.target) for c in plan.changes] == [
        ("group", "remove", "Approvers"),
        ("sharePoint", "add", "contoso.sharepoint.com/sites/staff owners")]


def test_a_role_for_a_user_at_risk_is_a_warning(tmp_path):
    data = seed()
    data["riskyUsers"] = [{"id": oid("alice@contoso.com"), "riskLevel": "high",
                           "riskState": "atRisk", "userPrincipalName": "alice@contoso.com"},
                          {"id": oid("bob@contoso.com"), "riskLevel": "low",
                           "riskState": "remediated", "userPrincipalName": "bob@contoso.com"}]
    folder = make_tenant(tmp_path, {
        **alice("directoryRoles: [User Administrator, Helpdesk Administrator]\n"),
        "bob": "userPrincipalName: bob@contoso.com\ndirectoryRoles: [Helpdesk Administrator]\n"},
        seed=data)
    plan = plan_of(folder)
    assert [c.user for c in plan.changes] == ["alice@contoso.com", "bob@contoso.com"]
    assert [w for w in plan.warnings if "Identity Protection" in w] == [
        "alice@contoso.com: gets Helpdesk Administrator while Identity Protection holds them "
        "at risk (riskLevel high, riskState atRisk); investigate or dismiss the risk first"]


def test_a_protected_user_gets_no_email_method_unless_the_file_allows_it(tmp_path):
    folder = make_tenant(tmp_path, {"erin": "userPrincipalName: erin@contoso.com\n"
                                            "authentication: {emailMethod: erin@example.org}\n"},
                         seed=seed())
    plan = plan_of(folder)
    assert plan.changes == []
    assert "no authentication-method change unless the file says so" in plan.errors[0].message
    erin = ("userPrincipalName: erin@contoso.com\n"
            "allowOnProtectedUser: [authenticationMethods]\n"
            "authentication: {emailMethod: erin@example.org}\n")
    allowed = make_tenant(tmp_path / "2", {"erin": erin}, seed=seed())
    assert [(c.kind, c.op) for c in plan_of(allowed).changes] == [("emailMethod", "add")]
