"""The fault matrix: faults aimed at chosen writes, judged from the emulator's audit log and
state (what was written), never from the tool's own reads. After every fault a re-run
converges: nothing lost, nothing written twice, nothing unplanned."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter

from reconciler.live.reader import STATE_EXTENSION
from reconciler.reconcile import run_apply, run_plan
from tests.scripted import apply_process, script, served, wait_for  # noqa: F401 - fixture
from tests.tenancy import audits, cli_run, make_tenant, oid, plan_of, store

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PHOTO_PUT = r"/users/[^/]+/photo/\$value$"
ALICE = oid("alice@contoso.com")
LEASE = 6.0  # long enough for the refused run to start on a loaded machine
SHORT_LEASE = {"RECONCILER_LOCK_LEASE_SECONDS": str(LEASE)}


def activities(folder, name: str) -> list[dict]:
    return [a for a in audits(folder) if a["activityDisplayName"] == name]


def photo_tenant(tmp_path):
    return make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                           "photo: photos/alice.png\n"},
                       files={"photos/alice.png": PNG})


def test_a_photo_upload_whose_reply_is_lost_is_read_back_and_recorded_once_it_landed(
        tmp_path, script):  # noqa: F811
    folder = photo_tenant(tmp_path)
    script.drop("PUT", PHOTO_PUT, "after", times=2)
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert len(activities(folder, "Update user photo")) == 1  # read back, not sent again
    assert store(folder).blob(ALICE, "photo") == ("image/png", PNG)
    assert plan_of(folder).changes == []


def test_a_photo_upload_that_never_gets_a_reply_is_not_recorded_as_uploaded(
        tmp_path, script):  # noqa: F811
    folder = photo_tenant(tmp_path)
    script.drop("PUT", PHOTO_PUT, "before", times=-1)
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert "unknown: alice@contoso.com photo add" in result.output
    assert activities(folder, "Update user photo") == []
    assert store(folder).blob(ALICE, "photo") is None
    extension = store(folder).item(ALICE, "extension", STATE_EXTENSION) or {}
    assert "photoSha256" not in extension  # not recorded: the next plan uploads it again
    assert [(c.kind, c.op) for c in plan_of(folder).changes] == [("photo", "add")]
    script.rules.clear()
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert len(activities(folder, "Update user photo")) == 1
    assert plan_of(folder).changes == []


def new_users(count: int) -> dict[str, str]:
    return {f"new{n:02d}": f"userPrincipalName: new{n:02d}@contoso.com\n"
                           f"profile: {{displayName: New {n:02d}, jobTitle: Hire}}\n"
            for n in range(count)}


def test_the_trail_of_an_apply_killed_mid_way_names_every_write_it_had_settled(tmp_path):
    folder = make_tenant(tmp_path, new_users(24))
    with served(folder, "latency=40ms"):
        process = apply_process(folder, env=SHORT_LEASE)
        wait_for(lambda: len(activities(folder, "Add user")) >= 8)
        os.kill(process.pid, signal.SIGKILL)
        killed = time.monotonic()
        process.wait(timeout=10)
        time.sleep(0.3)  # requests already in the emulator finish (the service would, too)
        created = {a["targetResources"][0]["userPrincipalName"]
                   for a in activities(folder, "Add user")}
        trail = folder / ".reconciler" / "audit.jsonl"
        records = [json.loads(line) for line in trail.read_text().splitlines()]
        recorded = {r["user"] for r in records if (r["kind"], r["outcome"]) == ("user", "applied")}
        sent = {r["user"] for r in records if (r["kind"], r["outcome"]) == ("user", "sending")}
        assert recorded <= created <= sent  # every write that landed was announced first
        assert len(created - recorded) <= 4  # only the writes in flight (4 at a time)
        assert len(recorded) >= 4
        refused = apply_process(folder, env=SHORT_LEASE)  # the dead run's lease still holds
        assert refused.wait(timeout=60) == 1
        assert "is locked by another apply" in refused.stderr.read()
        time.sleep(max(0.0, killed + LEASE + 0.5 - time.monotonic()))  # its lease expires
        again = apply_process(folder, env=SHORT_LEASE)
        assert again.wait(timeout=60) == 0, again.stderr.read()
    adds = Counter(a["targetResources"][0]["userPrincipalName"]
                   for a in activities(folder, "Add user"))
    assert adds == {f"new{n:02d}@contoso.com": 1 for n in range(24)}  # none lost, none twice
    records = [json.loads(line) for line in trail.read_text().splitlines()]
    assert {r["user"] for r in records if r["kind"] == "user" and r["outcome"] == "applied"} \
        == set(adds) - (created - recorded)  # the in-flight ones stay "sending" (unknown)


# one-shot actions: exactly once, secrets delivered exactly once ------------------------------
ACTIONS = """\
userPrincipalName: alice@contoso.com
actions:
  - {id: r1, do: revokeSessions}
  - {id: p1, do: resetPassword}
