"""Mailbox and calendar permissions, forwarding, automatic replies, shared mailboxes."""

from __future__ import annotations

import pytest

from tests.tenancy import E3, audits, cli_run, lines, make_tenant, oid, plan_of, small_seed, store


@pytest.fixture
def seed():
    data = small_seed()
    bob = next(u for u in data["users"] if u["userPrincipalName"] == "bob@contoso.com")
    bob["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []}]  # bob gets a mailbox
    data["mailboxPermissions"] = [{"mailbox": oid("alice@contoso.com"),
                                   "trustee": oid("erin@contoso.com"), "right": "FullAccess"}]
    data["calendarPermissions"] = [{"userId": oid("alice@contoso.com"),
                                    "address": "erin@contoso.com", "role": "read"}]
    return data


def alice(body: str) -> dict[str, str]:
    return {"alice": "userPrincipalName: alice@contoso.com\n" + body}


def applied_then_quiet(folder) -> None:
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    written = len(audits(folder))
    assert plan_of(folder).changes == []
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert len(audits(folder)) == written


def test_each_permission_kind_is_added_and_removed(tmp_path, seed):
    folder = make_tenant(tmp_path, alice("""\
mailbox:
  permissions:
    fullAccess: [{user: bob@contoso.com, automapping: false}]
    sendAs: [bob@contoso.com]
    sendOnBehalf: [staff@contoso.com]
"""), seed=seed)
    assert lines(plan_of(folder)) == [
        ("alice", "mailboxPermission", "add", "fullAccess: bob@contoso.com", None,
         {"right": "fullAccess", "trustee": "bob@contoso.com"}),
        ("alice", "mailboxPermission", "remove", "fullAccess: erin@contoso.com",
         {"right": "fullAccess", "trustee": "erin@contoso.com"}, None),
        ("alice", "mailboxPermission", "add", "sendAs: bob@contoso.com", None,
         {"right": "sendAs", "trustee": "bob@contoso.com"}),
        ("alice", "mailboxPermission", "add", "sendOnBehalf: staff@contoso.com", None,
         {"right": "sendOnBehalf", "trustee": "staff@contoso.com"}),
    ]
    applied_then_quiet(folder)
    db = store(folder)
    assert db.item(oid("alice@contoso.com"), "mailboxPermission", oid("bob@contoso.com")) == {
        "trustee": oid("bob@contoso.com"), "automapping": False}
    assert db.item(oid("alice@contoso.com"), "mailboxPermission", oid("erin@contoso.com")) \
        is None
    (folder / "users" / "alice.yaml").write_text(
        "userPrincipalName: alice@contoso.com\nmailbox:\n  permissions:\n"
        "    fullAccess: []\n    sendAs: []\n    sendOnBehalf: []\n")
    assert sorted(c.op for c in plan_of(folder).changes) == ["remove"] * 3
    applied_then_quiet(folder)


def test_an_unknown_trustee_is_an_error_with_candidates(tmp_path, seed):
    folder = make_tenant(tmp_path, alice("mailbox:\n  permissions:\n"
                                         "    sendAs: [bobb@contoso.com]\n"), seed=seed)
    plan = plan_of(folder)
    assert plan.changes == []
    assert plan.errors[0].path == "mailbox.permissions.sendAs[0]"
    assert plan.errors[0].message.startswith(
        "unknown trustee 'bobb@contoso.com' (did you mean: bob@contoso.com")


def test_a_user_without_a_mailbox_is_an_error_at_plan_not_halfway(tmp_path, seed):
    folder = make_tenant(tmp_path, {
        **alice("profile: {jobTitle: Lead}\n"),
        "carol": "userPrincipalName: carol@contoso.com\n"
                 "calendar:\n  permissions: [{user: alice@contoso.com, role: read}]\n"},
        seed=seed)
    plan = plan_of(folder)
    assert [(e.path, e.message) for e in plan.errors] == [
        ("calendar.permissions", "carol@contoso.com has no mailbox (it needs a license with "
         "Exchange Online, or to be a shared, room or equipment mailbox already): nothing "
         "is planned for it")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 1
    assert audits(folder) == []


def test_forwarding_is_set_changed_and_stopped(tmp_path, seed):
    folder = make_tenant(tmp_path, alice("mailbox:\n  forwarding: {address: "
                                         "archive@fabrikam.com, keepCopy: false}\n"), seed=seed)
    plan = plan_of(folder)
    assert lines(plan) == [("alice", "forwarding", "add", "forwarding", None,
                            {"address": "archive@fabrikam.com", "keepCopy": False})]
    assert any("leaves the organization" in w for w in plan.warnings)
    applied_then_quiet(folder)
    box = store(folder).item(oid("alice@contoso.com"), "mailbox", "mailbox")
    assert box["ForwardingSmtpAddress"] == "smtp:archive@fabrikam.com"
    assert box["DeliverToMailboxAndForward"] is False
    (folder / "users" / "alice.yaml").write_text(
        "userPrincipalName: alice@contoso.com\nmailbox: {forwarding: null}\n")
    assert [c.op for c in plan_of(folder).changes] == ["remove"]
    applied_then_quiet(folder)


def test_a_mailbox_converts_to_shared_and_back(tmp_path, seed):
    folder = make_tenant(tmp_path, alice("mailbox: {type: shared}\n"), seed=seed)
    assert lines(plan_of(folder)) == [("alice", "mailboxType", "change", "type", "user",
                                       "shared")]
    applied_then_quiet(folder)
    box = store(folder).item(oid("alice@contoso.com"), "mailbox", "mailbox")
    assert box["RecipientTypeDetails"] == "SharedMailbox"
    (folder / "users" / "alice.yaml").write_text(
        "userPrincipalName: alice@contoso.com\nmailbox: {type: user}\n")
    applied_then_quiet(folder)
    box = store(folder).item(oid("alice@contoso.com"), "mailbox", "mailbox")
    assert box["RecipientTypeDetails"] == "UserMailbox"


def test_automatic_replies_are_scheduled_in_utc(tmp_path, seed):
    folder = make_tenant(tmp_path, alice("""\
mailbox:
  automaticReplies:
    status: scheduled
    start: 2026-12-20T18:00:00+01:00
    end: 2027-01-04T08:00:00Z
    internalMessage: Out until January 4.
    externalAudience: contactsOnly
"""), seed=seed)
    change = plan_of(folder).changes[0]
    assert change.after["start"] == "2026-12-20T18:00:00+01:00"
    assert change.apply["setting"]["scheduledStartDateTime"] == {
        "dateTime": "2026-12-20T17:00:00", "timeZone": "UTC"}
    applied_then_quiet(folder)


def test_calendar_permissions_add_change_remove_and_leave_the_default(tmp_path, seed):
    folder = make_tenant(tmp_path, alice("""\
calendar:
  permissions:
    - {user: bob@contoso.com, role: delegateWithPrivateEventAccess}
    - {user: x@fabrikam.com, role: freeBusyRead}
"""), seed=seed)
    assert lines(plan_of(folder)) == [
        ("alice", "calendarPermission", "add", "bob@contoso.com", None,
         {"user": "bob@contoso.com", "role": "delegateWithPrivateEventAccess"}),
        ("alice", "calendarPermission", "remove", "erin@contoso.com",
         {"user": "erin@contoso.com", "role": "read"}, None),
        ("alice", "calendarPermission", "add", "x@fabrikam.com", None,
         {"user": "x@fabrikam.com", "role": "freeBusyRead"}),
    ]
    applied_then_quiet(folder)
    (folder / "users" / "alice.yaml").write_text(
        "userPrincipalName: alice@contoso.com\ncalendar:\n  permissions:\n"
        "    - {user: bob@contoso.com, role: read}\n")
    assert [(c.op, c.after) for c in plan_of(folder).changes] == [
        ("change", {"user": "bob@contoso.com", "role": "read"}), ("remove", None)]
    applied_then_quiet(folder)
    entries = store(folder).items(oid("alice@contoso.com"), "calendarPermission")
    assert {e["emailAddress"]["name"]: e["role"] for e in entries} == {
        "My Organization": "freeBusyRead", "bob@contoso.com": "read"}


def test_delegate_roles_for_outsiders_are_refused_at_plan(tmp_path, seed):
    folder = make_tenant(tmp_path, alice("calendar:\n  permissions:\n"
                                         "    - {user: x@fabrikam.com, role: "
                                         "delegateWithoutPrivateEventAccess}\n"), seed=seed)
    errors = plan_of(folder).errors
    assert errors[0].path == "calendar.permissions[0].role"
    assert "only for people inside the organization" in errors[0].message


def test_a_calendar_grant_changed_out_of_band_refuses_the_saved_plan(tmp_path, seed):
    folder = make_tenant(tmp_path, alice("""\
calendar:
  permissions:
    - {user: bob@contoso.com, role: read}
    - {user: erin@contoso.com, role: read}
"""), seed=seed)
    saved = tmp_path / "plan.json"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    db = store(folder)
    owner = oid("alice@contoso.com")
    erin = next(e for e in db.items(owner, "calendarPermission")
                if (e.get("emailAddress") or {}).get("address") == "erin@contoso.com")
    with db.transaction():  # someone makes erin an editor in Outlook meanwhile
        db.put_item(owner, "calendarPermission", erin["id"], {**erin, "role": "write"})
    written = len(audits(folder))
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1
    assert "refused: the tenant changed since the plan was made: alice@contoso.com: " \
           "calendar permissions" in result.stderr
    assert len(audits(folder)) == written  # nothing was sent
