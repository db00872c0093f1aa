"""Generated secrets handed over exactly once: new users' initial passwords, password resets
and Temporary Access Passes go to an age file encrypted to `credentials.recipients` (or a
0600 file), on disk before the request that sets them. Judged from the emulator's record:
the password hash it keeps, the pass it issued, its audit log."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import time
from collections import Counter

import pyrage
import pytest

from tests.scripted import apply_process, script, served, wait_for  # noqa: F401 - fixture
from tests.tenancy import audits, cli_run, make_tenant, plan_of, store

NEW = "userPrincipalName: {name}@contoso.com\nprofile: {{displayName: {name}}}\n"


def identity_and_recipient() -> tuple[object, str]:
    identity = pyrage.x25519.Identity.generate()
    return identity, str(identity.to_public())


def recipients_yaml(*recipients: str) -> str:
    return "credentials:\n  recipients: [" + ", ".join(recipients) + "]\n"


def decrypted(identity, *files) -> list[list[str]]:
    """The lines of every age file, split into (user, what, secret)."""
    rows = []
    for path in files:
        text = pyrage.decrypt(path.read_bytes(), [identity]).decode()
        rows += [line.split("\t") for line in text.splitlines()]
    return rows


def password_set(folder, upn: str, password: str) -> bool:
    """Whether the emulator holds `password` for `upn` (it keeps a salted hash, as a
    sign-in would check)."""
    user_id = store(folder).user_id_by_upn(upn)
    kept = store(folder).item(user_id, "credential", "password") if user_id else None
    return kept is not None and kept["sha256"] == hashlib.sha256(
        (kept["salt"] + password).encode()).hexdigest()


def adds(folder) -> Counter:
    return Counter(a["targetResources"][0]["userPrincipalName"] for a in audits(folder)
                   if a["activityDisplayName"] == "Add user")


def test_a_recipient_that_is_not_an_age_key_is_an_error_naming_file_line_and_key(tmp_path):
    _identity, good = identity_and_recipient()
    folder = make_tenant(tmp_path, {}, tenant_extra=recipients_yaml(good, "age1notakey"))
    result = cli_run("validate", str(folder))
    assert result.exit_code == 1
    line = next(text for text in result.output.splitlines() if "recipients" in text)
    assert "tenant.yaml:9:" in line and "credentials.recipients[1]" in line
    assert "'age1notakey' is not an age recipient" in line


def test_new_users_initial_passwords_are_encrypted_to_the_recipients_and_are_the_ones_set(
        tmp_path):
    identity, recipient = identity_and_recipient()
    folder = make_tenant(tmp_path, {n: NEW.format(name=n) for n in ("nina", "omar")},
                         tenant_extra=recipients_yaml(recipient))
    out = tmp_path / "credentials" / "passwords"
    out.parent.mkdir()
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert result.exit_code == 0, result.output
    sealed = out.with_name("passwords.age")
    assert not out.exists() and sealed.exists()  # no plaintext anywhere
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    rows = decrypted(identity, sealed)
    assert sorted((user, what) for user, what, _ in rows) == [
        ("nina@contoso.com", "initial password"), ("omar@contoso.com", "initial password")]
    for user, _what, secret in rows:
        assert password_set(folder, user, secret)
        assert secret not in result.output
        assert secret not in (folder / ".reconciler" / "audit.jsonl").read_text()
    assert "passwords.age (age-encrypted" in result.output


def test_without_password_out_the_encrypted_file_is_kept_under_the_tenant_folder(tmp_path):
    identity, recipient = identity_and_recipient()
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")},
                         tenant_extra=recipients_yaml(recipient))
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    files = list((folder / ".reconciler" / "credentials").glob("*.age"))
    assert len(files) == 1
    [(user, _what, secret)] = decrypted(identity, *files)
    assert user == "nina@contoso.com" and password_set(folder, user, secret)
    # a run that generates nothing leaves no file
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert len(list((folder / ".reconciler" / "credentials").glob("*.age"))) == 1


def test_a_new_users_password_goes_to_the_0600_file_without_recipients(tmp_path):
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")})
    out = tmp_path / "pw.tsv"
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    [(user, what, secret)] = [line.split("\t") for line in out.read_text().splitlines()]
    assert (user, what) == ("nina@contoso.com", "initial password")
    assert password_set(folder, user, secret)


def test_a_lost_reply_on_a_create_delivers_one_password_the_one_the_directory_holds(
        tmp_path, script):  # noqa: F811
    identity, recipient = identity_and_recipient()
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")},
                         tenant_extra=recipients_yaml(recipient))
    script.drop("POST", r"/users$", "after", times=2)  # created, the reply lost twice
    out = tmp_path / "pw"
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert result.exit_code == 0, result.output
    assert adds(folder) == {"nina@contoso.com": 1}
    [(user, _what, secret)] = decrypted(identity, tmp_path / "pw.age")
    assert password_set(folder, user, secret)
    assert plan_of(folder).changes == []


def test_a_create_that_fails_retracts_the_password_it_had_delivered(tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")})
    script.answer(400, "POST", r"/users$", "before", times=-1)
    out = tmp_path / "pw.tsv"
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert result.exit_code == 1
    assert adds(folder) == {}
    written = [line.split("\t") for line in out.read_text().splitlines()]
    assert [row[:2] for row in written] == [["nina@contoso.com", "initial password"]] * 2
    assert written[1][2].startswith("(not set: the creation failed")


def test_an_unwritable_credentials_destination_stops_the_apply_before_anything_is_sent(
        tmp_path):
    _identity, recipient = identity_and_recipient()
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")},
                         tenant_extra=recipients_yaml(recipient))
    taken = tmp_path / "pw.age"
    taken.write_text("an earlier run's file")
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out",
                     str(tmp_path / "pw"))
    assert result.exit_code == 1
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "exists already" in error and "nothing was sent" in error
    assert adds(folder) == {} and taken.read_text() == "an earlier run's file"


def test_a_killed_apply_and_its_rerun_leave_each_new_user_one_password_in_force(tmp_path):
    identity, recipient = identity_and_recipient()
    names = [f"new{n:02d}" for n in range(16)]
    folder = make_tenant(tmp_path, {n: NEW.format(name=n) for n in names},
                         tenant_extra=recipients_yaml(recipient))
    lease = {"RECONCILER_LOCK_LEASE_SECONDS": "3"}
    with served(folder, "latency=40ms"):
        process = apply_process(folder, env=lease)
        wait_for(lambda: sum(adds(folder).values()) >= 5)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        time.sleep(3.5)  # the dead run's lease expires
        again = apply_process(folder, env=lease)
        assert again.wait(timeout=60) == 0, again.stderr.read()
    assert adds(folder) == {f"{n}@contoso.com": 1 for n in names}  # none lost, none twice
    files = sorted((folder / ".reconciler" / "credentials").glob("*.age"))
    assert len(files) == 2  # one per run, each whole and readable after the kill
    rows = decrypted(identity, *files)
    in_force = Counter(user for user, _what, secret in rows if password_set(folder, user, secret))
    assert in_force == {f"{n}@contoso.com": 1 for n in names}  # exactly one each
    stale = [row for row in rows if not password_set(folder, row[0], row[2])]
    assert len(stale) <= 4  # only one killed between writing a password and sending it


@pytest.mark.parametrize("how", ["symlink", "outside"])
def test_password_out_through_a_symlink_or_outside_the_allowed_folders_is_refused(
        tmp_path, how):
    folder = make_tenant(tmp_path / "repo", {"nina": NEW.format(name="nina")})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if how == "symlink":  # a folder planted in the repository, pointing out of it
        (folder / "drop").symlink_to(elsewhere, target_is_directory=True)
        target = folder / "drop" / "pw.tsv"
    else:
        target = elsewhere / "pw.tsv"
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(target))
    assert result.exit_code == 1
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert ("is a symlink" if how == "symlink" else "outside the folders") in error
    assert list(elsewhere.iterdir()) == [] and adds(folder) == {}


def test_a_password_file_that_exists_and_is_not_a_regular_file_of_ours_is_refused(tmp_path):
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")})
    target = tmp_path / "pw.tsv"
    target.symlink_to(tmp_path / "victim")
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(target))
    assert result.exit_code == 1 and "Error:" in result.output
    assert not (tmp_path / "victim").exists() and adds(folder) == {}
    assert plan_of(folder).changes  # nothing was sent


def test_an_age_password_out_without_recipients_refuses_secrets_but_not_other_changes(
        tmp_path):
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina"),
                                    "bob": "userPrincipalName: bob@contoso.com\n"
                                           "profile: {jobTitle: Director}\n"})
    out = str(tmp_path / "passwords.age")
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", out)
    assert result.exit_code == 1
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "names an age file, but tenant.yaml has no credentials.recipients" in error
    assert audits(folder) == [] and not (tmp_path / "passwords.age").exists()
    (folder / "users" / "nina.yaml").unlink()  # nothing secret to make: it applies
    assert cli_run("apply", str(folder), "--auto-approve", "--password-out", out).exit_code == 0
    assert store(folder).get_object(store(folder).user_id_by_upn("bob@contoso.com"))[
        "jobTitle"] == "Director"
    assert not (tmp_path / "passwords.age").exists()


def test_a_create_whose_every_reply_is_lost_is_found_and_keeps_the_password_it_delivered(
        tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")})
    script.drop("POST", r"/users$", "after", times=-1)  # created; no reply ever comes
    out = tmp_path / "pw.tsv"
    first = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert first.exit_code == 0, first.output  # the re-check found the user it created
    script.rules.clear()
    again = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))
    assert again.exit_code == 0, again.output
    assert adds(folder) == {"nina@contoso.com": 1}
    [(user, _what, secret)] = [line.split("\t") for line in out.read_text().splitlines()]
    assert password_set(folder, user, secret)  # one password written, the one in force


def test_a_user_that_existed_before_the_password_was_written_gets_it_retracted(tmp_path):
    """The plan said 'create' (a list that lagged behind, say); the directory answers that
    the user exists, created before this run's password: that password is not in force."""
    from reconciler.apply.secrets import Secrets
    from reconciler.emulator.rules import blank_user
    from reconciler.reconcile import run_apply, run_plan

    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")})
    run = run_plan(folder, writable=True)
    earlier = {**blank_user(), "id": "0b5e4d2a-1111-4222-8333-444455556666", "accountEnabled": True,
               "userPrincipalName": "nina@contoso.com", "displayName": "nina",
               "mailNickname": "nina", "createdDateTime": "2026-01-01T00:00:00Z"}
    store(folder).put_object("user", earlier)  # made elsewhere, long before this run
    out = tmp_path / "pw.tsv"
    secrets = Secrets(out)
    secrets.open()
    try:
        run_apply(run, secrets=secrets)
    finally:
        secrets.close()
        run.connection.close()
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert [row[:2] for row in rows] == [["nina@contoso.com", "initial password"]] * 2
    assert rows[1][2].startswith("(not set: nina@contoso.com already existed")
    assert not password_set(folder, "nina@contoso.com", rows[0][2])


