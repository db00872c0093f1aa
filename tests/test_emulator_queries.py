"""URL forms and query options as Graph documents them, on every collection and navigation:
casts from the CSDL, bound functions in each form, $count as segment and parameter, the
advanced-query rules with Graph's codes and messages, and lifecycle routes."""

from __future__ import annotations

import pytest

from tests.conformance_client import send
from tests.emulated import emulator
from tests.seeding import Seeder

EVENTUAL = {"ConsistencyLevel": "eventual"}
READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"  # Directory Readers template


@pytest.fixture
def tenant():
    em = emulator()
    seed = Seeder(em)
    users = [seed.user(displayName=f"Person {n}", jobTitle="Engineer" if n % 2 else None)
             for n in range(5)]
    inner = seed.group(users[:2], displayName="Inner")
    outer = seed.group([users[2], inner], displayName="Outer")
    seed.assign(READERS, users[0])
    return em, users, inner, outer


def get(em, path, headers=None):
    return send(em, "GET", path, None, headers or {})


@pytest.mark.parametrize("form", ["delta", "delta()", "microsoft.graph.delta",
                                  "graph.delta()", "microsoft.graph.delta()"])
@pytest.mark.parametrize("collection", ["users", "groups"])
def test_delta_answers_in_every_form_graph_accepts(tenant, collection, form):
    em, *_ = tenant
    reply = get(em, f"/{collection}/{form}?$select=displayName")
    assert reply.status_code == 200, reply.text
    assert "@odata.nextLink" in reply.json() or "@odata.deltaLink" in reply.json()


@pytest.mark.parametrize("prefix", ["microsoft.graph.", "graph."])
def test_member_of_and_members_take_the_casts_their_type_allows(tenant, prefix):
    em, users, inner, outer = tenant
    groups = get(em, f"/users/{users[0]}/memberOf/{prefix}group").json()["value"]
    assert [g["id"] for g in groups] == [inner]
    roles = get(em, f"/users/{users[0]}/memberOf/{prefix}directoryRole").json()["value"]
    assert [r["roleTemplateId"] for r in roles] == [READERS]
    everything = get(em, f"/users/{users[0]}/memberOf").json()["value"]
    assert {o["@odata.type"] for o in everything} == {"#microsoft.graph.group",
                                                       "#microsoft.graph.directoryRole"}
    transitive = get(em, f"/users/{users[0]}/transitiveMemberOf/{prefix}group").json()
    assert {g["id"] for g in transitive["value"]} == {inner, outer}
    only_users = get(em, f"/groups/{outer}/members/{prefix}user").json()["value"]
    assert [u["id"] for u in only_users] == [users[2]]
    only_groups = get(em, f"/groups/{outer}/members/{prefix}group").json()["value"]
    assert [g["id"] for g in only_groups] == [inner]
    everyone = get(em, f"/groups/{outer}/transitiveMembers/{prefix}user").json()["value"]
    assert {u["id"] for u in everyone} == {users[0], users[1], users[2]}


def test_a_cast_the_type_does_not_allow_is_refused(tenant):
    em, users, *_ = tenant
    assert get(em, f"/users/{users[0]}/memberOf/microsoft.graph.message").status_code == 400
    assert get(em, f"/users/{users[0]}/memberOf/graph.nothing").status_code == 400


def test_member_of_takes_every_query_option(tenant):
    em, users, inner, outer = tenant
    base = f"/users/{users[2]}/transitiveMemberOf"
    picked = get(em, f"{base}?$select=displayName").json()["value"]
    assert all(set(g) <= {"@odata.type", "id", "displayName"} for g in picked)
    filtered = get(em, f"{base}?$filter=displayName eq 'Outer'").json()["value"]
    assert [g["id"] for g in filtered] == [outer]
    top = get(em, f"/users/{users[0]}/transitiveMemberOf?$top=1").json()
    assert len(top["value"]) == 1 and "@odata.nextLink" in top
    searched = get(em, f'{base}?$search="displayName:out"', EVENTUAL).json()["value"]
    assert [g["id"] for g in searched] == [outer]
    ordered = get(em, f"{base}/microsoft.graph.group?$orderby=displayName desc").json()
    assert [g["displayName"] for g in ordered["value"]] == ["Outer"]
    counted = get(em, f"/users/{users[0]}/transitiveMemberOf?$count=true", EVENTUAL).json()
    assert counted["@odata.count"] == 3


