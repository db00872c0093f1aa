"""Exchange writes (Add-MailboxPermission, Add-RecipientPermission, Set-Mailbox, ...) whose
reply was lost are read back before they are sent again or reported, as Graph writes are:
judged from the emulator's audit log (each grant written once) and the reported outcomes."""

from __future__ import annotations

import json
from collections import Counter

from tests.scripted import script  # noqa: F401 - fixture
from tests.tenancy import E3, audits, cli_run, make_tenant, oid, plan_of, small_seed

INVOKE = r"/InvokeCommand$"
ALICE = """\
userPrincipalName: alice@contoso.com
mailbox:
  forwarding: {address: bob@contoso.com, keepCopy: true}
  permissions:
    fullAccess: [{user: bob@contoso.com, automapping: false}]
    sendAs: [bob@contoso.com]
    sendOnBehalf: [bob@contoso.com]
"""
WRITES = ("Add-MailboxPermission", "Add-RecipientPermission", "Set-Mailbox")


def seed() -> dict:
    data = small_seed()
    bob = next(u for u in data["users"] if u["userPrincipalName"] == "bob@contoso.com")
    bob["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []}]  # bob has a mailbox
    return data


def exchange_writes(folder) -> Counter:
    return Counter((a["activityDisplayName"],
                    json.dumps(a["targetResources"][0]["modifiedProperties"], sort_keys=True))
                   for a in audits(folder) if a.get("category") == "ExchangeAdmin")


def test_exchange_writes_whose_replies_are_lost_are_read_back_and_reported_applied(
        tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {"alice": ALICE}, seed=seed())
    for cmdlet in WRITES:  # each lands, and its reply is lost, every time
        script.drop("POST", INVOKE, "after", times=-1, body=rf'"CmdletName":\s*"{cmdlet}"')
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert [rule.hits for rule in script.rules] == [1, 1, 2]  # read back, never re-sent
    assert "4 applied, 0 already so, 0 failed, 0 unknown" in result.output
    done = exchange_writes(folder)
    assert sum(done.values()) == 4 and max(done.values()) == 1  # each written once
    assert plan_of(folder).changes == []


def test_an_exchange_write_that_never_gets_a_reply_is_unknown_then_converges(
        tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {"alice": ALICE}, seed=seed())
    script.drop("POST", INVOKE, "before", times=-1,
                body=r'"CmdletName":\s*"Add-MailboxPermission"')
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    unknown = [line for line in result.output.splitlines() if line.startswith("unknown:")]
    assert len(unknown) == 1 and "alice@contoso.com mailboxPermission add" in unknown[0]
    assert "3 applied, 0 already so, 0 failed, 1 unknown" in result.output
    script.rules.clear()
    again = cli_run("apply", str(folder), "--auto-approve")
    assert again.exit_code == 0, again.output
    done = exchange_writes(folder)
    assert sum(done.values()) == 4 and max(done.values()) == 1
    assert plan_of(folder).changes == []
    assert oid("alice@contoso.com")  # the same mailbox throughout