def test_an_existing_password_file_owned_by_someone_else_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")})
    target = tmp_path / "pw.tsv"
    target.write_text("someone else's\n")
    os.chown(target, 4242, 4242)
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(target))
    assert result.exit_code == 1
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "not a regular file owned by this user" in error
    assert target.read_text() == "someone else's\n" and adds(folder) == {}


def test_drift_apply_due_checks_its_password_out_like_apply(tmp_path):
    folder = make_tenant(tmp_path / "repo", {"nina": NEW.format(name="nina")})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / "drop").symlink_to(elsewhere, target_is_directory=True)
    result = cli_run("drift", str(folder), "--apply-due", "--password-out",
                     str(folder / "drop" / "pw.tsv"))
    assert result.exit_code == 1
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "is a symlink" in error and list(elsewhere.iterdir()) == []


def test_an_existing_password_file_with_a_second_hard_link_is_refused(tmp_path):
    folder = make_tenant(tmp_path, {"nina": NEW.format(name="nina")})
    target = tmp_path / "pw.tsv"
    target.write_text("")
    os.link(target, tmp_path / "published.txt")
    result = cli_run("apply", str(folder), "--auto-approve", "--password-out", str(target))
    assert result.exit_code == 1
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "another hard link" in error
    assert (tmp_path / "published.txt").read_text() == "" and adds(folder) == {}