"""
RESET, REVOKE = "Reset user password", "Invalidate all refresh tokens for user"


def once_each(folder) -> tuple[int, int]:
    return len(activities(folder, REVOKE)), len(activities(folder, RESET))


def secrets_in(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_actions_whose_replies_are_lost_run_once_and_the_password_is_delivered_once(
        tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {"alice": ACTIONS})
    out = tmp_path / "pw.tsv"
    script.drop("POST", r"/revokeSignInSessions$", "after", times=2)
    script.drop("PATCH", f"/users/{ALICE}$", "after", times=2)  # the reset's PATCH
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert result.exit_code == 0, result.output
    assert once_each(folder) == (1, 1)  # re-checked in the directory, not sent again
    assert len(secrets_in(out)) == 1
    assert plan_of(folder).changes == []


def test_an_action_that_ran_but_was_not_recorded_is_found_done_and_not_sent_again(
        tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {"alice": ACTIONS})
    out = tmp_path / "pw.tsv"
    # the revoke's intent is written (POST of the state extension), the record of its outcome
    # is lost, as if the run had been killed right after it; the reset's intent is lost too,
    # so the reset is not sent at all (nothing is sent without its intent on record)
    script.drop("PATCH", r"/extensions/io\.reconciler\.state$", "before", times=-1)
    cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert once_each(folder) == (1, 0) and secrets_in(out) == []
    assert [c.target for c in plan_of(folder).changes] == ["revokeSessions (r1)",
                                                           "resetPassword (p1)"]
    script.rules.clear()
    again = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert again.exit_code == 0, again.output
    assert once_each(folder) == (1, 1)  # checked (valid-from, last password change): done
    assert len(secrets_in(out)) == 1  # no second password generated
    assert plan_of(folder).changes == []


def test_a_local_clock_running_ahead_does_not_repeat_a_reset_whose_reply_was_lost(
        tmp_path, script, monkeypatch):  # noqa: F811
    """Whether a reset landed is judged by the directory's own stamp before and after, not
    against our clock: an hour ahead, the old check read a landed reset as unsent and
    reset the password again (a second password, the first one delivered for nothing)."""
    from datetime import datetime, timedelta

    from reconciler.areas import actions

    class Ahead(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(hours=1)

    monkeypatch.setattr(actions, "datetime", Ahead)
    folder = make_tenant(tmp_path, {"alice": ACTIONS})
    out = tmp_path / "pw.tsv"
    script.drop("POST", r"/revokeSignInSessions$", "after", times=2)
    script.drop("PATCH", f"/users/{ALICE}$", "after", times=2)  # the reset's PATCH
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert result.exit_code == 0, result.output
    assert once_each(folder) == (1, 1)
    assert len(secrets_in(out)) == 1
    assert plan_of(folder).changes == []


def test_a_password_file_that_cannot_be_written_stops_the_apply_before_anything_is_sent(
        tmp_path):
    folder = make_tenant(tmp_path, {"alice": ACTIONS})
    written = len(audits(folder))
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out",
                     str(tmp_path / "missing" / "pw.tsv"))
    assert result.exit_code == 1
    assert "does not exist; nothing was sent" in result.stderr
    assert len(audits(folder)) == written and once_each(folder) == (0, 0)


def test_a_saved_plan_of_actions_applied_twice_runs_them_once(tmp_path):
    folder = make_tenant(tmp_path, {"alice": ACTIONS})
    saved, out = tmp_path / "plan.json", tmp_path / "pw.tsv"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    first = cli_run("apply", str(folder), "--plan", str(saved), "--password-out", str(out))
    assert first.exit_code == 0, first.output
    second = cli_run("apply", str(folder), "--plan", str(saved), "--password-out", str(out))
    assert second.exit_code == 1  # refused: the actions it carries have run
    assert once_each(folder) == (1, 1) and len(secrets_in(out)) == 1


def test_resend_invitation_to_a_guest_invited_in_the_same_run_goes_to_its_mail(tmp_path):
    guest = "pat_fabrikam.com#EXT#@contoso.onmicrosoft.com"
    folder = make_tenant(tmp_path, {"pat": f"""\
userPrincipalName: "{guest}"
profile: {{userType: Guest, mail: pat@fabrikam.com, displayName: Pat}}
actions: [{{id: again, do: resendInvitation}}]
"""})
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    sent = activities(folder, "Resend invitation")
    assert len(sent) == 1
    invited = json.loads(sent[0]["targetResources"][0]["modifiedProperties"][0]["newValue"])
    assert invited == "pat@fabrikam.com"


# replication waits only where Graph documents lag --------------------------------------------
def test_a_lost_manager_write_for_a_new_user_is_rechecked_without_a_replication_wait(
        tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {"nia": "userPrincipalName: nia@contoso.com\n"
                                           "profile: {displayName: Nia}\n"
                                           "manager: bob@contoso.com\n"})
    script.answer(503, "PUT", r"/manager/\$ref$", when="before")  # nothing landed
    run = run_plan(folder, writable=True)
    try:
        ctx = run_apply(run)
    finally:
        run.connection.close()
    assert {o.status for o in ctx.outcomes} == {"applied"}
    # the re-check's 404 ("no manager yet") is a known-absent relation, not lag to wait on
    assert ctx.graph.stats.get("replication_waits", 0) == 0
    assert len(activities(folder, "Set manager")) == 1


def test_a_phone_method_added_whose_reply_was_lost_is_rechecked_not_recorded_failed(
        tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "authentication: {phoneMethods: "
                                             "{mobile: +1 425 555 0100}}\n"})
    script.drop("POST", r"/authentication/phoneMethods$", "after", times=1)
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert len(activities(folder, "User registered security info")) == 1
    assert plan_of(folder).changes == []
