"""Manager, groups, roles and licenses: both directions, references, policy, safety."""

from __future__ import annotations

from reconciler.areas.registry import privileged
from tests.tenancy import (
    E3,
    YAMMER,
    audits,
    cli_run,
    lines,
    make_tenant,
    oid,
    plan_of,
    small_seed,
    store,
)


def alice(body: str) -> dict[str, str]:
    return {"alice": "userPrincipalName: alice@contoso.com\n" + body}


# manager -------------------------------------------------------------------------------------
def test_manager_change_removal_and_unknown(tmp_path):
    folder = make_tenant(tmp_path, {**alice("manager: erin@contoso.com\n"),
                                    "bob": "userPrincipalName: bob@contoso.com\n"
                                           "manager: alice@contoso.com\n",
                                    "carol": "userPrincipalName: carol@contoso.com\n"
                                             "manager: nobody@contoso.com\n"})
    plan = plan_of(folder)
    assert lines(plan) == [
        ("alice", "manager", "change", "manager", "bob@contoso.com", "erin@contoso.com"),
        ("bob", "manager", "add", "manager", None, "alice@contoso.com"),
    ]
    assert [e.path for e in plan.errors] == ["manager"]
    assert "unknown user 'nobody@contoso.com'" in plan.errors[0].message
    folder2 = make_tenant(tmp_path / "2", alice("manager: null\n"))
    assert lines(plan_of(folder2)) == [
        ("alice", "manager", "remove", "manager", "bob@contoso.com", None)]
    assert cli_run("apply", str(folder2), "--auto-approve").exit_code == 0
    assert store(folder2).manager_of(oid("alice@contoso.com")) is None


# groups --------------------------------------------------------------------------------------
def test_groups_are_added_and_removed_under_authoritative_policy(tmp_path):
    folder = make_tenant(tmp_path, alice("groups: [Engineering, Oncall, staff@contoso.com]\n"))
    plan = plan_of(folder)
    assert lines(plan) == [  # targets sorted
        ("alice", "group", "remove", "Approvers", "Approvers", None),
        ("alice", "group", "add", "Oncall", None, "Oncall"),
    ]
    assert sorted((n.target, n.message.split(":")[0]) for n in plan.notes) == [
        ("Badge", "not manageable"), ("Everyone", "not manageable")]
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    db = store(folder)
    assert db.is_member(oid("group:Oncall"), oid("alice@contoso.com"))
    assert not db.is_member(oid("group:Approvers"), oid("alice@contoso.com"))
    assert db.is_member(oid("group:Everyone"), oid("alice@contoso.com"))  # never removed
    exchange = [a for a in audits(folder) if a["loggedByService"] == "Exchange"]
    assert [a["activityDisplayName"] for a in exchange] == ["Remove member from group"]


def test_additive_policy_only_adds(tmp_path):
    folder = make_tenant(tmp_path, alice("groups: [Oncall]\n"), memberships="additive")
    assert lines(plan_of(folder)) == [("alice", "group", "add", "Oncall", None, "Oncall")]


def test_an_empty_list_removes_every_removable_membership(tmp_path):
    folder = make_tenant(tmp_path, alice("groups: []\n"))
    assert sorted(c.target for c in plan_of(folder).changes) == [
        "Approvers", "Engineering", "Staff"]


def test_group_references_unknown_and_ambiguous(tmp_path):
    folder = make_tenant(tmp_path, alice("groups:\n  - Enginering\n  - Twin\n"
                                         "  - {mail: nope@contoso.com}\n"))
    errors = plan_of(folder).errors
    assert [(e.line, e.path) for e in errors] == [(3, "groups[0]"), (4, "groups[1]"),
                                                  (5, "groups[2]")]
    assert "unknown group 'Enginering' (did you mean: Engineering" in errors[0].message
    assert oid("group:Twin-1") in errors[1].message and oid("group:Twin-2") in errors[1].message
    assert errors[1].message.startswith("ambiguous group 'Twin': 2 groups")
    assert "unknown group mail 'nope@contoso.com'" in errors[2].message


def test_a_group_named_by_id_resolves_the_twin(tmp_path):
    folder = make_tenant(tmp_path, alice(
        f"groups: [Engineering, Approvers, {{id: {oid('group:Twin-2')}}}]\n"))
    assert lines(plan_of(folder)) == [("alice", "group", "remove", "Staff", "Staff", None),
                                      ("alice", "group", "add", "Twin", None, "Twin")]


def test_adding_to_a_dynamic_or_synced_group_is_an_error(tmp_path):
    folder = make_tenant(tmp_path, {"erin": "userPrincipalName: erin@contoso.com\n"
                                            "groups: [Everyone, Badge]\n"})
    plan = plan_of(folder)
    assert [e.path for e in plan.errors] == ["groups[0]", "groups[1]"]
    assert "a dynamic group: its members come from its membership rule" in \
        plan.errors[0].message
    assert "synced from on-premises" in plan.errors[1].message
    assert plan.changes == []


