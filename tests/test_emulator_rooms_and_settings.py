"""The emulator's authorization policy, resource mailboxes, quotas, proxy addresses, folder
permissions and named calendars: documented shapes and refusals."""

from __future__ import annotations

import pytest

from reconciler.emulator.generate import generate_seed
from reconciler.graph.errors import GraphError
from tests.emulated import client, emulator, exchange

GUEST = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
RESTRICTED = "2af84b1e-32c8-42b7-82bc-daa82404023b"


@pytest.fixture
def tenant():
    seed = generate_seed(users=4, groups=10, memberships=0)
    em = emulator(seed)
    return em, client(em), exchange(em), seed


def test_authorization_policy_is_a_v1_singleton_patched_member_by_member(tenant):
    em, graph, _, _ = tenant
    policy = graph.get("/policies/authorizationPolicy")
    assert policy["id"] == "authorizationPolicy" and policy["guestUserRoleId"] == GUEST
    reply = graph.write("PATCH", "/policies/authorizationPolicy",
                        {"guestUserRoleId": RESTRICTED,
                         "defaultUserRolePermissions": {"allowedToCreateApps": False}})
    assert reply.status == 204
    policy = graph.get("/policies/authorizationPolicy")
    assert policy["guestUserRoleId"] == RESTRICTED
    assert policy["defaultUserRolePermissions"]["allowedToCreateApps"] is False
    assert policy["defaultUserRolePermissions"]["allowedToCreateSecurityGroups"] is True
    record = em.store.audits()[-1]
    assert record["activityDisplayName"] == "Update authorization policy"


@pytest.mark.parametrize("body", [
    {"guestUserRoleId": "62e90394-69f5-4237-9190-012177145e10"},  # Global Administrator
    {"allowInvitesFrom": "anyone"},
    {"defaultUserRolePermissions": {"allowedToCreateApps": "no"}},
    {"hideKeepMeSignedIn": True},
])
def test_authorization_policy_refuses_what_graph_refuses(tenant, body):
    _, graph, _, _ = tenant
    before = graph.get("/policies/authorizationPolicy")
    error = graph.write("PATCH", "/policies/authorizationPolicy", body).error
    assert (error.status, error.code) == (400, "Request_BadRequest")
    assert graph.get("/policies/authorizationPolicy") == before


def test_room_and_equipment_types_need_no_license(tenant):
    _, graph, exo, seed = tenant
    upn = seed["users"][0]["userPrincipalName"]
    exo.invoke("Set-Mailbox", {"Identity": upn, "Type": "Room"})
    box = exo.invoke("Get-Mailbox", {"Identity": upn})[0]
    assert (box["RecipientTypeDetails"], box["ResourceType"]) == ("RoomMailbox", "Room")
    exo.invoke("Set-Mailbox", {"Identity": upn, "Type": "Equipment"})
    box = exo.invoke("Get-Mailbox", {"Identity": upn})[0]
    assert (box["RecipientTypeDetails"], box["ResourceType"]) == ("EquipmentMailbox", "Equipment")
    with pytest.raises(GraphError) as caught:
        exo.invoke("Set-Mailbox", {"Identity": upn, "Type": "Desk2"})
    assert "Regular, Room, Equipment, Shared" in caught.value.message
    exo.invoke("Set-Mailbox", {"Identity": upn, "Type": "Regular"})
    assert exo.invoke("Get-Mailbox", {"Identity": upn})[0]["ResourceType"] is None


def test_quotas_are_reported_as_exchange_prints_them(tenant):
    _, _, exo, seed = tenant
    upn = seed["users"][0]["userPrincipalName"]
    box = exo.invoke("Get-Mailbox", {"Identity": upn})[0]
    assert box["ProhibitSendReceiveQuota"] == "100 GB (107,374,182,400 bytes)"
    exo.invoke("Set-Mailbox", {"Identity": upn, "IssueWarningQuota": "49GB",
                               "ProhibitSendQuota": "49.5GB", "ProhibitSendReceiveQuota": "50GB"})
    box = exo.invoke("Get-Mailbox", {"Identity": upn})[0]
    assert box["IssueWarningQuota"] == "49 GB (52,613,349,376 bytes)"
    assert box["ProhibitSendQuota"] == "49.5 GB (53,150,220,288 bytes)"
    assert box["ProhibitSendReceiveQuota"] == "50 GB (53,687,091,200 bytes)"
    exo.invoke("Set-Mailbox", {"Identity": upn, "IssueWarningQuota": "900MB"})
    assert exo.invoke("Get-Mailbox", {"Identity": upn})[0]["IssueWarningQuota"] == \
        "900 MB (943,718,400 bytes)"
    with pytest.raises(GraphError) as caught:
        exo.invoke("Set-Mailbox", {"Identity": upn, "ProhibitSendQuota": "60GB"})
    assert "ProhibitSendReceiveQuota" in caught.value.message
    with pytest.raises(GraphError):
        exo.invoke("Set-Mailbox", {"Identity": upn, "IssueWarningQuota": "lots"})
    exo.invoke("Set-Mailbox", {"Identity": upn, "ProhibitSendReceiveQuota": "Unlimited"})
    assert exo.invoke("Get-Mailbox", {"Identity": upn})[0]["ProhibitSendReceiveQuota"] == \
        "Unlimited"


