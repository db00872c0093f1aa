"""The emulator's Outlook and Exchange side, and account routes: shapes and refusals."""

from __future__ import annotations

import pytest

from reconciler.emulator.generate import generate_seed
from reconciler.graph import requests as api
from reconciler.graph.errors import GraphError
from reconciler.graph.properties import group_kind
from tests.emulated import client, emulator, exchange

E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"


@pytest.fixture
def tenant():
    seed = generate_seed(users=4, groups=10, memberships=0)
    seed["users"].append({"id": "bbbbbbbb-0000-4000-8000-000000000001", "usageLocation": "US",
                          "userPrincipalName": "unlicensed@contoso.com", "displayName": "U"})
    em = emulator(seed)
    return em, client(em), exchange(em), seed


def send(graph, request):
    return graph.write(request.method, request.path, request.body, content=request.content,
                       content_type=request.headers.get("Content-Type"))


def test_a_user_without_a_mailbox_has_no_calendar(tenant):
    _, graph, _, _ = tenant
    with pytest.raises(GraphError) as caught:
        graph.get("/users/bbbbbbbb-0000-4000-8000-000000000001/calendar/calendarPermissions")
    assert (caught.value.status, caught.value.code) == (404, "MailboxNotEnabledForRESTAPI")


def test_calendar_permissions_add_change_remove(tenant):
    _, graph, _, seed = tenant
    owner, delegate = seed["users"][0], seed["users"][1]
    added = send(graph, api.add_calendar_permission(owner["id"], "D", delegate["mail"], "write"))
    assert added.ok and added.body["role"] == "write"
    duplicate = send(graph, api.add_calendar_permission(owner["id"], "D", delegate["mail"],
                                                        "read"))
    assert duplicate.error.status == 409
    assert send(graph, api.update_calendar_permission(owner["id"], added.body["id"],
                                                      "read")).ok
    listed = graph.list(f"/users/{owner['id']}/calendar/calendarPermissions")
    assert {(p["emailAddress"].get("address"), p["role"]) for p in listed} == {
        (None, "freeBusyRead"), (delegate["mail"], "read")}
    assert send(graph, api.remove_calendar_permission(owner["id"], added.body["id"])).ok
    default = send(graph, api.remove_calendar_permission(owner["id"], "RGVmYXVsdA=="))
    assert default.error.status == 400


def test_delegate_roles_are_refused_for_people_outside_the_organization(tenant):
    _, graph, _, seed = tenant
    result = send(graph, api.add_calendar_permission(
        seed["users"][0]["id"], "X", "x@fabrikam.com", "delegateWithPrivateEventAccess"))
    assert result.error.status == 400


def test_automatic_replies_are_stored_and_enum_case_is_normalised(tenant):
    _, graph, _, seed = tenant
    user = seed["users"][0]["id"]
    setting = {"status": "Scheduled", "externalAudience": "contactsOnly",
               "scheduledStartDateTime": {"dateTime": "2026-12-20T17:00:00", "timeZone": "UTC"},
               "scheduledEndDateTime": {"dateTime": "2027-01-04T08:00:00", "timeZone": "UTC"}}
    assert send(graph, api.set_automatic_replies(user, setting)).ok
    stored = graph.get(f"/users/{user}/mailboxSettings/automaticRepliesSetting")
    assert stored["status"] == "scheduled" and stored["externalAudience"] == "contactsOnly"


def test_phone_methods_follow_the_rules(tenant):
    _, graph, _, seed = tenant
    user = seed["users"][0]["id"]
    alternate_first = send(graph, api.add_phone_method(user, "alternateMobile", "+1 4255550102"))
    assert alternate_first.error.status == 400
    assert send(graph, api.add_phone_method(user, "mobile", "+1 4255550101")).ok
    assert send(graph, api.add_phone_method(user, "mobile", "+1 4255550109")).error.status == 400
    assert send(graph, api.add_phone_method(user, "alternateMobile", "+1 4255550102")).ok
    mobile = "3179e48a-750b-4051-897c-87b9720928f7"
    assert send(graph, api.remove_phone_method(user, mobile)).error.status == 400
    assert send(graph, api.update_phone_method(user, mobile, "+1 4255550111")).ok
    bad = send(graph, api.update_phone_method(user, mobile, "425-555-0111"))
    assert bad.error.status == 400
    methods = graph.list(f"/users/{user}/authentication/methods")
    phones = {m["phoneType"]: m["phoneNumber"] for m in methods if "phoneType" in m}
    assert phones == {"mobile": "+1 4255550111", "alternateMobile": "+1 4255550102"}