def test_distribution_lists_are_written_through_exchange(tmp_path):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"
                                           "groups: [Oncall, Staff, announce@contoso.com]\n"})
    plan = plan_of(folder)
    assert [(c.target, c.apply["via"]) for c in plan.changes] == [("Announcements", "exchange")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert store(folder).is_member(oid("group:Announcements"), oid("bob@contoso.com"))
    assert plan_of(folder).changes == []


# roles ---------------------------------------------------------------------------------------
def test_roles_added_removed_and_inherited_ones_left_alone(tmp_path):
    folder = make_tenant(tmp_path, {
        **alice("directoryRoles: [Helpdesk Administrator]\n"),
        "bob": "userPrincipalName: bob@contoso.com\ndirectoryRoles: []\n"})
    plan = plan_of(folder)
    assert lines(plan) == [
        ("alice", "directoryRole", "add", "Helpdesk Administrator", None,
         "Helpdesk Administrator"),
        ("alice", "directoryRole", "remove", "User Administrator", "User Administrator", None),
    ]
    assert [(n.user, n.target) for n in plan.notes] == [("bob@contoso.com",
                                                         "Helpdesk Administrator")]
    assert all(privileged(c) for c in plan.changes)
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert plan_of(folder).changes == []


def test_roles_by_template_id_and_unknown_role(tmp_path):
    folder = make_tenant(tmp_path, alice(
        "directoryRoles: [fe930be7-5e62-47db-91af-98c3a49a38b1, User Admin]\n"))
    plan = plan_of(folder)
    assert plan.changes == []
    assert "unknown directory role 'User Admin' (did you mean: User Administrator" in \
        plan.errors[0].message


def test_a_protected_user_is_never_stripped_of_roles(tmp_path):
    folder = make_tenant(tmp_path, {"erin": "userPrincipalName: erin@contoso.com\n"
                                            "directoryRoles: []\n"})
    plan = plan_of(folder)
    assert plan.changes == []
    assert "erin@contoso.com is protected" in plan.errors[0].message


# licenses ------------------------------------------------------------------------------------
def test_license_plans_change_and_licenses_swap(tmp_path):
    folder = make_tenant(tmp_path, {
        **alice("licenses:\n  - {sku: SPE_E3, disabledPlans: [SWAY, yammer_enterprise]}\n"),
        "bob": "userPrincipalName: bob@contoso.com\nlicenses: [{sku: spe_e5}]\n"})
    assert lines(plan_of(folder)) == [
        ("alice", "license", "change", "SPE_E3",
         {"sku": "SPE_E3", "disabledPlans": ["YAMMER_ENTERPRISE"]},
         {"sku": "SPE_E3", "disabledPlans": ["SWAY", "YAMMER_ENTERPRISE"]}),
        ("bob", "license", "add", "SPE_E5", None, {"sku": "SPE_E5"}),
    ]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    held = store(folder).licenses_of([oid("alice@contoso.com")])[oid("alice@contoso.com")]
    assert held == [{"skuId": E3, "disabledPlans": sorted([YAMMER,
                                                           "a23b959c-7ce8-4e57-9140-b90eb88a9e97"])}]
    assert plan_of(folder).changes == []


def test_license_removal_is_privileged_and_inherited_ones_are_notes(tmp_path):
    folder = make_tenant(tmp_path, {**alice("licenses: []\n"),
                                    "dave": "userPrincipalName: dave@contoso.com\n"
                                            "licenses: []\n"})
    plan = plan_of(folder)
    assert lines(plan) == [("alice", "license", "remove", "SPE_E3", {"sku": "SPE_E3"}, None)]
    assert privileged(plan.changes[0])
    assert [(n.user, n.target) for n in plan.notes] == [("dave@contoso.com", "SPE_E5")]


def test_unknown_sku_and_plan_list_what_the_tenant_has(tmp_path):
    folder = make_tenant(tmp_path, alice(
        "licenses:\n  - sku: SPE_E9\n  - {sku: SPE_E3, disabledPlans: [TEAMS9]}\n"))
    errors = plan_of(folder).errors
    assert [str(e).split("/tenant/")[1] for e in errors] == [
        "users/alice.yaml:3:5: licenses[0].sku: unknown SKU 'SPE_E9' (the tenant has: "
        "SPE_E3, SPE_E5)",
        "users/alice.yaml:4:19: licenses[1].disabledPlans: unknown service plan 'TEAMS9' in "
        "SPE_E3 (it has: EXCHANGE_S_ENTERPRISE, SWAY, YAMMER_ENTERPRISE)",
    ]


def test_more_seats_than_free_is_an_error_at_plan_time(tmp_path):
    users = {name: f"userPrincipalName: {name}@contoso.com\nlicenses: [{{sku: SPE_E3}}]\n"
             for name in ("bob", "carol", "dave")}
    folder = make_tenant(tmp_path, users)
    plan = plan_of(folder)
    assert len(plan.errors) == 1
    assert plan.errors[0].message == "SPE_E3 needs 3 seats in this plan, 2 are free " \
                                     "(3 enabled, 1 assigned)"
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1 and audits(folder) == []


def test_a_license_needs_a_usage_location_set_first(tmp_path):
    seed = small_seed()
    seed["users"].append({"id": oid("frank@contoso.com"), "displayName": "Frank",
                          "userPrincipalName": "frank@contoso.com", "mailNickname": "frank"})
    missing = make_tenant(tmp_path / "a", {"frank": "userPrincipalName: frank@contoso.com\n"
                                                    "licenses: [{sku: SPE_E3}]\n"}, seed=seed)
    errors = plan_of(missing).errors
    assert [(e.path, e.message.split(":")[0]) for e in errors] == [
        ("licenses", "a license needs a usage location")]
    folder = make_tenant(tmp_path / "b", {"frank": "userPrincipalName: frank@contoso.com\n"
                                                   "profile: {usageLocation: NO}\n"
                                                   "licenses: [{sku: SPE_E3}]\n"}, seed=seed)
    assert [c.kind for c in plan_of(folder).changes] == ["profile", "license"]
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert store(folder).licenses_of([oid("frank@contoso.com")])[oid("frank@contoso.com")]


def test_the_last_global_administrator_cannot_be_removed(tmp_path):
    folder = make_tenant(tmp_path, {"erin": "userPrincipalName: erin@contoso.com\n"
                                            "directoryRoles: []\n"}, protected=())
    plan = plan_of(folder)
    assert [e.message for e in plan.errors] == [
        "this plan would leave the tenant with no Global Administrator; keep at least one"]
