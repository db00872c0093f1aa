"""Calendar owner (Exchange folder permission) and named calendars (Graph): set, changed,
removed, converged, judged from the emulator's record."""

from __future__ import annotations

import pytest

from tests.tenancy import E3, cli_run, make_tenant, oid, plan_of, small_seed, store

ROOM = oid("room1@contoso.com")


@pytest.fixture
def seed():
    data = small_seed()
    bob = next(u for u in data["users"] if u["userPrincipalName"] == "bob@contoso.com")
    bob["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []}]
    data["users"].append({"id": ROOM, "userPrincipalName": "room1@contoso.com",
                          "displayName": "Room 1", "mail": "room1@contoso.com",
                          "mailNickname": "room1", "accountEnabled": False})
    data["mailboxes"] = [{"userId": ROOM, "RecipientTypeDetails": "RoomMailbox"}]
    return data


def applied_then_quiet(folder):
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    assert plan_of(folder).changes == []


def permissions(folder, owner, kind="calendarPermission"):
    return {p["emailAddress"]["address"]: p["role"]
            for p in store(folder).items(owner, kind) if p["isRemovable"]}


def folder_rights(folder, owner, kind="calendarPermission"):
    db = store(folder)
    return {p["emailAddress"]["address"]: (db.item(owner, f"folderRights:{kind}", p["id"])
                                           or {}).get("AccessRights")
            for p in db.items(owner, kind) if p["isRemovable"]}


def room(folder, body):
    (folder / "users" / "room1.yaml").write_text("userPrincipalName: room1@contoso.com\n"
                                                 + body)


def test_a_room_delegate_with_owner_on_its_calendar_applies_and_converges(tmp_path, seed):
    folder = make_tenant(tmp_path, {}, seed=seed)
    room(folder, "mailbox:\n  type: room\n  permissions: {fullAccess: [bob@contoso.com]}\n"
                 "calendar:\n  permissions: [{user: bob@contoso.com, role: owner}]\n")
    assert [(c.kind, c.op, c.target, c.after) for c in plan_of(folder).changes][-1] == (
        "calendarPermission", "add", "bob@contoso.com", {"user": "bob@contoso.com",
                                                         "role": "owner"})
    output = cli_run("plan", str(folder)).output
    assert "+ calendarPermission: bob@contoso.com: owner" in output
    applied_then_quiet(folder)
    assert permissions(folder, ROOM) == {"bob@contoso.com": "custom"}
    assert folder_rights(folder, ROOM) == {"bob@contoso.com": ["Owner"]}
    assert store(folder).item(ROOM, "mailboxPermission", oid("bob@contoso.com"))
    # owner -> read goes through Graph; read -> owner back through Exchange's Set
    room(folder, "calendar:\n  permissions: [{user: bob@contoso.com, role: read}]\n")
    applied_then_quiet(folder)
    assert permissions(folder, ROOM) == {"bob@contoso.com": "read"}
    room(folder, "calendar:\n  permissions: [{user: bob@contoso.com, role: owner}]\n")
    applied_then_quiet(folder)
    assert folder_rights(folder, ROOM) == {"bob@contoso.com": ["Owner"]}
    room(folder, "calendar:\n  permissions: []\n")
    applied_then_quiet(folder)
    assert permissions(folder, ROOM) == {}
    default = next(p for p in store(folder).items(ROOM, "calendarPermission")
                   if not p["isRemovable"])
    assert default["role"] == "freeBusyRead"  # the organization's entry is never touched


def test_a_named_calendar_shared_with_a_group_is_created_and_converges(tmp_path, seed):
    folder = make_tenant(tmp_path, {}, seed=seed)
    (folder / "users" / "bob.yaml").write_text(
        "userPrincipalName: bob@contoso.com\ncalendar:\n  calendars:\n"
        "    Team Rota: [{user: approvers@contoso.com, role: write}, "
        "{user: alice@contoso.com, role: owner}]\n")
    assert [(c.kind, c.op, c.target) for c in plan_of(folder).changes] == [
        ("calendar", "add", "Team Rota"),
        ("calendarPermission", "add", "Team Rota: alice@contoso.com"),
        ("calendarPermission", "add", "Team Rota: approvers@contoso.com")]
    applied_then_quiet(folder)
    bob = oid("bob@contoso.com")
    calendars = store(folder).items(bob, "calendar")
    assert [c["name"] for c in calendars] == ["Team Rota"]
    kind = f"calendarPermission:{calendars[0]['id']}"
    assert permissions(folder, bob, kind) == {"approvers@contoso.com": "write",
                                              "alice@contoso.com": "custom"}
    assert folder_rights(folder, bob, kind)["alice@contoso.com"] == ["Owner"]
    assert permissions(folder, bob) == {}  # the primary calendar is not touched
    (folder / "users" / "bob.yaml").write_text(
        "userPrincipalName: bob@contoso.com\ncalendar:\n  calendars:\n"
        "    Team Rota: [{user: approvers@contoso.com, role: read}]\n")
    assert sorted((c.op, c.target) for c in plan_of(folder).changes) == [
        ("change", "Team Rota: approvers@contoso.com"),
        ("remove", "Team Rota: alice@contoso.com")]
    applied_then_quiet(folder)
    assert permissions(folder, bob, kind) == {"approvers@contoso.com": "read"}
    (folder / "users" / "bob.yaml").unlink()  # import writes it back; the plan is quiet
    result = cli_run("import", "--tenant", str(folder), "--user", "bob@contoso.com")
    assert result.exit_code == 0, result.output
    assert "Team Rota:\n      - user: approvers@contoso.com\n        role: read" in \
        (folder / "users" / "bob.yaml").read_text()
    assert plan_of(folder).changes == []