def test_photos_are_judged_by_content(tenant):
    _, graph, _, seed = tenant
    user = seed["users"][0]["id"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    assert send(graph, api.put_photo(user, png, "image/png")).ok
    assert graph.get(f"/users/{user}/photo")["@odata.mediaContentType"] == "image/png"
    assert send(graph, api.put_photo(user, b"not an image", "image/jpeg")).error.status == 400


def test_revoke_and_invitations(tenant):
    _, graph, _, seed = tenant
    revoked = send(graph, api.revoke_sessions(seed["users"][0]["id"]))
    assert revoked.ok and revoked.body["value"] is True
    invited = send(graph, api.invite_guest("pat@fabrikam.com", "https://myapps.microsoft.com"))
    assert invited.status == 201
    guest = graph.get(f"/users/{invited.body['invitedUser']['id']}",
                      {"$select": "userType,externalUserState,userPrincipalName"})
    assert guest["userType"] == "Guest" and guest["externalUserState"] == "PendingAcceptance"
    assert guest["userPrincipalName"].startswith("pat_fabrikam.com#EXT#@")
    again = send(graph, api.invite_guest("pat@fabrikam.com", "https://myapps.microsoft.com"))
    assert again.body["invitedUser"]["id"] == invited.body["invitedUser"]["id"]


def test_open_extensions_record_state_on_the_user(tenant):
    _, graph, _, seed = tenant
    user = seed["users"][0]["id"]
    body = {"@odata.type": "microsoft.graph.openTypeExtension",
            "extensionName": "io.reconciler.actions", "done": "[]"}
    assert send(graph, api.add_extension(user, body)).ok
    assert send(graph, api.add_extension(user, body)).error.status == 409
    assert send(graph, api.update_extension(user, "io.reconciler.actions",
                                            {"done": '["a"]'})).ok
    stored = graph.get(f"/users/{user}/extensions/io.reconciler.actions")
    assert stored["done"] == '["a"]'


def test_exchange_mailbox_type_forwarding_and_send_on_behalf(tenant):
    em, _, exo, seed = tenant
    owner, helper = seed["users"][0], seed["users"][1]
    exo.invoke("Set-Mailbox", {"Identity": owner["userPrincipalName"], "Type": "Shared",
                               "ForwardingSmtpAddress": "archive@fabrikam.com",
                               "DeliverToMailboxAndForward": True,
                               "GrantSendOnBehalfTo": {"@odata.type":
                                                       "#Exchange.GenericHashTable",
                                                       "add": helper["userPrincipalName"]}})
    mailbox = exo.invoke("Get-Mailbox", {"Identity": owner["userPrincipalName"]})[0]
    assert mailbox["RecipientTypeDetails"] == "SharedMailbox"
    assert mailbox["ForwardingSmtpAddress"] == "smtp:archive@fabrikam.com"
    assert mailbox["GrantSendOnBehalfTo"] == [helper["userPrincipalName"]]
    exo.invoke("Set-Mailbox", {"Identity": owner["userPrincipalName"], "Type": "Shared"})
    assert any("no settings of" in w for w in exo.warnings)
    everyone = exo.invoke("Get-Mailbox")
    assert len(everyone) == 4  # the unlicensed user has no mailbox


def test_exchange_permissions_ignore_system_entries_and_refuse_unknown_trustees(tenant):
    _, _, exo, seed = tenant
    owner, helper = seed["users"][0]["userPrincipalName"], seed["users"][1]["userPrincipalName"]
    exo.invoke("Add-MailboxPermission", {"Identity": owner, "User": helper,
                                         "AccessRights": ["FullAccess"], "AutoMapping": False})
    exo.invoke("Add-RecipientPermission", {"Identity": owner, "Trustee": helper,
                                           "AccessRights": ["SendAs"]})
    full = exo.invoke("Get-MailboxPermission", {"Identity": owner})
    assert [(p["User"], p["IsInherited"]) for p in full] == [
        ("NT AUTHORITY\\SELF", False), (helper, False)]
    exo.invoke("Remove-RecipientPermission", {"Identity": owner, "Trustee": helper,
                                              "AccessRights": ["SendAs"]})
    send_as = exo.invoke("Get-RecipientPermission", {"Identity": owner})
    assert [p["Trustee"] for p in send_as] == ["NT AUTHORITY\\SELF"]
    with pytest.raises(GraphError) as caught:
        exo.invoke("Add-MailboxPermission", {"Identity": owner, "User": "nobody@contoso.com",
                                             "AccessRights": ["FullAccess"]})
    assert "couldn't be found" in caught.value.message


def test_distribution_group_members_go_through_exchange_and_show_in_graph(tenant):
    _, graph, exo, seed = tenant
    group = next(g for g in seed["groups"] if group_kind(g) == "distribution")
    user = seed["users"][2]
    exo.invoke("Add-DistributionGroupMember", {"Identity": group["mail"],
                                               "Member": user["userPrincipalName"],
                                               "BypassSecurityGroupManagerCheck": True})
    members = graph.list(f"/groups/{group['id']}/members", {"$select": "id"})
    assert [m["id"] for m in members] == [user["id"]]
    with pytest.raises(GraphError) as caught:
        exo.invoke("Add-DistributionGroupMember", {"Identity": group["mail"],
                                                   "Member": user["userPrincipalName"]})
    assert "already a member" in caught.value.message
    security = next(g for g in seed["groups"] if group_kind(g) == "security")
    with pytest.raises(GraphError):
        exo.invoke("Add-DistributionGroupMember", {"Identity": security["id"],
                                                   "Member": user["userPrincipalName"]})


def test_exchange_refuses_writes_in_read_only_mode(tenant):
    em, *_ = tenant
    from reconciler.graph.errors import ReadOnlyError

    with pytest.raises(ReadOnlyError):
        exchange(em, read_only=True).invoke("Set-Mailbox", {"Identity": "x", "Type": "Shared"})
