"""The privileged section covers every way into an account, and protected users refuse
password resets, method changes and forwarding unless their file allows them."""

from __future__ import annotations

import json

import pytest

from reconciler.areas.registry import privileged
from reconciler.plan.planfile import dumps
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from tests.tenancy import E3, make_tenant, plan_of, small_seed


@pytest.fixture
def seed():
    data = small_seed()
    for user in data["users"]:
        if user["userPrincipalName"] == "bob@contoso.com":
            user["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []}]
        if user["userPrincipalName"] == "dave@contoso.com":
            user["accountEnabled"] = False
    return data


def shown(plan) -> dict[tuple[str, str, str], bool]:
    return {(c.user.split("@")[0], c.kind, str(c.target)): privileged(c) for c in plan.changes}


def test_each_way_into_an_account_is_privileged(tmp_path, seed):
    folder = make_tenant(tmp_path, {
        "alice": "userPrincipalName: alice@contoso.com\n"
                 "groups: [Engineering, Approvers, Staff, Oncall, Everyone, Badge]\n"
                 "profile: {jobTitle: Lead}\n",
        "bob": "userPrincipalName: bob@contoso.com\n"
               "mailbox:\n  forwarding: {address: drop@fabrikam.example}\n"
               "  permissions: {fullAccess: [alice@contoso.com], sendAs: [alice@contoso.com],"
               " sendOnBehalf: [alice@contoso.com]}\n"
               "actions: [{id: r1, do: resetPassword}]\n"
               "authentication: {phoneMethods: {mobile: '+1 425 555 0101'}}\n",
        "dave": "userPrincipalName: dave@contoso.com\nprofile: {accountEnabled: true}\n",
    }, seed=seed, protected=())
    plan = plan_of(folder)
    assert plan.errors == []
    assert shown(plan) == {
        ("alice", "profile", "jobTitle"): False,
        ("alice", "group", "Oncall"): True,  # role-assignable
        ("bob", "mailboxPermission", "fullAccess: alice@contoso.com"): True,
        ("bob", "mailboxPermission", "sendAs: alice@contoso.com"): True,
        ("bob", "mailboxPermission", "sendOnBehalf: alice@contoso.com"): True,
        ("bob", "forwarding", "forwarding"): True,
        ("bob", "phoneMethod", "mobile"): True,
        ("bob", "action", "resetPassword (r1)"): True,
        ("dave", "profile", "accountEnabled"): True,  # enabling too
    }
    forwarding = next(c for c in plan.changes if c.kind == "forwarding")
    assert forwarding.apply["external"] is True and forwarding.note.startswith("external")
    data = json.loads(dumps(plan))
    assert sorted((c["kind"], c.get("privileged", False)) for c in data["changes"]) == sorted(
        (c.kind, privileged(c)) for c in plan.changes)
    text = render_text(plan)
    assert text.startswith("Privileged changes (review these first):\n")
    assert "  bob@contoso.com: + forwarding:" in text and "(external" in text
    assert "alice@contoso.com: + group: Oncall" in text
    assert "#### :warning: Privileged changes" in render_markdown(plan)


def test_anything_touching_a_protected_user_is_privileged(tmp_path, seed):
    folder = make_tenant(tmp_path, {"erin": "userPrincipalName: erin@contoso.com\n"
                                            "profile: {jobTitle: Break glass}\n"}, seed=seed)
    assert [privileged(c) for c in plan_of(folder).changes] == [True]


PROTECTED_BOB = ("userPrincipalName: bob@contoso.com\n"
                 "mailbox: {forwarding: {address: alice@contoso.com}}\n"
                 "actions: [{id: r1, do: resetPassword}]\n"
                 "authentication: {phoneMethods: {mobile: '+1 425 555 0101'}}\n")


def test_a_protected_user_refuses_reset_methods_and_forwarding(tmp_path, seed):
    folder = make_tenant(tmp_path, {"bob": PROTECTED_BOB}, seed=seed,
                         protected=("bob@contoso.com",))
    plan = plan_of(folder)
    assert plan.changes == []
    assert sorted(e.path for e in plan.errors) == [
        "actions[0]", "authentication.phoneMethods.mobile", "mailbox.forwarding"]
    assert all("is a protected user" in e.message for e in plan.errors)


def test_a_protected_user_file_may_allow_them_explicitly(tmp_path, seed):
    folder = make_tenant(tmp_path, {"bob": PROTECTED_BOB + "allowOnProtectedUser: "
                                    "[passwordReset, authenticationMethods, forwarding]\n"},
                         seed=seed, protected=("bob@contoso.com",))
    plan = plan_of(folder)
    assert plan.errors == []
    assert sorted(c.kind for c in plan.changes) == ["action", "forwarding", "phoneMethod"]
    assert all(privileged(c) for c in plan.changes)
