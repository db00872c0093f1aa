"""`$expand` as Graph documents it for directory objects, on every collection and entity the
emulator serves. Oracles: "Use query parameters to customize responses" (one relationship
per request, at most 20 expanded items, no nextLink inside, `ExpandNotSupported` for photo),
the query-parameter known issues (20 objects, 100 for registeredDevices, one level), "List
manager" ($select inside $expand, $levels on a single user only) and the CSDL (which
navigations each type declares)."""

from __future__ import annotations

import pytest

from reconciler.emulator import csdl
from reconciler.emulator.app import Emulator
from reconciler.emulator.faults import Faults
from reconciler.emulator.limits import Limits
from tests.conformance_client import send
from tests.emulated import TENANT_ID, emulator
from tests.seeding import Seeder

READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"  # Directory Readers template


def get(em, path, headers=None):
    return send(em, "GET", path, None, headers or {})


@pytest.fixture
def tenant():
    em = emulator()
    seed = Seeder(em)
    boss = seed.user(displayName="Boss", jobTitle="CEO")
    lead = seed.user(displayName="Lead")
    staff = [seed.user(displayName=f"Staff {n}") for n in range(25)]
    with em.store.transaction():
        em.store.set_manager(lead, boss)
        for user in staff:
            em.store.set_manager(user, lead)
    group = seed.group(staff, displayName="Everyone")
    seed.assign(READERS, lead)
    return em, boss, lead, staff, group


def test_a_single_user_expands_its_manager_with_a_nested_select(tenant):
    em, boss, lead, *_ = tenant
    body = get(em, f"/users/{lead}?$select=id,displayName"
                   "&$expand=manager($select=id,displayName)").json()
    assert body["manager"] == {"@odata.type": "#microsoft.graph.user", "id": boss,
                               "displayName": "Boss"}
    full = get(em, f"/users/{lead}?$expand=manager").json()["manager"]
    assert full["jobTitle"] == "CEO" and full["accountEnabled"] is True  # not only defaults
    assert csdl.problems(full, "microsoft.graph.user") == []


def test_a_list_expands_each_manager_and_leaves_it_out_where_there_is_none(tenant):
    em, boss, lead, staff, _ = tenant
    assert "manager" not in get(em, f"/users/{boss}?$expand=manager").json()
    listed = {u["id"]: u for u in get(em, "/users?$select=id&$expand=manager($select=id)")
              .json()["value"]}
    assert "manager" not in listed[boss]
    assert listed[lead]["manager"] == {"@odata.type": "#microsoft.graph.user", "id": boss}
    assert {listed[u]["manager"]["id"] for u in staff} == {lead}


def test_levels_follow_the_chain_on_a_single_user_and_are_refused_on_a_list(tenant):
    em, boss, lead, staff, _ = tenant
    body = get(em, f"/users/{staff[0]}?$expand=manager($levels=max;$select=id)").json()
    assert body["manager"]["id"] == lead and body["manager"]["manager"]["id"] == boss
    assert "manager" not in body["manager"]["manager"]
    one = get(em, f"/users/{staff[0]}?$expand=manager($levels=1;$select=id)").json()
    assert "manager" not in one["manager"]
    refused = get(em, "/users?$expand=manager($levels=max)")
    assert refused.status_code == 400
    assert get(em, f"/users/{staff[0]}?$expand=manager($levels=0)").status_code == 400


def test_an_expanded_collection_holds_at_most_20_objects_without_a_next_link(tenant):
    em, boss, lead, staff, group = tenant
    body = get(em, f"/groups/{group}?$expand=members($select=id)").json()
    assert len(body["members"]) == 20
    assert {m["id"] for m in body["members"]} <= set(staff)
    assert "members@odata.nextLink" not in body and "@odata.nextLink" not in body
    reports = get(em, f"/users/{lead}?$expand=directReports($select=id)").json()
    assert len(reports["directReports"]) == 20
    listed = get(em, "/groups?$expand=members($select=id)").json()["value"]
    assert len(listed[0]["members"]) == 20


def test_expand_items_max_is_a_setting():
    em = Emulator(":memory:", anonymous=True, faults=Faults(),
                  limits=Limits.parse("latency=0,perobject=0,lag=0,expanditemsmax=3"),
                  tenant={"id": TENANT_ID, "domain": "contoso.onmicrosoft.com"})
    seed = Seeder(em)
    group = seed.group([seed.user() for _ in range(5)])
    assert len(get(em, f"/groups/{group}?$expand=members").json()["members"]) == 3


def test_only_one_relationship_may_be_expanded(tenant):
    em, boss, *_ = tenant
    reply = get(em, "/users?$expand=manager,memberOf")
    assert reply.status_code == 400
    assert reply.json()["error"]["message"] == ("The result of parsing $expand contained at "
                                                "least 2 items, but the maximum allowed is 1.")
    assert get(em, "/users?$expand=manager($select=id,displayName)").status_code == 200


