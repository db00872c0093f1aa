"""The emulator's directory semantics: the errors and refusals Graph gives."""

from __future__ import annotations

import pytest

from reconciler.emulator.generate import generate_seed
from reconciler.graph.errors import GraphError
from reconciler.graph.requests import add_members, assign_license, update_user
from tests.emulated import client, emulator, user_body

E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"


def send(graph, request):
    return graph.write(request.method, request.path, request.body)


@pytest.fixture
def tenant():
    seed = generate_seed(users=5, groups=10, memberships=0)
    seed["users"].append({"id": "aaaaaaaa-0000-4000-8000-000000000001",
                          "userPrincipalName": "synced@contoso.com", "displayName": "Synced",
                          "onPremisesSyncEnabled": True, "usageLocation": "US"})
    seed["users"].append({"id": "aaaaaaaa-0000-4000-8000-000000000002",
                          "userPrincipalName": "nolocation@contoso.com", "displayName": "No loc"})
    seed["subscribedSkus"][0]["prepaidUnits"]["enabled"] = 5  # E3: 3 of 5 users hold one
    em = emulator(seed)
    return em, client(em), seed


def group_of(seed, kind):
    from reconciler.graph.properties import group_kind

    return next(g for g in seed["groups"] if group_kind(g) == kind)


def test_a_synced_user_refuses_mastered_fields_but_takes_cloud_ones(tenant):
    _, graph, _ = tenant
    user = "aaaaaaaa-0000-4000-8000-000000000001"
    refused = send(graph, update_user(user, {"jobTitle": "Boss"}))
    assert refused.error.status == 400
    assert "on-premises mastered" in refused.error.message
    assert send(graph, update_user(user, {"usageLocation": "DE"})).ok


@pytest.mark.parametrize("kind,message", [
    ("distribution", "mail-enabled security groups and or distribution list"),
    ("mailEnabledSecurity", "mail-enabled security groups and or distribution list"),
    ("dynamic", "membershipRule"),
])
def test_groups_graph_does_not_master_refuse_member_writes(tenant, kind, message):
    _, graph, seed = tenant
    result = send(graph, add_members(group_of(seed, kind)["id"], [seed["users"][0]["id"]]))
    assert result.error.status == 400 and message in result.error.message


def test_adding_an_existing_member_fails_all_or_nothing(tenant):
    em, graph, seed = tenant
    group = group_of(seed, "security")["id"]
    first, second = seed["users"][0]["id"], seed["users"][1]["id"]
    assert send(graph, add_members(group, [first])).ok
    both = send(graph, add_members(group, [second, first]))
    assert both.error.says("already exist")
    assert not em.store.is_member(group, second)


def test_a_missing_member_object_is_404(tenant):
    _, graph, seed = tenant
    result = send(graph, add_members(group_of(seed, "security")["id"],
                                     ["00000000-0000-4000-8000-00000000dead"]))
    assert result.error.status == 404


def test_a_license_needs_a_usage_location(tenant):
    _, graph, _ = tenant
    result = send(graph, assign_license("aaaaaaaa-0000-4000-8000-000000000002",
                                        [{"skuId": E3, "disabledPlans": []}], []))
    assert result.error.says("invalid usage location")


def test_a_license_needs_a_free_seat(tenant):
    _, graph, seed = tenant
    takers = [u["id"] for u in seed["users"] if u.get("usageLocation") and not any(
        lic["skuId"] == E3 for lic in u.get("assignedLicenses", []))]
    results = [send(graph, assign_license(u, [{"skuId": E3, "disabledPlans": []}], []))
               for u in takers]
    assert [r.ok for r in results] == [True, True, False]  # 5 seats, 3 were taken
    assert results[-1].error.says("does not have any available licenses")
    skus = graph.list("/subscribedSkus")
    e3 = next(s for s in skus if s["skuId"] == E3)
    assert e3["consumedUnits"] == e3["prepaidUnits"]["enabled"]


def test_a_duplicate_upn_is_refused_even_against_a_soft_deleted_user(tenant):
    _, graph, _ = tenant
    created = graph.write("POST", "/users", user_body("gone@contoso.com"))
    assert graph.write("DELETE", f"/users/{created.body['id']}").ok
    again = graph.write("POST", "/users", user_body("gone@contoso.com"))
    assert again.error.says("Another object with the same value for property "
                            "userPrincipalName already exists")
    deleted = graph.list("/directory/deletedItems/microsoft.graph.user")
    assert [u["userPrincipalName"] for u in deleted] == ["gone@contoso.com"]
    restored = graph.write("POST", f"/directory/deletedItems/{created.body['id']}/restore")
    assert restored.ok
    assert graph.get(f"/users/{created.body['id']}", {"$select": "id"})


