"""Refusals: limits before anything is sent, and saved plans the tenant has moved under."""

from __future__ import annotations

from tests.tenancy import audits, cli_run, make_tenant, oid, store

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
    assert "refused: 3 removals is 50.0% of 6 managed relations, over the 10% limit " \
           f"(policy.limits.maxRemovalsPercent in {folder}/tenant.yaml" in result.stderr
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
    saved.write_text(saved.read_text().replace("contoso.onmicrosoft.com",
                                               "fabrikam.onmicrosoft.com"))
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1 and "the plan is for fabrikam.onmicrosoft.com" in result.stderr
