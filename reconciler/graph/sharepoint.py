"""SharePoint REST for a site's default groups (graph-contract §23), over the same retry and
sign-in machinery as Graph: one Sender per SharePoint host, each with its own token audience
(`https://{tenant}.sharepoint.com/.default`). SharePoint accepts app-only tokens proven with a
certificate only, so a client secret is refused here before anything is sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from reconciler.graph.errors import GraphError, ReadOnlyError
from reconciler.graph.retry import RetryPolicy
from reconciler.graph.sender import Sender, TokenProvider

MEMBER_LOGIN = "i:0#.f|membership|"
GROUPS = ("visitors", "members", "owners")
_GROUP_PATH = {"visitors": "associatedvisitorgroup", "members": "associatedmembergroup",
               "owners": "associatedownergroup"}
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
HEADERS = {"Accept": "application/json;odata=nometadata",
           "Content-Type": "application/json;odata=nometadata"}


class SharePointConfigError(RuntimeError):
    """The tenant's sign-in cannot reach SharePoint (a secret instead of a certificate)."""


def login_name(upn: str) -> str:
    """The claims login name SharePoint gives a member (compared case-insensitively)."""
    return (MEMBER_LOGIN + upn).lower()


def site_root(url: str) -> str:
    """`https://host/sites/x` of a site URL, without a trailing slash or query."""
    parts = urlsplit(url)
    return f"https://{parts.netloc.lower()}{parts.path.rstrip('/')}"


class SharePointClient:
    """GET and POST against `{site}/_api/...`; errors carry SharePoint's own message."""

    def __init__(self, http: httpx.Client, tokens: TokenProvider, *, auth_method: str,
                 read_only: bool = False, policy: RetryPolicy | None = None) -> None:
        self.http, self.tokens, self.policy = http, tokens, policy
        self.auth_method = auth_method
        self.read_only = read_only
        self._senders: dict[str, Sender] = {}

    def _sender(self, site: str) -> Sender:
        if self.auth_method == "client_secret":
            raise SharePointConfigError(
                "SharePoint accepts app-only tokens proven with a certificate only; "
                "set auth.method: certificate (or github_oidc) in tenant.yaml to manage "
                "sharePoint: entries")
        host = urlsplit(site).netloc.lower()
        if host not in self._senders:
            self._senders[host] = Sender(self.http, self.tokens, f"sharepoint:https://{host}",
                                         **({"policy": self.policy} if self.policy else {}))
        return self._senders[host]

    def request(self, method: str, site: str, tail: str, body: Any = None) -> Any:
        if self.read_only and method != "GET":
            raise ReadOnlyError(f"refused {method} {tail}: this client is read-only")
        url = f"{site_root(site)}/_api/{tail.lstrip('/')}"
        reply = self._sender(site).send(method, url, json=body, headers=HEADERS)
        if not reply.ok:
            raise _error(reply.status, reply.body, method, url)
        return reply.body

    # reads ------------------------------------------------------------------------------------
    def group_id_of_site(self, site: str) -> str | None:
        """The Microsoft 365 group a site is connected to, or None."""
        found = (self.request("GET", site, "site?$select=Id,GroupId") or {}).get("GroupId")
        return None if not found or found == ZERO_GUID else str(found)

    def members(self, site: str, group: str) -> list[dict[str, Any]]:
        """The users (PrincipalType 1) of a site's visitors, members or owners group."""
        rows = (self.request("GET", site, f"web/{_GROUP_PATH[group]}/users"
                             "?$select=Id,LoginName,Email,Title,PrincipalType") or {})
        return [r for r in rows.get("value", []) if r.get("PrincipalType") == 1]

    # writes -----------------------------------------------------------------------------------
    def add(self, site: str, group: str, upn: str) -> None:
        self.request("POST", site, "web/ensureuser", {"logonName": login_name(upn)})
        self.request("POST", site, f"web/{_GROUP_PATH[group]}/users",
                     {"LoginName": login_name(upn)})

    def remove(self, site: str, group: str, login: str) -> None:
        encoded = quote("'" + login.replace("'", "''") + "'", safe="")
        self.request("POST", site, f"web/{_GROUP_PATH[group]}/users/removeByLoginName(@v)"
                                   f"?@v={encoded}")


def _error(status: int, body: Any, method: str, url: str) -> GraphError:
    error = body.get("odata.error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = (error.get("message") or {}).get("value") or f"HTTP {status}"
        return GraphError(status, str(error.get("code") or "SharePointError"), message,
                          method=method, path=urlsplit(url).path)
    return GraphError.from_body(status, body, method=method, path=urlsplit(url).path)
