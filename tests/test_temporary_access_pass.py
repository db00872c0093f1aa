"""issueTemporaryAccessPass: issued once, delivered once (encrypted to the recipients),
within the tenant's TAP policy; judged from the emulator's record (the pass it issued, its
audit log), never from the tool's own reads."""

from __future__ import annotations

import hashlib

from tests.emulated import client, emulator
from tests.scripted import script  # noqa: F401 - fixture
from tests.tenancy import audits, cli_run, make_tenant, oid, plan_of, small_seed, store
from tests.test_credentials import decrypted, identity_and_recipient, recipients_yaml

ALICE = oid("alice@contoso.com")
ISSUED = "Admin registered temporary access pass method for user"
TAP_POST = r"/authentication/temporaryAccessPassMethods$"
TAP = """\
userPrincipalName: alice@contoso.com
actions:
  - {id: t1, do: issueTemporaryAccessPass, lifetimeMinutes: 120, isUsableOnce: true}
"""


def tap_tenant(tmp_path, policy: dict | None = None, user: str = TAP, recipients=True):
    seed = small_seed()
    seed["temporaryAccessPassPolicy"] = {"state": "enabled", **(policy or {})}
    identity, recipient = identity_and_recipient()
    extra = recipients_yaml(recipient) if recipients else ""
    return make_tenant(tmp_path, {"alice": user}, seed=seed, tenant_extra=extra), identity


def issued(folder) -> int:
    return sum(1 for a in audits(folder) if a["activityDisplayName"] == ISSUED)


def passes(folder) -> list[dict]:
    return store(folder).items(ALICE, "temporaryAccessPassMethod")


def is_the_pass(folder, secret: str) -> bool:
    """Whether `secret` is the pass the emulator holds for alice (it keeps a salted hash)."""
    [held] = passes(folder)
    kept = held["passHash"]
    return kept["sha256"] == hashlib.sha256((kept["salt"] + secret).encode()).hexdigest()


def apply(folder, out):
    return cli_run("apply", str(folder), "--auto-approve", "--password-out", str(out))


def test_a_pass_is_planned_without_a_secret_issued_once_and_delivered_encrypted(tmp_path):
    folder, identity = tap_tenant(tmp_path)
    planned = cli_run("plan", str(folder))
    assert "issueTemporaryAccessPass (t1)" in planned.output
    assert "120 min, usable once, usable at once; replaces any pass" in planned.output
    result = apply(folder, tmp_path / "creds")
    assert result.exit_code == 0, result.output
    [(user, what, secret)] = decrypted(identity, tmp_path / "creds.age")
    assert user == "alice@contoso.com" and what.startswith("Temporary Access Pass (t1;")
    assert "120 min, usable once" in what
    assert is_the_pass(folder, secret) and secret not in result.output
    assert secret not in (folder / ".reconciler" / "audit.jsonl").read_text()
    [held] = passes(folder)
    assert (held["lifetimeInMinutes"], held["isUsableOnce"]) == (120, True)
    assert plan_of(folder).changes == []  # recorded as done: never issued again
    again = apply(folder, tmp_path / "creds2")
    assert again.exit_code == 0 and issued(folder) == 1
    assert not (tmp_path / "creds2.age").exists()


def test_a_lost_reply_issues_again_and_delivers_only_the_pass_in_force(
        tmp_path, script):  # noqa: F811
    folder, identity = tap_tenant(tmp_path)
    script.drop("POST", TAP_POST, "after", times=1)  # issued; the pass in the reply is lost
    result = apply(folder, tmp_path / "creds")
    assert result.exit_code == 0, result.output
    assert issued(folder) == 2 and len(passes(folder)) == 1  # the second replaced the first
    [(_user, _what, secret)] = decrypted(identity, tmp_path / "creds.age")
    assert is_the_pass(folder, secret)