def test_a_weak_password_and_an_unverified_domain_are_refused(tenant):
    _, graph, _ = tenant
    weak = graph.write("POST", "/users", user_body("weak@contoso.com",
                                                   passwordProfile={"password": "short"}))
    assert weak.error.says("password complexity")
    foreign = graph.write("POST", "/users", user_body("x@fabrikam.com"))
    assert foreign.error.says("verified domain")


def test_advanced_queries_need_consistency_level(tenant):
    _, graph, _ = tenant
    with pytest.raises(GraphError) as caught:
        graph.get("/users", {"$filter": "endswith(mail,'contoso.com')"})
    assert caught.value.code == "Request_UnsupportedQuery"
    found = graph.get("/users", {"$filter": "endswith(mail,'contoso.com')", "$count": "true"},
                      headers={"ConsistencyLevel": "eventual"})
    assert found["@odata.count"] == 5


def test_every_response_reports_its_resource_unit_cost(tenant):
    em, graph, _ = tenant
    reply = graph.sender.send("GET", graph.url("/users?$select=id"))
    assert reply.headers["x-ms-resource-unit"] == "1"  # GET users costs 2, $select takes 1
    reply = graph.sender.send("GET", graph.url("/subscribedSkus"))
    assert reply.headers["x-ms-resource-unit"] == "3"


def test_a_resource_unit_budget_throttles_with_retry_after():
    em = emulator(generate_seed(users=3, groups=0, memberships=0), faults="budget=4")
    graph = client(em)
    statuses = [graph.sender.send("GET", graph.url("/subscribedSkus"), attempts=1).status
                for _ in range(1)]
    assert statuses == [200]
    reply = graph.sender.http.get(graph.url("/subscribedSkus"))
    assert reply.status_code == 429
    assert float(reply.headers["Retry-After"]) > 0
    assert reply.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"


def test_role_assignments_conflict_and_remove(tenant):
    _, graph, seed = tenant
    body = {"@odata.type": "#microsoft.graph.unifiedRoleAssignment",
            "roleDefinitionId": "fe930be7-5e62-47db-91af-98c3a49a38b1",
            "principalId": seed["users"][0]["id"], "directoryScopeId": "/"}
    created = graph.write("POST", "/roleManagement/directory/roleAssignments", body)
    assert created.ok
    again = graph.write("POST", "/roleManagement/directory/roleAssignments", body)
    assert again.error.says("conflicting object")
    listed = graph.list("/roleManagement/directory/roleAssignments",
                        {"$filter": f"principalId eq '{seed['users'][0]['id']}'"})
    assert [a["id"] for a in listed] == [created.body["id"]]
    assert graph.write("DELETE", f"/roleManagement/directory/roleAssignments/"
                                 f"{created.body['id']}").ok


def test_manager_set_get_and_remove(tenant):
    _, graph, seed = tenant
    user, boss = seed["users"][4]["id"], seed["users"][0]["id"]
    assert graph.write("PUT", f"/users/{user}/manager/$ref",
                       {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{boss}"}).ok
    assert graph.get(f"/users/{user}/manager", {"$select": "id"})["id"] == boss
    listed = graph.list("/users", {"$select": "id", "$expand": "manager($select=id)"})
    assert next(u for u in listed if u["id"] == user)["manager"]["id"] == boss
    assert graph.write("DELETE", f"/users/{user}/manager/$ref").ok
    assert graph.get_or_none(f"/users/{user}/manager") is None
    assert graph.write("DELETE", f"/users/{user}/manager/$ref").error.status == 404


def test_group_delta_reports_member_changes_since_the_last_round(tenant):
    em, graph, seed = tenant
    group = group_of(seed, "security")["id"]
    _, link = graph.delta("/groups/delta", {"$select": "displayName,members"})
    user = seed["users"][2]["id"]
    assert send(graph, add_members(group, [user])).ok
    changes, _ = graph.delta(link)
    assert changes == [{"id": group, "displayName": group_of(seed, "security")["displayName"],
                        "members@delta": [{"@odata.type": "#microsoft.graph.user",
                                           "id": user}]}]
    assert graph.write("DELETE", f"/groups/{group}/members/{user}/$ref").ok
    changes, _ = graph.delta(link)
    assert changes[0]["members@delta"] == [
        {"@odata.type": "#microsoft.graph.user", "id": user, "@removed": {"reason": "deleted"}}]


def test_user_delta_marks_soft_deleted_users(tenant):
    _, graph, seed = tenant
    _, link = graph.delta("/users/delta", {"$select": "displayName"})
    victim = seed["users"][3]["id"]
    assert graph.write("DELETE", f"/users/{victim}").ok
    changes, _ = graph.delta(link)
    assert changes == [{"id": victim, "@removed": {"reason": "changed"}}]
