"""`id` anchors: a file whose id is a live user under another UPN renames that user."""

from __future__ import annotations

from reconciler.render.text import render_text
from tests.tenancy import audits, cli_run, lines, make_tenant, oid, plan_of, store

ALICE = oid("alice@contoso.com")


def renamed_file(extra: str = "") -> dict[str, str]:
    return {"alice": f"userPrincipalName: alice.smith@contoso.com\nid: {ALICE}\n" + extra}


def test_a_rename_by_id_is_one_change_applied_then_clean(tmp_path):
    folder = make_tenant(tmp_path, renamed_file(
        "profile: {jobTitle: Lead}\ngroups: [Engineering, Approvers, Staff, Oncall]\n"))
    plan = plan_of(folder)
    assert lines(plan) == [
        ("alice.smith", "user", "change", "userPrincipalName", "alice@contoso.com",
         "alice.smith@contoso.com"),
        ("alice.smith", "profile", "change", "jobTitle", "Engineer", "Lead"),
        ("alice.smith", "group", "add", "Oncall", None, "Oncall"),
    ]
    assert "mail address stays alice@contoso.com" in plan.changes[0].note
    text = render_text(plan)
    assert "# alice.smith@contoso.com will be renamed" in text
    assert "~ userPrincipalName: 'alice@contoso.com' -> 'alice.smith@contoso.com'" in text
    before = len(audits(folder))
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    written = audits(folder)[before:]
    # the rename first, then the rest on the same object; no account created
    assert [a["activityDisplayName"] for a in written] == [
        "Update user", "Update user", "Add member to group"]
    rename = written[0]["targetResources"][0]
    assert rename["id"] == ALICE and rename["modifiedProperties"] == [
        {"displayName": "userPrincipalName", "oldValue": '"alice@contoso.com"',
         "newValue": '"alice.smith@contoso.com"'}]
    assert all(a["targetResources"][0]["id"] == ALICE for a in written[:2])
    db = store(folder)
    alice = db.get_object(ALICE)
    assert alice["userPrincipalName"] == "alice.smith@contoso.com"
    assert alice["jobTitle"] == "Lead"
    assert plan_of(folder).changes == []
    assert cli_run("plan", str(folder), "--detailed-exitcode").exit_code == 0


def test_without_id_a_new_upn_is_a_new_account(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice.smith@contoso.com\n"
                                             "profile: {displayName: Alice}\n"})
    assert [(c.kind, c.op) for c in plan_of(folder).changes] == [("user", "add")]


def test_an_id_that_is_another_user_is_an_error(tmp_path):
    folder = make_tenant(tmp_path, {
        "bob": f"userPrincipalName: bob@contoso.com\nid: {ALICE}\n"})
    plan = plan_of(folder)
    assert [(e.path, e.line) for e in plan.errors] == [("id", 2)]
    assert "bob@contoso.com is directory object" in plan.errors[0].message


def test_two_files_for_one_object_is_an_error(tmp_path):
    folder = make_tenant(tmp_path, {**renamed_file(),
                                    "old": "userPrincipalName: alice@contoso.com\n"})
    plan = plan_of(folder)
    assert [e.path for e in plan.errors] == ["id"]
    assert "describes too" in plan.errors[0].message
    assert result_of_apply_sends_nothing(folder)


def result_of_apply_sends_nothing(folder) -> bool:
    before = len(audits(folder))
    result = cli_run("apply", str(folder), "--auto-approve")
    return result.exit_code != 0 and len(audits(folder)) == before


def test_an_unknown_id_plans_a_new_account_and_says_so(tmp_path):
    folder = make_tenant(tmp_path, {
        "zed": "userPrincipalName: zed@contoso.com\nid: 00000000-0000-4000-8000-000000000001\n"
               "profile: {displayName: Zed}\n"})
    plan = plan_of(folder)
    assert [(c.kind, c.op) for c in plan.changes] == [("user", "add")]
    assert any("matches no user in the tenant" in w for w in plan.warnings)


def test_a_renamed_mailbox_gets_its_settings_in_the_same_apply(tmp_path):
    folder = make_tenant(tmp_path, renamed_file(
        "mailbox: {forwarding: {address: bob@contoso.com, keepCopy: false}}\n"))
    assert [(c.kind, c.op) for c in plan_of(folder).changes] == [
        ("user", "change"), ("forwarding", "add")]
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    box = store(folder).item(ALICE, "mailbox", "mailbox")
    assert box["ForwardingSmtpAddress"] == "smtp:bob@contoso.com"
    assert plan_of(folder).changes == []