@pytest.mark.parametrize("navigation", ["photo", "events", "messages", "calendar"])
def test_relationships_outside_the_directory_are_not_expandable(tenant, navigation):
    em, boss, *_ = tenant
    reply = get(em, f"/users/{boss}?$expand={navigation}")
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == "ExpandNotSupported"
    assert error["message"] == (f"Expand is not allowed for property "
                                f"'{navigation[0].upper()}{navigation[1:]}' according to the "
                                "entity schema.")


@pytest.mark.parametrize("expand", ["nonsense", "displayName", "manager($select=nonsense)",
                                    "manager($top=5)", "memberOf($expand=members)",
                                    "manager($select=id"])
def test_what_graph_cannot_parse_is_a_400(tenant, expand):
    em, boss, *_ = tenant
    assert get(em, f"/users/{boss}?$expand={expand}").status_code == 400


def test_every_navigation_the_csdl_declares_for_a_directory_type_expands_or_is_refused(tenant):
    em, boss, lead, staff, group = tenant
    for kind, key in (("user", lead), ("group", group)):
        collection = f"{kind}s"
        for name in csdl.model().navigations(kind):
            reply = get(em, f"/{collection}/{key}?$expand={name}")
            assert reply.status_code in (200, 400), (kind, name, reply.text)
            if reply.status_code == 400:
                assert reply.json()["error"]["code"] == "ExpandNotSupported", (kind, name)
            restricted = {f"microsoft.graph.{kind}/{name}", f"{collection}/{name}"}
            if restricted & csdl.model().not_expandable:  # Capabilities.ExpandRestrictions
                assert reply.status_code == 400, (kind, name)


def test_member_of_owners_and_roles_expand_with_their_types(tenant):
    em, boss, lead, staff, group = tenant
    with em.store.transaction():
        em.store.put_item(group, "groupOwner", boss, {"id": boss})
    member_of = get(em, f"/users/{lead}?$expand=memberOf").json()["memberOf"]
    assert [m["@odata.type"] for m in member_of] == ["#microsoft.graph.directoryRole"]
    assert member_of[0]["roleTemplateId"] == READERS
    owners = get(em, f"/groups/{group}?$expand=owners($select=id)").json()["owners"]
    assert owners == [{"@odata.type": "#microsoft.graph.user", "id": boss}]
    owned = get(em, f"/users/{boss}?$expand=ownedObjects($select=id)").json()
    assert [o["id"] for o in owned["ownedObjects"]] == [group]
    staff_member_of = get(em, f"/users/{staff[0]}?$expand=memberOf($select=id)").json()
    assert staff_member_of["memberOf"] == [{"@odata.type": "#microsoft.graph.group",
                                            "id": group}]


def test_a_cast_collection_of_users_expands_manager_but_directory_objects_do_not(tenant):
    em, boss, lead, staff, group = tenant
    users = get(em, f"/groups/{group}/members/microsoft.graph.user?$select=id"
                    "&$expand=manager($select=id)").json()["value"]
    assert {u["manager"]["id"] for u in users} == {lead}
    assert get(em, f"/groups/{group}/members?$expand=manager").status_code == 400


def test_open_extensions_expand_with_a_nested_filter(tenant):
    em, boss, *_ = tenant
    for name in ("com.contoso.a", "com.contoso.b"):
        assert send(em, "POST", f"/users/{boss}/extensions",
                    {"@odata.type": "microsoft.graph.openTypeExtension",
                     "extensionName": name, "color": "blue"}, {}).status_code == 201
    body = get(em, f"/users/{boss}?$expand=extensions($filter=id eq 'com.contoso.b')").json()
    assert [e["id"] for e in body["extensions"]] == ["com.contoso.b"]
    assert body["extensions"][0]["color"] == "blue"


def test_a_service_principal_expands_the_assignments_granted_on_it(tenant):
    em, boss, *_ = tenant
    sp, role = "6b1b5f3a-2b7e-4d55-9f52-3f7e2a1c9d10", "00000000-0000-0000-0000-000000000000"
    with em.store.transaction():
        em.store.put_item("tenant", "servicePrincipal", sp, {"id": sp, "appId": sp,
                                                             "displayName": "App"})
    reply = send(em, "POST", f"/users/{boss}/appRoleAssignments",
                 {"principalId": boss, "resourceId": sp, "appRoleId": role}, {})
    assert reply.status_code == 201, reply.text
    granted = get(em, f"/servicePrincipals/{sp}?$expand=appRoleAssignedTo").json()
    assert [a["principalId"] for a in granted["appRoleAssignedTo"]] == [boss]
    mine = get(em, f"/users/{boss}?$expand=appRoleAssignments").json()["appRoleAssignments"]
    assert [a["resourceId"] for a in mine] == [sp]


def test_a_page_with_expand_holds_at_most_100_objects(tenant):
    em, *_ = tenant
    seed = Seeder(em)
    for _ in range(90):
        seed.user()
    page = get(em, "/users?$select=id&$top=999&$expand=manager($select=id)").json()
    assert len(page["value"]) == 100 and "@odata.nextLink" in page
