"""The emulator's Intune, enterprise-application, SharePoint and report routes, spoken to in
raw HTTP as the documentation describes them (no product code between test and emulator)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from reconciler.emulator.transport import InProcessTransport
from tests.emulated import emulator

ANN = "aaaaaaaa-0000-4000-8000-000000000001"
BOB = "aaaaaaaa-0000-4000-8000-000000000002"
TEAM = "cccccccc-0000-4000-8000-000000000001"
SP = "50000000-0000-4000-8000-000000000001"
ROLE = "11111111-aaaa-4000-8000-000000000001"
INTUNE_SKU = {"skuId": "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "skuPartNumber": "EMS",
              "prepaidUnits": {"enabled": 10},
              "servicePlans": [{"servicePlanId": "c1ec4a95-1f05-45b3-a911-aa3fa01094f5",
                                "servicePlanName": "INTUNE_A"}]}


def seed(intune: bool = True) -> dict:
    return {
        "users": [
            {"id": ANN, "userPrincipalName": "ann@contoso.com", "displayName": "Ann",
             "mail": "ann@contoso.com",
             "authentication": {"microsoftAuthenticatorMethods": [
                 {"id": "m1", "displayName": "Ann's iPhone",
                  "createdDateTime": "2025-03-01T09:00:00Z"}]}},
            {"id": BOB, "userPrincipalName": "bob@contoso.com", "displayName": "Bob"},
        ],
        "groups": [{"id": TEAM, "displayName": "Team", "members": [ANN]}],
        "subscribedSkus": [INTUNE_SKU] if intune else [],
        "managedDevices": [
            {"id": "d1", "deviceName": "LAPTOP-0042", "userId": ANN, "operatingSystem": "Windows"},
            {"id": "d2", "deviceName": "LAPTOP-0043", "userId": None, "operatingSystem": "Windows"},
        ],
        "servicePrincipals": [
            {"id": SP, "appId": "22222222-0000-4000-8000-000000000009", "displayName": "Salesforce",
             "appRoles": [{"id": ROLE, "value": "user", "displayName": "Standard User",
                           "isEnabled": True, "allowedMemberTypes": ["User"]}]},
            {"id": "5b000000-0000-4000-8000-000000000002", "appId": "33333333-0000-4000-8000-0",
             "displayName": "Wiki", "appRoles": []},
        ],
        "sites": [{"webUrl": "https://contoso.sharepoint.com/sites/finance", "title": "Finance"},
                  {"webUrl": "https://contoso.sharepoint.com/sites/team", "title": "Team",
                   "groupId": TEAM}],
        "signIns": [{"userId": ANN, "userPrincipalName": "ann@contoso.com",
                     "createdDateTime": "2026-11-20T08:00:00Z", "appDisplayName": "Outlook",
                     "status": {"errorCode": 0}}],
        "riskyUsers": [{"id": BOB, "userPrincipalName": "bob@contoso.com",
                        "riskLevel": "high", "riskState": "atRisk"}],
    }


@pytest.fixture
def http():
    em = emulator(seed())
    with httpx.Client(transport=InProcessTransport(em), base_url="https://graph.microsoft.com") \
            as client:
        yield em, client


def writes(em, category=None):
    return [a for a in em.store.audits() if category is None or a["category"] == category]


def test_device_primary_user_is_read_from_the_users_navigation_and_set_on_beta(http):
    em, client = http
    listed = client.get("/v1.0/deviceManagement/managedDevices",
                        params={"$filter": "deviceName eq 'LAPTOP-0043'"}).json()["value"]
    assert [d["id"] for d in listed] == ["d2"]
    assert client.get("/v1.0/deviceManagement/managedDevices/d2/users").json()["value"] == []
    reply = client.post("/beta/deviceManagement/managedDevices/d2/users/$ref",
                        json={"@odata.id": f"https://graph.microsoft.com/beta/users/{BOB}"})
    assert reply.status_code == 204
    users = client.get("/v1.0/deviceManagement/managedDevices/d2/users").json()["value"]
    assert [u["id"] for u in users] == [BOB]
    # the flat members keep the enrolling user, as Intune's do
    assert client.get("/v1.0/deviceManagement/managedDevices/d2").json()["userId"] is None
    assert client.delete("/beta/deviceManagement/managedDevices/d2/users/$ref").status_code == 204
    assert client.get("/v1.0/deviceManagement/managedDevices/d2/users").json()["value"] == []
    assert len(writes(em, "Device")) == 2


def test_device_filter_on_an_unindexed_property_fails_open(http):
    _, client = http
    listed = client.get("/v1.0/deviceManagement/managedDevices",
                        params={"$filter": "wiFiMacAddress eq 'x'"}).json()["value"]
    assert {d["id"] for d in listed} == {"d1", "d2"}


def test_intune_calls_need_an_intune_licence_in_the_tenant():
    em = emulator(seed(intune=False))
    with httpx.Client(transport=InProcessTransport(em), base_url="https://x") as client:
        reply = client.get("/v1.0/deviceManagement/managedDevices")
    assert reply.status_code == 403 and "Intune license" in reply.json()["error"]["message"]


def test_app_role_assignment_rules(http):
    em, client = http
    path = f"/v1.0/users/{ANN}/appRoleAssignments"
    body = {"principalId": ANN, "resourceId": SP, "appRoleId": ROLE}
    created = client.post(path, json=body)
    assert created.status_code == 201 and created.json()["resourceDisplayName"] == "Salesforce"
    again = client.post(path, json=body)
    assert again.status_code == 400 and "already exists" in again.json()["error"]["message"]
    zero = client.post(path, json={**body, "appRoleId": "00000000-0000-0000-0000-000000000000"})
    assert "was not found on application" in zero.json()["error"]["message"]
    wiki = {"principalId": ANN, "resourceId": "5b000000-0000-4000-8000-000000000002",
            "appRoleId": "00000000-0000-0000-0000-000000000000"}
    assert client.post(path, json=wiki).status_code == 201  # default access: no app roles
    by_app_id = client.get("/v1.0/servicePrincipals(appId='22222222-0000-4000-8000-000000000009')")
    assert by_app_id.json()["id"] == SP
    # a group's assignment shows in its direct members' lists, as principalType Group
    client.post(f"/v1.0/groups/{TEAM}/appRoleAssignments",
                json={"principalId": TEAM, "resourceId": SP, "appRoleId": ROLE})
    listed = client.get(path).json()["value"]
    assert sorted(a["principalType"] for a in listed) == ["Group", "User", "User"]
    mine = created.json()["id"]
    assert client.delete(f"{path}/{mine}").status_code == 204
    assert client.delete(f"{path}/{mine}").status_code == 404
    assert [a["activityDisplayName"] for a in writes(em, "ApplicationManagement")].count(
        "Remove app role assignment from user") == 1


def test_sharepoint_site_groups_by_login_name(http):
    em, client = http
    site = "/sites/finance/_api/web"
    headers = {"accept": "application/json;odata=nometadata"}
    login = "i:0#.f|membership|Ann@Contoso.com"
    added = client.post(f"{site}/associatedmembergroup/users", json={"LoginName": login},
                        headers=headers)
    assert added.status_code == 200 and added.json()["LoginName"] == login.lower()
    listed = client.get(f"{site}/AssociatedMemberGroup/users", headers=headers).json()["value"]
    assert [u["LoginName"] for u in listed] == [login.lower()]
    verbose = client.get(f"{site}/associatedmembergroup/users",
                         headers={"accept": "application/json;odata=verbose"}).json()
    assert verbose["d"]["results"][0]["Email"] == "ann@contoso.com"
    nobody = client.post(f"{site}/associatedvisitorgroup/users",
                         json={"LoginName": "i:0#.f|membership|nobody@contoso.com"})
    assert "does not exist or is not unique" in nobody.json()["odata.error"]["message"]["value"]
    removed = client.post(f"{site}/sitegroups(5)/users/removeByLoginName(@v)",
                          params={"@v": "'" + quote(login.lower(), safe="") + "'"})
    assert removed.status_code == 200
    assert client.get(f"{site}/associatedmembergroup/users").json()["value"] == []
    assert len(writes(em, "SharePoint")) == 2
    assert not any(a["category"] == "SharePoint" for a in client.get(
        "/v1.0/auditLogs/directoryAudits").json()["value"])


def test_a_group_connected_site_shows_the_group_claims(http):
    _, client = http
    site = client.get("/sites/team/_api/site").json()
    assert site["GroupId"] == TEAM
    members = client.get("/sites/team/_api/web/associatedmembergroup/users").json()["value"]
    assert members[0]["LoginName"] == f"c:0o.c|federateddirectoryclaimprovider|{TEAM}"
    assert client.get("/sites/finance/_api/site").json()["GroupId"] == \
        "00000000-0000-0000-0000-000000000000"


def test_sharepoint_refuses_a_secret_token_and_a_graph_token():
    from reconciler.emulator import identity

    em = emulator(seed(), anonymous=False)
    with httpx.Client(transport=InProcessTransport(em), base_url="https://x") as client:
        def token(scope: str, **form: str) -> str:
            reply = client.post(f"/{em.tenant_id}/oauth2/v2.0/token", data={
                "grant_type": "client_credentials", "client_id": "app", "scope": scope, **form})
            return reply.json()["access_token"]

        secret = token("https://contoso.sharepoint.com/.default", client_secret="s")
        reply = client.get("/sites/finance/_api/web",
                           headers={"authorization": f"Bearer {secret}"})
        assert reply.status_code == 401 and "Unsupported app only token" in reply.text
        graph = token("https://graph.microsoft.com/.default", client_secret="s")
        reply = client.get("/sites/finance/_api/web", headers={"authorization": f"Bearer {graph}"})
        assert reply.status_code == 401
    assert identity.audience_of("https://contoso.sharepoint.com/.default") == (
        "sharepoint", "https://contoso.sharepoint.com")


def test_authenticator_registrations_come_from_the_seed(http):
    _, client = http
    methods = client.get(f"/v1.0/users/{ANN}/authentication/microsoftAuthenticatorMethods")
    assert [m["displayName"] for m in methods.json()["value"]] == ["Ann's iPhone"]


def test_sign_ins_and_risky_users(http):
    _, client = http
    signed = client.get("/v1.0/auditLogs/signIns",
                        params={"$filter": f"userId eq '{ANN}'", "$top": "5"}).json()["value"]
    assert [s["appDisplayName"] for s in signed] == ["Outlook"]
    assert client.get(f"/v1.0/identityProtection/riskyUsers/{BOB}").json()["riskLevel"] == "high"
    assert client.get(f"/v1.0/identityProtection/riskyUsers/{ANN}").status_code == 404