def test_a_pass_issued_by_an_interrupted_run_is_replaced_and_delivered_once(
        tmp_path, script):  # noqa: F811
    folder, identity = tap_tenant(tmp_path)
    script.drop("POST", TAP_POST, "after", times=-1)  # every reply lost: the run gives up
    first = apply(folder, tmp_path / "run1")
    assert first.exit_code == 1 and "unknown: alice@contoso.com action" in first.output
    assert len(passes(folder)) == 1  # issued, never seen, never delivered
    assert decrypted(identity, tmp_path / "run1.age") == []
    assert [c.target for c in plan_of(folder).changes] == ["issueTemporaryAccessPass (t1)"]
    script.rules.clear()
    second = apply(folder, tmp_path / "run2")
    assert second.exit_code == 0, second.output
    [(_user, _what, secret)] = decrypted(identity, tmp_path / "run2.age")
    assert is_the_pass(folder, secret) and len(passes(folder)) == 1
    assert plan_of(folder).changes == []


def test_the_tenants_policy_is_checked_before_anything_is_sent(tmp_path):
    folder, _identity = tap_tenant(tmp_path, {"state": "disabled"})
    result = apply(folder, tmp_path / "creds")
    assert result.exit_code == 1
    assert "Temporary Access Pass policy (Entra admin center" in result.output
    assert "is disabled" in result.output and issued(folder) == 0
    narrow, _ = tap_tenant(tmp_path / "narrow", {"maximumLifetimeInMinutes": 60})
    result = apply(narrow, tmp_path / "narrow" / "creds")
    assert result.exit_code == 1 and "lifetimeMinutes 120 is outside" in result.output
    assert "60 to 60 minutes" in result.output and issued(narrow) == 0
    [error] = [line for line in cli_run("plan", str(narrow)).output.splitlines()
               if "lifetimeMinutes 120" in line]  # a plan error, before any review
    assert "users/alice.yaml:3:5: actions[0]" in error
    grouped, _ = tap_tenant(tmp_path / "grouped", {"includeTargets": [
        {"targetType": "group", "id": oid("group:Oncall")}]})  # bob's group, not alice's
    result = apply(grouped, tmp_path / "grouped" / "creds")
    assert result.exit_code == 1 and "does not include this user" in result.output
    assert issued(grouped) == 0


def test_the_emulator_refuses_what_the_policy_forbids_and_replaces_an_existing_pass():
    """The documented rules, straight at the emulator (the product checks them first)."""
    seed = small_seed()
    seed["temporaryAccessPassPolicy"] = {
        "state": "enabled", "isUsableOnce": True, "maximumLifetimeInMinutes": 240,
        "includeTargets": [{"targetType": "group", "id": oid("group:Engineering")}]}
    graph = client(emulator(seed))

    def post(user: str, body: dict):
        return graph.write("POST", f"/users/{oid(user)}/authentication/"
                                   "temporaryAccessPassMethods", body)

    for refused in ({"lifetimeInMinutes": 300}, {"isUsableOnce": False},
                    {"lifetimeInMinutes": 5}):
        assert post("alice@contoso.com", refused).error.status == 400
    outside = post("bob@contoso.com", {})  # bob is not in Engineering, the targeted group
    assert "does not allow creating" in outside.error.message
    first, second = post("alice@contoso.com", {"lifetimeInMinutes": 90}), \
        post("alice@contoso.com", {})
    assert first.ok and second.ok and second.body["lifetimeInMinutes"] == 60  # the default
    assert first.body["temporaryAccessPass"] != second.body["temporaryAccessPass"]
    listed = graph.list(f"/users/{ALICE}/authentication/temporaryAccessPassMethods")
    assert [(p["id"], p["temporaryAccessPass"]) for p in listed] == [
        (second.body["id"], None)]  # one pass per user, shown only when created


def test_a_pass_needs_a_destination_and_a_member(tmp_path):
    folder, _ = tap_tenant(tmp_path, recipients=False)
    result = cli_run("apply", str(folder), "--auto-approve")  # no terminal, no file
    assert result.exit_code == 1 and "not issued: no destination" in result.output
    assert issued(folder) == 0
    bad = TAP.replace("lifetimeMinutes: 120", "lifetimeMinutes: 5")
    folder, _ = tap_tenant(tmp_path / "bad", user=bad)
    result = cli_run("validate", str(folder))
    assert result.exit_code == 1 and "actions[0].lifetimeMinutes" in result.output
    wrong = TAP.replace("issueTemporaryAccessPass", "revokeSessions")
    folder, _ = tap_tenant(tmp_path / "wrong", user=wrong)
    result = cli_run("validate", str(folder))
    assert "apply only to do: issueTemporaryAccessPass" in result.output
