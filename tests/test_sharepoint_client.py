"""The SharePoint REST client against the emulator: reads, adds, removals, refusals."""

from __future__ import annotations

import httpx
import pytest

from reconciler.emulator.transport import InProcessTransport
from reconciler.graph.auth import NoAuth, scopes_for
from reconciler.graph.errors import GraphError, ReadOnlyError
from reconciler.graph.sharepoint import SharePointClient, SharePointConfigError, login_name
from tests.emulated import emulator

SITE = "https://contoso.sharepoint.com/sites/Finance/"
TEAM = "cccccccc-0000-4000-8000-000000000001"


@pytest.fixture
def em():
    return emulator({
        "users": [{"id": "aaaaaaaa-0000-4000-8000-000000000001", "displayName": "O'Neil",
                   "userPrincipalName": "o'neil#ext#@contoso.com"}],
        "groups": [{"id": TEAM, "displayName": "Team", "groupTypes": ["Unified"]}],
        "sites": [{"webUrl": "https://contoso.sharepoint.com/sites/finance", "title": "Finance"},
                  {"webUrl": "https://contoso.sharepoint.com/sites/team", "groupId": TEAM}]})


def client(em, **kwargs) -> SharePointClient:
    http = httpx.Client(transport=InProcessTransport(em))
    return SharePointClient(http, NoAuth(), **{"auth_method": "certificate", **kwargs})


def test_add_list_and_remove_a_member_with_a_hostile_login_name(em):
    sp = client(em)
    upn = "o'neil#ext#@contoso.com"
    sp.add(SITE, "members", upn)
    assert [m["LoginName"] for m in sp.members(SITE, "members")] == [login_name(upn)]
    assert sp.members(SITE, "visitors") == []
    sp.remove(SITE, "members", login_name(upn))
    assert sp.members(SITE, "members") == []
    logged = [a["activityDisplayName"] for a in em.store.audits() if a["category"] == "SharePoint"]
    assert logged == ["Added user to SharePoint group", "Removed user from SharePoint group"]


def test_group_connected_sites_name_their_group_and_members_exclude_claims(em):
    sp = client(em)
    assert sp.group_id_of_site("https://contoso.sharepoint.com/sites/team") == TEAM
    assert sp.group_id_of_site(SITE) is None
    assert sp.members("https://contoso.sharepoint.com/sites/team", "members") == []


def test_unknown_user_and_unknown_site_are_errors_with_sharepoint_messages(em):
    sp = client(em)
    with pytest.raises(GraphError) as caught:
        sp.add(SITE, "owners", "nobody@contoso.com")
    assert "does not exist or is not unique" in caught.value.message
    with pytest.raises(GraphError) as caught:
        sp.members("https://contoso.sharepoint.com/sites/nope", "members")
    assert caught.value.status == 404


def test_a_client_secret_is_refused_before_anything_is_sent(em):
    sp = client(em, auth_method="client_secret")
    before = em.stats["http"]
    with pytest.raises(SharePointConfigError, match="certificate"):
        sp.members(SITE, "members")
    assert em.stats["http"] == before


def test_read_only_refuses_writes(em):
    with pytest.raises(ReadOnlyError):
        client(em, read_only=True).add(SITE, "members", "x@contoso.com")


def test_one_token_audience_per_sharepoint_host():
    assert scopes_for("sharepoint:https://contoso.sharepoint.com") == [
        "https://contoso.sharepoint.com/.default"]
    assert scopes_for("graph") == ["https://graph.microsoft.com/.default"]
