"""Room and equipment mailboxes, quotas and proxy addresses: set, changed, removed on a served
emulator, judged from its record; import then plan shows no changes."""

from __future__ import annotations

import json

import pytest

from tests.tenancy import E3, cli_run, lines, make_tenant, oid, plan_of, small_seed, store

GB = 1024 ** 3


@pytest.fixture
def seed():
    data = small_seed()
    bob = next(u for u in data["users"] if u["userPrincipalName"] == "bob@contoso.com")
    bob["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []}]
    data["users"].append({"id": oid("room1@contoso.com"), "userPrincipalName": "room1@contoso.com",
                          "displayName": "Room 1", "mail": "room1@contoso.com",
                          "mailNickname": "room1", "accountEnabled": False})
    data["mailboxes"] = [{"userId": oid("room1@contoso.com"),
                          "RecipientTypeDetails": "RoomMailbox"}]
    return data


def write(folder, name, body):
    (folder / "users" / f"{name}.yaml").write_text(f"userPrincipalName: {name}@contoso.com\n"
                                                   + body)


def applied_then_quiet(folder):
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert plan_of(folder).changes == []


def box(folder, name):
    return store(folder).item(oid(f"{name}@contoso.com"), "mailbox", "mailbox") or {}


def test_a_mailbox_becomes_equipment_then_room_then_user(tmp_path, seed):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "mailbox: {type: equipment}\n"}, seed=seed)
    assert lines(plan_of(folder)) == [("alice", "mailboxType", "change", "type", "user",
                                       "equipment")]
    assert "~ mailboxType: 'user' -> 'equipment'" in cli_run("plan", str(folder)).output
    applied_then_quiet(folder)
    assert box(folder, "alice")["RecipientTypeDetails"] == "EquipmentMailbox"
    write(folder, "alice", "mailbox: {type: room}\n")
    applied_then_quiet(folder)
    assert box(folder, "alice")["RecipientTypeDetails"] == "RoomMailbox"
    write(folder, "alice", "mailbox: {type: user}\n")
    applied_then_quiet(folder)
    assert box(folder, "alice")["RecipientTypeDetails"] == "UserMailbox"


def test_quotas_are_set_changed_and_compared_in_bytes(tmp_path, seed):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\nmailbox:\n"
                                             "  quota: {issueWarning: 49GB, prohibitSend: "
                                             "49.5GB, prohibitSendReceive: 50GB}\n"},
                         seed=seed)
    assert lines(plan_of(folder)) == [
        ("alice", "mailboxQuota", "change", "quota",
         {"issueWarning": "98GB", "prohibitSend": "99GB", "prohibitSendReceive": "100GB"},
         {"issueWarning": "49GB", "prohibitSend": "49.5GB", "prohibitSendReceive": "50GB"})]
    applied_then_quiet(folder)
    stored = box(folder, "alice")
    assert (stored["IssueWarningQuota"], stored["ProhibitSendQuota"],
            stored["ProhibitSendReceiveQuota"]) == (49 * GB, int(49.5 * GB), 50 * GB)
    write(folder, "alice", "mailbox:\n  quota: {issueWarning: 50176MB}\n")  # = 49GB
    assert plan_of(folder).changes == []
    write(folder, "alice", "mailbox:\n  quota: {issueWarning: 40GB}\n")
    applied_then_quiet(folder)
    assert box(folder, "alice")["IssueWarningQuota"] == 40 * GB
    write(folder, "alice", "mailbox:\n  quota: {prohibitSend: 60GB}\n")
    plan = plan_of(folder)
    assert plan.changes == [] and "must not exceed prohibitSendReceive" in str(plan.errors)


def test_addresses_are_added_and_removed_and_a_taken_one_is_an_error(tmp_path, seed):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\nmailbox:\n"
                                             "  addresses: [smtp:a.liddell@contoso.com, "
                                             "smtp:wonder@contoso.com]\n"}, seed=seed)
    assert lines(plan_of(folder)) == [
        ("alice", "mailboxAddress", "add", "smtp:a.liddell@contoso.com", None,
         "smtp:a.liddell@contoso.com"),
        ("alice", "mailboxAddress", "add", "smtp:wonder@contoso.com", None,
         "smtp:wonder@contoso.com")]
    applied_then_quiet(folder)
    assert box(folder, "alice")["EmailAddresses"] == ["smtp:a.liddell@contoso.com",
                                                      "smtp:wonder@contoso.com"]
    served = store(folder).get_object(oid("alice@contoso.com"))
    assert "smtp:wonder@contoso.com" in served["proxyAddresses"]
    write(folder, "alice", "mailbox:\n  addresses: [smtp:a.liddell@contoso.com]\n")
    applied_then_quiet(folder)
    assert box(folder, "alice")["EmailAddresses"] == ["smtp:a.liddell@contoso.com"]
    write(folder, "bob", "mailbox:\n  addresses: [smtp:a.liddell@contoso.com]\n")
    plan = plan_of(folder)
    assert [c for c in plan.changes if c.user.startswith("bob")] == []
    assert "a.liddell@contoso.com is already held by alice@contoso.com" in str(plan.errors)
    assert "users/bob.yaml:3" in str(plan.errors[0])
    write(folder, "bob", "mailbox:\n  addresses: [smtp:staff@contoso.com]\n")
    assert "held by the group Staff" in str(plan_of(folder).errors)
    write(folder, "bob", "mailbox:\n  addresses: []\n")
    write(folder, "alice", "mailbox:\n  addresses: []\n")
    applied_then_quiet(folder)
    assert box(folder, "alice")["EmailAddresses"] == []


def test_import_then_plan_shows_no_changes_for_rooms_equipment_quotas_addresses(tmp_path,
                                                                                   seed):
    seed["users"].append({"id": oid("kit@contoso.com"), "userPrincipalName": "kit@contoso.com",
                          "displayName": "Projector kit", "mail": "kit@contoso.com",
                          "mailNickname": "kit", "accountEnabled": False})
    seed["mailboxes"] += [
        {"userId": oid("kit@contoso.com"), "RecipientTypeDetails": "EquipmentMailbox"},
        {"userId": oid("alice@contoso.com"), "RecipientTypeDetails": "UserMailbox",
         "EmailAddresses": ["smtp:a.liddell@contoso.com", "SIP:alice@contoso.com"],
         "IssueWarningQuota": int(49.5 * GB), "ProhibitSendQuota": 50 * GB,
         "ProhibitSendReceiveQuota": 50 * GB}]
    folder = make_tenant(tmp_path, {}, seed=seed)
    result = cli_run("import", "--tenant", str(folder))
    assert result.exit_code == 0, result.output
    import yaml

    alice = yaml.safe_load((folder / "users" / "alice.yaml").read_text())
    assert alice["mailbox"]["addresses"] == ["smtp:a.liddell@contoso.com"]
    assert alice["mailbox"]["quota"] == {"issueWarning": "49.5GB", "prohibitSend": "50GB",
                                         "prohibitSendReceive": "50GB"}
    assert yaml.safe_load((folder / "users" / "room1.yaml").read_text())["mailbox"][
        "type"] == "room"
    assert yaml.safe_load((folder / "users" / "kit.yaml").read_text())["mailbox"][
        "type"] == "equipment"
    plan = cli_run("plan", str(folder), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert json.dumps(box(folder, "alice")).count("SIP:") == 1
