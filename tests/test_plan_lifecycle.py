"""Lifecycle against one clock (RECONCILER_NOW): blocks, windows, actions, phone methods."""

from __future__ import annotations

import itertools
import os
import stat

import pytest

from tests.tenancy import (
    E3,
    HELPDESK,
    audits,
    cli_run,
    make_tenant,
    oid,
    plan_of,
    small_seed,
    store,
)

BEFORE, AFTER = "2027-03-31T16:59:59Z", "2027-03-31T17:00:00Z"
ALICE = oid("alice@contoso.com")


@pytest.fixture
def clock(monkeypatch):
    def set_to(moment: str) -> None:
        monkeypatch.setenv("RECONCILER_NOW", moment)
    return set_to


def leaver(flags: dict[str, bool]) -> dict[str, str]:
    on_block = ", ".join(f"{k}: {'true' if v else 'false'}" for k, v in flags.items())
    return {"alice": f"""\
userPrincipalName: alice@contoso.com
profile: {{accountEnabled: true, employeeHireDate: 2024-03-01}}
signIn:
  blockAt: 2027-03-31T17:00:00Z
  onBlock: {{{on_block}}}
"""}


def seed_with_role():
    seed = small_seed()
    seed["roleAssignments"].append({"id": "alice-helpdesk-1", "roleDefinitionId": HELPDESK,
                                    "principalId": ALICE, "directoryScopeId": "/"})
    return seed


FLAGS = ["removeGroups", "removeDirectoryRoles", "removeLicenses"]


@pytest.mark.parametrize("combination", list(itertools.product([False, True], repeat=3)),
                         ids=lambda c: "+".join(f for f, on in zip(FLAGS, c, strict=True)
                                                if on) or "block-only")
def test_a_scheduled_block_with_each_on_block_combination(tmp_path, clock, combination):
    flags = dict(zip(FLAGS, combination, strict=True))
    folder = make_tenant(tmp_path, leaver(flags), seed=seed_with_role())
    clock(BEFORE)
    plan = plan_of(folder)
    assert [(s.kind, s.target, s.due) for s in plan.scheduled] == [
        ("signIn", "block", "2027-03-31T17:00:00Z")]
    assert [(c.kind, c.target, c.after) for c in plan.changes] == [
        ("profile", "employeeLeaveDateTime", "2027-03-31T17:00:00Z")]
    assert cli_run("apply", str(folder), "--auto-approve",
                   env={"RECONCILER_NOW": BEFORE}).exit_code == 0
    clock(AFTER)
    plan = plan_of(folder)
    kinds = sorted({(c.kind, c.op) for c in plan.changes})
    expected = {("signIn", "change"), ("profile", "remove")}
    if flags["removeGroups"]:
        expected.add(("group", "remove"))
    if flags["removeDirectoryRoles"]:
        expected.add(("directoryRole", "remove"))
    if flags["removeLicenses"]:
        expected.add(("license", "remove"))
    assert kinds == sorted(expected)
    result = cli_run("apply", str(folder), "--auto-approve", env={"RECONCILER_NOW": AFTER})
    assert result.exit_code == 0, result.output
    db = store(folder)
    user = db.get_object(ALICE)
    assert user["accountEnabled"] is False
    assert user["employeeHireDate"] is None and user["employeeLeaveDateTime"] is None
    writable_groups = [g for g in db.groups_of(ALICE)
                       if g not in (oid("group:Everyone"), oid("group:Badge"))]
    assert (writable_groups == []) == flags["removeGroups"]
    assert (db.role_assignments(principal_id=ALICE) == []) == flags["removeDirectoryRoles"]
    assert (db.licenses_of([ALICE])[ALICE] == []) == flags["removeLicenses"]
    assert plan_of(folder).changes == []


def test_a_protected_user_is_never_blocked(tmp_path):
    folder = make_tenant(tmp_path, {"erin": "userPrincipalName: erin@contoso.com\n"
                                            "signIn: {blockAt: 2027-03-31T17:00:00Z}\n"})
    result = cli_run("plan", str(folder))
    assert result.exit_code == 1
    assert "signIn: a protected user is never blocked" in result.stderr