@pytest.mark.parametrize("path, expected", [
    ("/users/$count", 5), ("/groups/$count", 2), ("/groups/{outer}/members/$count", 2),
    ("/groups/{outer}/members/microsoft.graph.user/$count", 1),
    ("/groups/{outer}/members/graph.group/$count", 1),
    ("/users/{user}/memberOf/$count", 2), ("/users/{user}/memberOf/graph.group/$count", 1),
    ("/users/{user}/transitiveMemberOf/microsoft.graph.group/$count", 2),
])
def test_count_segments_answer_text_with_the_header_and_400_without(tenant, path, expected):
    em, users, inner, outer = tenant
    path = path.format(outer=outer, user=users[0])
    reply = get(em, path, EVENTUAL)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain") and int(reply.text) == expected
    refused = get(em, path)
    assert refused.status_code == 400
    assert refused.json()["error"] == {**refused.json()["error"],
                                       "code": "Request_BadRequest",
                                       "message": "$count is not currently supported."}


def test_count_true_without_the_header_is_ignored_not_refused(tenant):
    em, *_ = tenant
    reply = get(em, "/users?$count=true")
    assert reply.status_code == 200 and "@odata.count" not in reply.json()
    assert get(em, "/users?$count=true", EVENTUAL).json()["@odata.count"] == 5


@pytest.mark.parametrize("query", ["$filter=jobTitle ne null", "$filter=not(jobTitle eq null)",
                                   "$filter=endsWith(userPrincipalName,'contoso.onmicrosoft.com')",
                                   "$filter=startswith(displayName,'P')&$orderby=displayName",
                                   "$orderby=createdDateTime"])
def test_advanced_operators_need_the_header_and_count_true(tenant, query):
    em, *_ = tenant
    for headers, suffix in ((EVENTUAL, ""), ({}, "&$count=true"), ({}, "")):
        reply = get(em, f"/users?{query}{suffix}", headers)
        assert reply.status_code == 400, (headers, suffix, reply.text)
        error = reply.json()["error"]
        assert error["code"] == "Request_UnsupportedQuery"
        assert "Try adding $count=true query parameter and ConsistencyLevel:eventual header" \
            in error["message"]
    assert get(em, f"/users?{query}&$count=true", EVENTUAL).status_code == 200


def test_search_needs_the_header_only(tenant):
    em, *_ = tenant
    refused = get(em, '/users?$search="displayName:person"')
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "Request with $search query parameter only works through MSGraph with a special "
        "request header: 'ConsistencyLevel: eventual'")
    found = get(em, '/users?$search="displayName:person"', EVENTUAL).json()["value"]
    assert len(found) == 5


def test_the_header_does_not_widen_the_default_projection(tenant):
    em, *_ = tenant
    plain = get(em, "/users").json()["value"][0]
    eventual = get(em, "/users", EVENTUAL).json()["value"][0]
    assert set(plain) == set(eventual)


def test_a_directory_role_has_its_own_id_and_answers_by_id_and_by_template(tenant):
    em, users, *_ = tenant
    roles = get(em, "/directoryRoles").json()["value"]
    assert [r["roleTemplateId"] for r in roles] == [READERS]
    role = roles[0]
    assert role["id"] != role["roleTemplateId"]
    for key in (role["id"], f"roleTemplateId={READERS}"):
        assert get(em, f"/directoryRoles/{key}").json()["id"] == role["id"]
        members = get(em, f"/directoryRoles/{key}/members").json()["value"]
        assert [m["id"] for m in members] == [users[0]]
    assert get(em, f"/directoryRoles/{READERS}").status_code == 404


