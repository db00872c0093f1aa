"""Refusals: limits before anything is sent, and saved plans the tenant has moved under."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.plan.planfile import seal
from tests.tenancy import E3, audits, cli_run, make_tenant, oid, small_seed, store

EDIT = "userPrincipalName: alice@contoso.com\nprofile: {jobTitle: Lead, city: Bergen}\n"
STRIP = "userPrincipalName: alice@contoso.com\ngroups: [Everyone, Badge]\n"


def test_more_changes_than_max_changes_are_shown_then_refused(tmp_path):
    folder = make_tenant(tmp_path, {"alice": EDIT}, max_changes=1)
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert "Plan: 0 to add, 2 to change, 0 to remove." in result.stdout
    assert f"refused: 2 changes, over the limit of 1 (policy.limits.maxChanges in " \
           f"{folder}/tenant.yaml)" in result.stderr
    assert audits(folder) == []


def test_mass_removals_are_refused_with_the_numbers(tmp_path):
    folder = make_tenant(tmp_path, {"alice": STRIP}, max_removals=10, floor=0)
    result = cli_run("plan", str(folder))
    assert result.exit_code == 1
    assert "refused: 3 memberships removed is 60.0% of 5 managed group memberships, over " \
           f"the 10% limit (policy.limits.maxRemovalsPercent in {folder}/tenant.yaml; up to " \
           "0 are always allowed, policy.limits.removalsFloor)" in result.stderr
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 1
    assert audits(folder) == []


def test_removals_under_the_floor_are_always_allowed(tmp_path):
    folder = make_tenant(tmp_path, {"alice": STRIP}, max_removals=10, floor=3)
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0


def test_a_saved_plan_is_refused_when_what_it_read_has_moved(tmp_path):
    folder = make_tenant(tmp_path, {"alice": EDIT + "groups: [Engineering, Staff, Approvers,"
                                                    " Oncall]\n"})
    saved = tmp_path / "plan.json"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    db = store(folder)
    with db.transaction():  # someone adds alice to Oncall in the portal meanwhile
        db.set_member(oid("group:Oncall"), oid("alice@contoso.com"), True)
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1
    assert "refused: the tenant changed since the plan was made: alice@contoso.com: group " \
           "memberships" in result.stderr
    assert audits(folder) == []


def test_unrelated_changes_do_not_make_a_plan_stale(tmp_path):
    folder = make_tenant(tmp_path, {"alice": EDIT})
    saved = tmp_path / "plan.json"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    db = store(folder)
    with db.transaction():
        bob = db.get_object(oid("bob@contoso.com"))
        bob.pop("@kind")
        db.put_object("user", {**bob, "jobTitle": "Director"})
        db.set_member(oid("group:Oncall"), oid("carol@contoso.com"), True)
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 0, result.output
    assert "Apply complete: 2 applied" in result.stdout


def test_a_plan_with_errors_is_not_saved(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "groups: [Nope]\n"})
    saved = tmp_path / "plan.json"
    result = cli_run("plan", str(folder), "--out", str(saved))
    assert result.exit_code == 1 and not saved.exists()
    assert "not written" in result.stderr


def test_a_plan_for_another_tenant_is_refused(tmp_path):
    folder = make_tenant(tmp_path, {"alice": EDIT})
    saved = tmp_path / "plan.json"
    cli_run("plan", str(folder), "--out", str(saved))
    reseal(saved, lambda d: json.loads(json.dumps(d).replace("contoso.onmicrosoft.com",
                                                            "fabrikam.onmicrosoft.com")))
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1 and "the plan is for fabrikam.onmicrosoft.com" in result.stderr


def reseal(path: Path, edit) -> None:
    """Edit a saved plan as someone who knows how to recompute its seal would."""
    data = edit(json.loads(path.read_text()))
    data["seal"] = seal(data)
    path.write_text(json.dumps(data))


def test_a_refused_plan_saved_with_format_json_is_refused_by_apply(tmp_path):
    folder = make_tenant(tmp_path, {"alice": STRIP}, max_removals=10, floor=0)
    result = cli_run("plan", str(folder), "--format", "json")
    assert result.exit_code == 1
    saved = tmp_path / "p.json"
    saved.write_text(result.stdout)
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1
    assert "refused: the plan was refused when it was made: refused: 3 memberships removed" \
        in result.stderr
    # the same plan with its recorded refusal cut out (seal recomputed): judged afresh
    reseal(saved, lambda d: {**d, "refusals": []})
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1
    assert "a fresh plan made now is refused: refused: 3 memberships removed is 60.0%" \
        in result.stderr
    assert audits(folder) == []


def test_a_hand_edited_plan_is_refused_as_foreign(tmp_path):
    folder = make_tenant(tmp_path, {"alice": EDIT})
    saved = tmp_path / "plan.json"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    saved.write_text(saved.read_text().replace('"Lead"', '"Chief"'))
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1
    assert "refused as foreign: its content does not match its seal" in result.stderr
    assert "Traceback" not in result.output
    assert audits(folder) == []


def _delete(upn: str):
    def edit(data: dict) -> dict:
        data["changes"].append({"user": upn, "kind": "user", "op": "remove", "target": upn,
                                "before": upn, "after": None, "apply": {"id": oid(upn)},
                                "facts": [f"exists:{oid(upn)}"]})
        data["users"].append(upn)
        return data
    return edit


def test_a_saved_plan_edited_to_delete_a_protected_user_is_refused(tmp_path):
    folder = make_tenant(tmp_path, {"alice": EDIT})
    saved = tmp_path / "plan.json"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    text = saved.read_text()
    edited = json.loads(text)  # edited by hand, seal left alone: foreign
    _delete("erin@contoso.com")(edited)
    saved.write_text(json.dumps(edited))
    assert "refused as foreign" in cli_run("apply", str(folder), "--plan",
                                           str(saved)).stderr
    saved.write_text(text)
    reseal(saved, _delete("erin@contoso.com"))  # seal recomputed: still refused
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1
    assert "the plan changes a protected user (policy.protectedUsers in " in result.stderr
    assert "erin@contoso.com user remove erin@contoso.com" in result.stderr
    assert audits(folder) == []
    assert store(folder).get_object(oid("erin@contoso.com")) is not None


def test_a_saved_plan_with_a_change_no_fresh_plan_makes_is_refused(tmp_path):
    folder = make_tenant(tmp_path, {"alice": EDIT, "bob": "userPrincipalName: bob@contoso.com\n"})
    saved = tmp_path / "plan.json"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    reseal(saved, _delete("bob@contoso.com"))
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1
    assert "1 saved change(s) are not what a fresh plan makes now: bob@contoso.com user " \
           "remove bob@contoso.com" in result.stderr
    assert audits(folder) == []


def test_an_untouched_saved_plan_applies_exactly_its_writes(tmp_path):
    folder = make_tenant(tmp_path, {"alice": EDIT})
    saved = tmp_path / "plan.json"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 0, result.output
    assert [a["activityDisplayName"] for a in audits(folder)] == ["Update user"]
    alice = store(folder).get_object(oid("alice@contoso.com"))
    assert (alice["jobTitle"], alice["city"]) == ("Lead", "Bergen")


def crowd_seed() -> dict:
    """The small tenant and 20 more users: 25 users, 22 of them holding an E3 license,
    every one a member of Staff, Crowd1, Crowd2 and Crowd3."""
    seed = small_seed()
    seed["subscribedSkus"][0]["prepaidUnits"]["enabled"] = 40
    for n in range(20):
        upn = f"u{n:02}@contoso.com"
        seed["users"].append({"id": oid(upn), "userPrincipalName": upn, "displayName": upn,
                              "mailNickname": f"u{n:02}", "accountEnabled": True,
                              "usageLocation": "US",
                              "assignedLicenses": [{"skuId": E3, "disabledPlans": []}]})
    names = [u["userPrincipalName"] for u in seed["users"]]
    for user in seed["users"][1:]:
        if user["userPrincipalName"].startswith("b"):
            user["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []}]
    staff = next(g for g in seed["groups"] if g["displayName"] == "Staff")
    staff["members"] = [oid(upn) for upn in names]
    for n in (1, 2, 3):  # plenty of memberships: a pooled share would be diluted by them
        seed["groups"].append({"id": oid(f"group:Crowd{n}"), "displayName": f"Crowd{n}",
                               "groupTypes": [], "mailEnabled": False, "securityEnabled": True,
                               "mail": None, "members": [oid(upn) for upn in names]})
    return seed


def crowd(tmp_path: Path, file, kinds: str = "") -> Path:
    """A file per user of the crowd tenant, under a 25% limit (floor 5)."""
    seed = crowd_seed()
    upns = [u["userPrincipalName"] for u in seed["users"]]
    folder = make_tenant(tmp_path, {upn.split("@")[0]: file(upn) for upn in upns}, seed=seed,
                         max_removals=25, floor=5, protected=())
    if kinds:
        tenant = folder / "tenant.yaml"
        tenant.write_text(tenant.read_text().replace("removalsFloor: 5}",
                                                     f"removalsFloor: 5, kinds: {kinds}}}"))
    return folder


def test_deleting_24_of_25_users_is_refused_under_a_25_percent_limit(tmp_path):
    seed = crowd_seed()
    licensed = {u["userPrincipalName"] for u in seed["users"] if u.get("assignedLicenses")}

    def file(upn: str) -> str:  # every file manages groups and licenses too
        if upn == "erin@contoso.com":
            return f"userPrincipalName: {upn}\ngroups: [Staff, Crowd1, Crowd2, Crowd3]\n"
        return f"userPrincipalName: {upn}\nstate: deleted\ngroups: [Staff, Crowd1]\n"
    folder = crowd(tmp_path, file)
    assert len(licensed) == 22
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert "Plan: 0 to add, 0 to change, 24 to remove." in result.stdout
    assert "refused: 24 users deleted is 96.0% of 25 managed users, over the 25% limit " \
           "(policy.limits.maxRemovalsPercent" in result.stderr
    assert audits(folder) == []
    # a tenant that sets a threshold of its own for deletions is judged by it
    folder = crowd(tmp_path / "own", file, "{usersDeleted: {maxRemovalsPercent: 100}}")
    plan = cli_run("plan", str(folder))
    assert plan.exit_code == 0, plan.stderr


def test_removing_every_license_is_refused_under_a_25_percent_limit(tmp_path):
    def file(upn: str) -> str:  # memberships and users kept: they do not dilute the share
        return f"userPrincipalName: {upn}\ngroups: [Staff, Crowd1, Crowd2, Crowd3]\n" \
            "licenses: []\n"
    folder = crowd(tmp_path, file)
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert "refused: 22 licenses removed is 100.0% of 22 managed licenses, over the 25% " \
           "limit (policy.limits.maxRemovalsPercent" in result.stderr
    assert audits(folder) == []
    saved = tmp_path / "p.json"  # nor through a saved plan with the refusal cut out
    saved.write_text(cli_run("plan", str(folder), "--format", "json").stdout)
    reseal(saved, lambda d: {**d, "refusals": []})
    assert "a fresh plan made now is refused: refused: 22 licenses removed" in \
        cli_run("apply", str(folder), "--plan", str(saved)).stderr
    assert audits(folder) == []


def test_each_kind_has_its_own_threshold_and_floor(tmp_path):
    def file(upn: str) -> str:
        if upn in ("u00@contoso.com", "u01@contoso.com", "u02@contoso.com"):
            return f"userPrincipalName: {upn}\nlicenses: []\ngroups: [Staff, Crowd1, Crowd2]\n"
        return f"userPrincipalName: {upn}\n"
    # 3 of 3 licenses and 3 of 12 memberships: under the floor of 5, allowed
    assert cli_run("plan", str(crowd(tmp_path / "a", file))).exit_code == 0
    folder = crowd(tmp_path / "b", file, "{licenses: {removalsFloor: 2}}")
    result = cli_run("plan", str(folder))
    assert result.exit_code == 1
    assert "refused: 3 licenses removed is 100.0% of 3 managed licenses, over the 25% limit " \
           "(policy.limits.maxRemovalsPercent in " in result.stderr
    assert "up to 2 are always allowed, policy.limits.kinds.licenses.removalsFloor)" \
        in result.stderr
    assert "memberships removed" not in result.stderr  # memberships: the floor of 5