def test_a_deleted_user_cannot_be_enabled(tmp_path):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"
                                           "state: deleted\nprofile: {accountEnabled: true}\n"})
    result = cli_run("plan", str(folder))
    assert result.exit_code == 1
    assert "a deleted user cannot be enabled" in result.stderr


def test_a_membership_expires_at_the_end_of_its_until_day(tmp_path, clock):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"
                                           "groups: [Oncall, Staff, {name: Engineering, "
                                           "until: 2026-12-31}]\n"})
    clock("2026-12-31T23:59:59Z")
    plan = plan_of(folder)
    assert [(c.op, c.target, c.note) for c in plan.changes] == [
        ("add", "Engineering", "until 2026-12-31")]
    assert [(s.op, s.due) for s in plan.scheduled] == [("remove", "2027-01-01T00:00:00Z")]
    assert cli_run("apply", str(folder), "--auto-approve",
                   env={"RECONCILER_NOW": "2026-12-31T23:59:59Z"}).exit_code == 0
    clock("2027-01-01T00:00:00Z")
    assert [(c.op, c.target) for c in plan_of(folder).changes] == [("remove", "Engineering")]


def test_a_license_starts_on_its_from_day(tmp_path, clock):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"
                                           "licenses: [{sku: SPE_E3, from: 2027-01-01}]\n"})
    clock("2026-12-31T23:59:59Z")
    plan = plan_of(folder)
    assert plan.changes == []
    assert [(s.kind, s.op, s.target, s.due) for s in plan.scheduled] == [
        ("license", "add", "SPE_E3", "2027-01-01T00:00:00Z")]
    clock("2027-01-01T00:00:00Z")
    assert [(c.kind, c.op) for c in plan_of(folder).changes] == [("license", "add")]
    assert cli_run("apply", str(folder), "--auto-approve",
                   env={"RECONCILER_NOW": "2027-01-01T00:00:00Z"}).exit_code == 0
    bob = oid("bob@contoso.com")
    assert store(folder).licenses_of([bob])[bob] == [{"skuId": E3, "disabledPlans": []}]


def test_actions_run_once_in_file_order_across_three_applies(tmp_path):
    folder = make_tenant(tmp_path, {"alice": """\
userPrincipalName: alice@contoso.com
actions:
  - {id: a1, do: revokeSessions}
  - {id: a2, do: resetPassword}
  - {id: a3, do: expirePassword}
"""})
    plan = plan_of(folder)
    assert [c.target for c in plan.changes] == ["revokeSessions (a1)", "resetPassword (a2)",
                                                "expirePassword (a3)"]
    nowhere = cli_run("apply", str(folder), "--auto-approve")  # no terminal, no file
    assert nowhere.exit_code == 1
    assert "not generated: no destination for it" in nowhere.stderr
    assert not [a for a in audits(folder) if a["activityDisplayName"] == "Reset user password"]
    out = tmp_path / "pw.tsv"
    first = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert first.exit_code == 0, first.output
    ran = [a["activityDisplayName"] for a in audits(folder)
           if a["activityDisplayName"] in ("Invalidate all refresh tokens for user",
                                           "Reset user password")]
    assert ran == ["Invalidate all refresh tokens for user", "Reset user password",
                   "Reset user password"]
    assert len(out.read_text().splitlines()) == 1
    for _ in range(2):
        written = len(audits(folder))
        again = cli_run("apply", str(folder), "--auto-approve")
        assert again.exit_code == 0 and "No changes." in again.stdout
        assert len(audits(folder)) == written
    (folder / "users" / "alice.yaml").write_text(
        (folder / "users" / "alice.yaml").read_text() + "  - {id: a4, do: revokeSessions}\n")
    assert [c.target for c in plan_of(folder).changes] == ["revokeSessions (a4)"]


def test_a_generated_password_goes_only_to_a_private_file(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "actions: [{id: pw, do: resetPassword}]\n"})
    out = tmp_path / "passwords.tsv"
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert result.exit_code == 0
    upn, what, password = out.read_text().strip().split("\t")
    assert what == "password (pw)"
    assert upn == "alice@contoso.com" and len(password) >= 16
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert password not in result.output
    assert password not in str(audits(folder))