def test_groups_are_created_deleted_restored_and_purged(tenant):
    em, users, *_ = tenant
    created = send(em, "POST", "/groups", {
        "displayName": "Team", "mailEnabled": True, "mailNickname": "team",
        "securityEnabled": False, "groupTypes": ["Unified"],
        "members@odata.bind": [f"https://graph.microsoft.com/v1.0/users/{users[3]}"]}, {})
    assert created.status_code == 201, created.text
    group = created.json()["id"]
    assert [m["id"] for m in get(em, f"/groups/{group}/members").json()["value"]] == [users[3]]
    assert send(em, "POST", "/groups", {"displayName": "x"}, {}).status_code == 400
    assert send(em, "DELETE", f"/groups/{group}", None, {}).status_code == 204
    assert get(em, f"/groups/{group}").status_code == 404
    deleted = get(em, "/directory/deletedItems/graph.group").json()["value"]
    assert [g["id"] for g in deleted] == [group]
    assert send(em, "POST", f"/directory/deletedItems/{group}/restore", None, {}
                ).status_code == 200
    assert get(em, f"/groups/{group}").status_code == 200
    security = send(em, "POST", "/groups", {"displayName": "Sec", "mailEnabled": False,
                                            "mailNickname": "sec", "securityEnabled": True},
                    {}).json()["id"]
    send(em, "DELETE", f"/groups/{security}", None, {})
    assert get(em, "/directory/deletedItems/microsoft.graph.group").json()["value"] == []


def test_a_deleted_user_is_listed_restored_or_purged_for_good(tenant):
    em, users, *_ = tenant
    send(em, "DELETE", f"/users/{users[4]}", None, {})
    for cast in ("graph.user", "microsoft.graph.user"):
        listed = get(em, f"/directory/deletedItems/{cast}").json()["value"]
        assert [u["id"] for u in listed] == [users[4]]
    assert send(em, "DELETE", f"/directory/deletedItems/{users[4]}", None, {}
                ).status_code == 204
    assert get(em, "/directory/deletedItems/graph.user").json()["value"] == []
    assert send(em, "POST", f"/directory/deletedItems/{users[4]}/restore", None, {}
                ).status_code == 404
    delta = get(em, "/users/delta?$select=displayName").json()
    removed = [u for u in delta["value"] if u["id"] == users[4]]
    assert removed == [{"id": users[4], "@removed": {"reason": "deleted"}}]


def test_mailbox_settings_patch_merges_and_refuses_what_graph_refuses():
    em = emulator()
    user = Seeder(em).mailbox_user()
    path = f"/users/{user}/mailboxSettings"
    hours = {"daysOfWeek": ["monday"], "startTime": "09:00:00.0000000",
             "endTime": "17:00:00.0000000", "timeZone": {"name": "Pacific Standard Time"}}
    assert send(em, "PATCH", path, {"workingHours": hours}, {}).status_code == 200
    assert send(em, "PATCH", path, {"workingHours": {"startTime": "10:00:00.0000000"}},
                {}).status_code == 200
    stored = get(em, path).json()["workingHours"]
    assert stored == {**hours, "startTime": "10:00:00.0000000"}  # the rest kept
    replies = {"status": "scheduled",
               "scheduledStartDateTime": {"dateTime": "2026-12-20T17:00:00", "timeZone": "UTC"},
               "scheduledEndDateTime": {"dateTime": "2026-12-10T08:00:00", "timeZone": "UTC"}}
    for bad in ({"automaticRepliesSetting": replies},
                {"workingHours": {"daysOfWeek": ["funday"]}},
                {"workingHours": {"endTime": "08:00:00.0000000"}},
                {"timeZone": "Mars/Olympus_Mons"},
                {"workingHours": {"timeZone": {"name": "Nowhere Time"}}}):
        reply = send(em, "PATCH", path, bad, {})
        assert reply.status_code == 400, bad
    assert get(em, path).json()["workingHours"]["startTime"] == "10:00:00.0000000"
    assert send(em, "PATCH", path, {"timeZone": "Europe/Paris"}, {}).status_code == 200


def test_a_phone_method_is_read_by_id():
    em = emulator()
    user = Seeder(em).user()
    added = send(em, "POST", f"/users/{user}/authentication/phoneMethods",
                 {"phoneNumber": "+1 2065555555", "phoneType": "mobile"}, {}).json()
    path = f"/users/{user}/authentication/phoneMethods/{added['id']}"
    assert get(em, path).json()["phoneNumber"] == "+1 2065555555"
    assert send(em, "DELETE", path, None, {}).status_code == 204
    assert get(em, path).status_code == 404