def test_email_addresses_add_and_remove_and_follow_in_graph(tenant):
    _, graph, exo, seed = tenant
    user, other = seed["users"][0], seed["users"][1]
    domain = user["userPrincipalName"].split("@")[1]
    table = "#Exchange.GenericHashTable"
    exo.invoke("Set-Mailbox", {"Identity": user["userPrincipalName"], "EmailAddresses": {
        "@odata.type": table, "Add": [f"smtp:alias1@{domain}", f"alias2@{domain}"]}})
    box = exo.invoke("Get-Mailbox", {"Identity": user["userPrincipalName"]})[0]
    assert box["EmailAddresses"] == [f"SMTP:{user['mail']}", f"smtp:alias1@{domain}",
                                     f"smtp:alias2@{domain}"]
    served = graph.get(f"/users/{user['id']}", {"$select": "proxyAddresses"})
    assert f"smtp:alias2@{domain}" in served["proxyAddresses"]
    exo.invoke("Set-Mailbox", {"Identity": user["userPrincipalName"], "EmailAddresses": {
        "@odata.type": table, "Remove": [f"smtp:alias1@{domain}"]}})
    box = exo.invoke("Get-Mailbox", {"Identity": user["userPrincipalName"]})[0]
    assert box["EmailAddresses"] == [f"SMTP:{user['mail']}", f"smtp:alias2@{domain}"]
    with pytest.raises(GraphError) as caught:  # another recipient holds it
        exo.invoke("Set-Mailbox", {"Identity": other["userPrincipalName"], "EmailAddresses": {
            "@odata.type": table, "Add": [f"smtp:alias2@{domain}"]}})
    assert caught.value.code == "ProxyAddressExistsException"
    assert user["displayName"] in caught.value.message
    with pytest.raises(GraphError):  # not an accepted domain
        exo.invoke("Set-Mailbox", {"Identity": user["userPrincipalName"], "EmailAddresses": {
            "@odata.type": table, "Add": ["smtp:x@fabrikam.com"]}})
    with pytest.raises(GraphError):  # the primary stays
        exo.invoke("Set-Mailbox", {"Identity": user["userPrincipalName"], "EmailAddresses": {
            "@odata.type": table, "Remove": [f"SMTP:{user['mail']}"]}})


def test_folder_permission_owner_shows_as_custom_in_graph(tenant):
    _, graph, exo, seed = tenant
    owner, delegate = seed["users"][0], seed["users"][1]
    folder = f"{owner['userPrincipalName']}:\\Calendar"
    exo.invoke("Add-MailboxFolderPermission", {"Identity": folder,
                                               "User": delegate["userPrincipalName"],
                                               "AccessRights": ["Owner"]})
    rows = exo.invoke("Get-MailboxFolderPermission", {"Identity": folder})
    assert [(r["User"], r["AccessRights"]) for r in rows] == [
        ("Default", ["AvailabilityOnly"]), ("Anonymous", ["None"]),
        (delegate["displayName"], ["Owner"])]
    listed = graph.list(f"/users/{owner['id']}/calendar/calendarPermissions")
    assert [(p["emailAddress"]["address"], p["role"]) for p in listed][1:] == [
        (delegate["mail"], "custom")]
    with pytest.raises(GraphError) as caught:
        exo.invoke("Add-MailboxFolderPermission", {"Identity": folder,
                                                   "User": delegate["userPrincipalName"],
                                                   "AccessRights": ["Reviewer"]})
    assert caught.value.code == "UserAlreadyExistsInPermissionEntryException"
    exo.invoke("Set-MailboxFolderPermission", {"Identity": folder,
                                               "User": delegate["userPrincipalName"],
                                               "AccessRights": ["Reviewer"]})
    listed = graph.list(f"/users/{owner['id']}/calendar/calendarPermissions")
    assert listed[1]["role"] == "read"
    with pytest.raises(GraphError):
        exo.invoke("Remove-MailboxFolderPermission", {"Identity": folder, "User": "Default"})
    exo.invoke("Remove-MailboxFolderPermission", {"Identity": folder,
                                                  "User": delegate["userPrincipalName"]})
    with pytest.raises(GraphError) as caught:
        exo.invoke("Remove-MailboxFolderPermission", {"Identity": folder,
                                                      "User": delegate["userPrincipalName"]})
    assert caught.value.code == "UserNotFoundInPermissionEntryException"


def test_named_calendars_through_graph_and_exchange(tenant):
    _, graph, exo, seed = tenant
    owner, reader = seed["users"][0], seed["users"][1]
    created = graph.write("POST", f"/users/{owner['id']}/calendars", {"name": "Team Rota"})
    assert created.status == 201 and created.body["isDefaultCalendar"] is False
    again = graph.write("POST", f"/users/{owner['id']}/calendars", {"name": "team rota"})
    assert again.error.status == 409
    names = [c["name"] for c in graph.list(f"/users/{owner['id']}/calendars")]
    assert names == ["Calendar", "Team Rota"]
    path = f"/users/{owner['id']}/calendars/{created.body['id']}/calendarPermissions"
    added = graph.write("POST", path, {"emailAddress": {"address": reader["mail"]},
                                       "role": "write"})
    assert added.status == 201
    rows = exo.invoke("Get-MailboxFolderPermission",
                      {"Identity": f"{owner['userPrincipalName']}:\\Calendar\\Team Rota"})
    assert (rows[-1]["User"], rows[-1]["AccessRights"]) == (reader["displayName"], ["Editor"])
    assert graph.write("DELETE", f"{path}/{added.body['id']}").status == 204
    assert graph.list(f"/users/{owner['id']}/calendar/calendarPermissions")[1:] == []
    with pytest.raises(GraphError):
        exo.invoke("Get-MailboxFolderPermission",
                   {"Identity": f"{owner['userPrincipalName']}:\\Calendar\\Nope"})