def test_password_from_an_environment_variable(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "actions: [{id: pw, do: resetPassword, "
                                             "passwordFrom: 'env:ALICE_PW'}]\n"})
    missing = cli_run("plan", str(folder))
    assert missing.exit_code == 1 and "ALICE_PW, which is not set" in missing.stderr
    ok = cli_run("apply", str(folder), "--auto-approve", env={"ALICE_PW": "Temp-Pass-12345"})
    assert ok.exit_code == 0 and "not shown" not in ok.stderr


def test_actions_that_do_not_fit_the_user_are_errors(tmp_path):
    folder = make_tenant(tmp_path, {
        "alice": "userPrincipalName: alice@contoso.com\n"
                 "actions: [{id: inv, do: resendInvitation}]\n",
        "carol": "userPrincipalName: carol@contoso.com\n"
                 "actions: [{id: pw, do: resetPassword}]\n"})
    messages = [e.message for e in plan_of(folder).errors]
    assert messages == ["resendInvitation applies to guests (profile.userType: Guest)",
                        "this user's password is mastered on-premises (onPremisesSyncEnabled)"
                        ": reset it in Active Directory"]


def test_phone_methods_are_added_changed_and_removed_in_order(tmp_path):
    folder = make_tenant(tmp_path, {"alice": """\
userPrincipalName: alice@contoso.com
authentication:
  phoneMethods: {mobile: "+47 555 01 234", alternateMobile: "+47 555 01 235"}
"""})
    assert [(c.target, c.op, c.after) for c in plan_of(folder).changes] == [
        ("mobile", "add", "+47 55501234"), ("alternateMobile", "add", "+47 55501235")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert plan_of(folder).changes == []
    (folder / "users" / "alice.yaml").write_text(
        "userPrincipalName: alice@contoso.com\nauthentication:\n"
        "  phoneMethods: {mobile: '+47 555 09 999', alternateMobile: null}\n")
    assert [(c.target, c.op) for c in plan_of(folder).changes] == [
        ("mobile", "change"), ("alternateMobile", "remove")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    (folder / "users" / "alice.yaml").write_text(
        "userPrincipalName: alice@contoso.com\nauthentication:\n  phoneMethods: {mobile: null}\n")
    plan = plan_of(folder)
    assert any("leaves no phone sign-in method" in w for w in plan.warnings)
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert store(folder).items(ALICE, "phoneMethod") == []


def test_the_demo_leaver_is_scheduled_today_and_blocked_after_the_date(tmp_path):
    import shutil

    from tests.conftest import DEMO

    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns(".reconciler"))
    today = {"RECONCILER_NOW": "2026-11-22T10:00:00Z"}
    planned = cli_run("plan", str(demo), env=today)
    assert "2027-01-29T17:00:00Z  noah.bennett@northwindtraders.com  ~ signIn: block" \
        in planned.stdout
    assert cli_run("apply", str(demo), "--auto-approve", "--password-out",
                   str(tmp_path / "pw.tsv"), env=today).exit_code == 0
    later = {"RECONCILER_NOW": "2027-02-01T09:00:00Z"}
    drift = cli_run("drift", str(demo), env=later)
    assert drift.exit_code == 2  # a due change shows as drift until applied
    assert "~ signIn.accountEnabled: true -> false (signIn.blockAt)" in drift.stdout
    assert "- license: SPE_E3 (signIn.onBlock)" in drift.stdout
    assert cli_run("apply", str(demo), "--auto-approve", "--password-out",
                   str(tmp_path / "pw.tsv"), env=later).exit_code == 0
    assert cli_run("drift", str(demo), env=later).exit_code == 0


def test_a_scheduled_drift_run_carries_out_only_what_has_fallen_due(tmp_path, clock):
    users = {
        "bob": "userPrincipalName: bob@contoso.com\n"
               "groups: [Oncall, Staff, {name: Engineering, until: 2026-12-31}]\n",
        "alice": "userPrincipalName: alice@contoso.com\nprofile: {jobTitle: Lead}\n"}
    folder = make_tenant(tmp_path, users)
    db = store(folder)
    with db.transaction():
        db.set_member(oid("group:Engineering"), oid("bob@contoso.com"), True)
    later = {"RECONCILER_NOW": "2027-01-02T00:00:00Z"}
    refused = cli_run("drift", str(folder), "--apply-due", env=later)
    assert refused.exit_code == 2
    assert "1 due change(s) not carried out: policy.scheduled.applyDue" in refused.stderr
    tenant = folder / "tenant.yaml"
    tenant.write_text(tenant.read_text() + "  scheduled: {applyDue: true}\n")
    result = cli_run("drift", str(folder), "--apply-due", env=later)
    assert result.exit_code == 2  # alice's title is drift for review, not due
    assert "- group: Engineering (until 2026-12-31 passed)" in result.stdout
    assert "Apply complete: 1 applied" in result.stdout
    assert not store(folder).is_member(oid("group:Engineering"), oid("bob@contoso.com"))
    clock(later["RECONCILER_NOW"])
    remaining = plan_of(folder)
    assert [(c.user, c.kind) for c in remaining.changes] == [("alice@contoso.com", "profile")]


def test_an_expired_entry_goes_even_under_additive_policy(tmp_path):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"
                                           "groups: [{name: Oncall, until: 2026-01-31}]\n"},
                         memberships="additive")
    assert [(c.op, c.target, c.due) for c in plan_of(folder).changes] == [
        ("remove", "Oncall", True)]


