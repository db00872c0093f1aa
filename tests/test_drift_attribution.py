"""Drift reports say who changed what outside git, from the directory's audit log."""

from __future__ import annotations

import json

import httpx

from reconciler.emulator.app import Emulator
from reconciler.emulator.server import serve_in_background
from reconciler.emulator.transport import RedirectingTransport
from reconciler.graph.auth import msal_auth
from reconciler.graph.client import GraphClient
from tests.tenancy import TENANT_ID, cli_run, make_tenant, oid

PORTAL = "00000000-0000-4000-8000-0000000000aa"


def portal_client(folder) -> tuple[GraphClient, object]:
    """Someone else's app, changing the tenant behind git's back."""
    emulator = Emulator(folder / "state.db")
    with emulator.store.transaction():
        emulator.store.put_item("tenant", "application", PORTAL, {
            "appId": PORTAL, "displayName": "HR portal",
            "passwordCredentials": [{"secretText": "portal-secret"}]})
    origin, server = serve_in_background(emulator)
    http = httpx.Client(transport=RedirectingTransport(origin))
    auth = msal_auth("client_secret", PORTAL, TENANT_ID, http,
                     {"RECONCILER_CLIENT_SECRET": "portal-secret"})
    return GraphClient(http, auth), server


def test_drift_names_who_changed_fields_and_memberships(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: Engineer}\n"
                                             "groups: [Engineering, Staff, Approvers]\n"})
    assert cli_run("drift", str(folder)).exit_code == 0
    graph, server = portal_client(folder)
    try:
        alice = oid("alice@contoso.com")
        assert graph.write("PATCH", f"/users/{alice}", {"jobTitle": "Boss"}).ok
        assert graph.write("PATCH", f"/groups/{oid('group:Oncall')}", {
            "members@odata.bind": [f"https://graph.microsoft.com/v1.0/directoryObjects/{alice}"]
        }).ok
    finally:
        server.shutdown()
    result = cli_run("drift", str(folder), "--format", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    found = {(a["kind"], a["target"], a["activity"], a["by"]) for a in report["attribution"]}
    assert found == {("profile", "jobTitle", "Update user", "HR portal"),
                     ("group", "Oncall", "Add member to group", "HR portal")}
    text = cli_run("drift", str(folder)).stdout
    assert "Changed outside git (directory audit log):" in text
    assert "alice@contoso.com group Oncall: Add member to group by HR portal at " in text


def test_mailbox_permission_drift_is_attributed_from_the_exchange_admin_audit(tmp_path):
    from reconciler.graph.exchange import ExchangeClient
    from tests.tenancy import E3, small_seed

    seed = small_seed()
    bob = next(u for u in seed["users"] if u["userPrincipalName"] == "bob@contoso.com")
    bob["assignedLicenses"] = [{"skuId": E3, "disabledPlans": []}]
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "mailbox: {permissions: {sendAs: []}}\n"},
                         seed=seed)
    assert cli_run("drift", str(folder)).exit_code == 0
    graph, server = portal_client(folder)
    try:
        exchange = ExchangeClient(graph.http, graph.sender.tokens, TENANT_ID)
        exchange.invoke("Add-RecipientPermission", {"Identity": "alice@contoso.com",
                                                    "Trustee": "bob@contoso.com",
                                                    "AccessRights": ["SendAs"]})
    finally:
        server.shutdown()
    report = json.loads(cli_run("drift", str(folder), "--format", "json").stdout)
    assert [(a["kind"], a["target"], a["activity"], a["by"]) for a in report["attribution"]] \
        == [("mailboxPermission", "sendAs: bob@contoso.com", "Add-RecipientPermission",
             "HR portal")]
