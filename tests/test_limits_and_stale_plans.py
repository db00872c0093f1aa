"""Refusals: limits before anything is sent, and saved plans the tenant has moved under."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.plan.planfile import seal
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
    assert "refused: the plan was refused when it was made: refused: 3 removals" \
        in result.stderr
    # the same plan with its recorded refusal cut out (seal recomputed): judged afresh
    reseal(saved, lambda d: {**d, "refusals": []})
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1
    assert "a fresh plan made now is refused: refused: 3 removals is 50.0%" in result.stderr
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