def test_only_tenants_whose_own_drift_report_has_due_changes_get_the_due_job(tmp_path):
    """drift.yml's matrix has one output for all tenants, so the due job's matrix comes from
    `ci due-tenants` over every tenant's uploaded report (as the drift job writes it)."""
    import json

    due = make_tenant(tmp_path / "a", {
        "bob": "userPrincipalName: bob@contoso.com\n"
               "groups: [Oncall, Staff, {name: Engineering, until: 2026-12-31}]\n"})
    with store(due).transaction():
        store(due).set_member(oid("group:Engineering"), oid("bob@contoso.com"), True)
    drift_only = make_tenant(tmp_path / "b", {
        "alice": "userPrincipalName: alice@contoso.com\nprofile: {jobTitle: Lead}\n"})
    clean = make_tenant(tmp_path / "c", {"carol": "userPrincipalName: carol@contoso.com\n"})
    later = {"RECONCILER_NOW": "2027-01-02T00:00:00Z"}
    reports = tmp_path / "reports"
    for name, folder in (("a", due), ("b", drift_only), ("c", clean)):
        result = cli_run("drift", str(folder), "--format", "json", env=later)
        report = reports / f"drift-{name}"
        report.mkdir(parents=True)
        (report / "drift.json").write_text(result.stdout)
        (report / "exit-code").write_text(f"{result.exit_code}\n")
        (report / "tenant").write_text(f"{folder}\n")
    assert (reports / "drift-b" / "exit-code").read_text().strip() == "2"  # drift, not due
    allowed = json.dumps([str(due), str(drift_only), str(clean)])
    listed = cli_run("ci", "due-tenants", str(reports), "--allowed", allowed, "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [str(due)]
    # A report naming a tenant outside the run's list, or from a failed drift job, is not
    # trusted to start a write job.
    assert json.loads(cli_run("ci", "due-tenants", str(reports), "--allowed",
                              json.dumps([str(drift_only)]), "--json").stdout) == []
    (reports / "drift-a" / "exit-code").write_text("1\n")
    assert json.loads(cli_run("ci", "due-tenants", str(reports), "--allowed", allowed,
                              "--json").stdout) == []
    assert json.loads(cli_run("ci", "due-tenants", str(tmp_path / "none"), "--allowed",
                              allowed, "--json").stdout) == []
    bad = cli_run("ci", "due-tenants", str(reports), "--allowed", "tenants/a")
    assert bad.exit_code != 0 and "Error: --allowed must be a JSON array" in bad.output
