"""Emulated SharePoint REST for a site's three default groups (graph-contract §23).

Served under `/sites/{site}/_api/...` (and `/teams/...`, and the root site's `/_api/...`), on
the emulator's one origin: the product maps `https://{tenant}.sharepoint.com` there. Rules:
a SharePoint-audience token proven with a certificate only (identity.check_bearer); JSON in
`odata=nometadata` (plain) or `odata=verbose` (wrapped in `d`); claims login names
(`i:0#.f|membership|upn`) compared case-insensitively and returned in lower case; a user must
resolve in the directory (`ensureuser`, adding to a group) or SharePoint's "does not exist or is
not unique"; a group-connected site's Members and Owners groups hold the Microsoft 365 group's
claims. SharePoint writes go to the write log under category "SharePoint", which Graph's
directoryAudits does not list (as in a real tenant: they are in the unified audit log).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from reconciler.emulator.wire import Request, Response, Router

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
ZERO = "00000000-0000-0000-0000-000000000000"
MEMBER_PREFIX = "i:0#.f|membership|"
GROUP_CLAIM = "c:0o.c|federateddirectoryclaimprovider|"
GROUPS = {"owner": (3, "Owners"), "visitor": (4, "Visitors"), "member": (5, "Members")}
SITE_PREFIXES = ("/sites/{site}", "/teams/{site}", "")
CATEGORY = "SharePoint"


class SharePointError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return Response.of_json(self.status, {"odata.error": {
            "code": self.code, "message": {"lang": "en-US", "value": self.message}}})


def routes(method: str, tail: str) -> Any:
    """Register a handler for `tail` under every site prefix."""
    def register(handler: Any) -> Any:
        for prefix in SITE_PREFIXES:
            router.route(method, prefix + "/_api" + tail)(_guarded(handler))
        return handler
    return register


def _guarded(handler: Any) -> Any:
    def run(em: Emulator, request: Request, site: str = "", **params: str) -> Response:
        try:
            return handler(em, request, _site(em, request, site), **params)
        except SharePointError as error:
            return error.response()
    return run


def _site(em: Emulator, request: Request, name: str) -> dict[str, Any]:
    kind = "teams" if request.path.startswith("/teams/") else "sites"
    key = f"/{kind}/{name.lower()}" if name else "/"
    site = em.store.item("tenant", "site", key)
    if site is None:
        raise SharePointError(404, "-2147024894, System.IO.FileNotFoundException",
                              "File Not Found.")
    return site


def _reply(request: Request, data: Any, status: int = 200) -> Response:
    verbose = "odata=verbose" in request.headers.get("accept", "")
    if isinstance(data, list):
        body: Any = {"d": {"results": data}} if verbose else {"value": data}
    else:
        body = {"d": data} if verbose else data
    content = "application/json;odata=" + ("verbose" if verbose else "nometadata")
    return Response(status, json.dumps(body).encode(), {"content-type": content + ";charset=utf-8"})


def _group_of(site: dict[str, Any], which: str) -> dict[str, Any]:
    number, suffix = GROUPS[which]
    title = f"{site.get('title', 'Site')} {suffix}"
    return {"Id": number, "Title": title, "LoginName": title, "OwnerTitle":
            f"{site.get('title', 'Site')} Owners", "Description": None,
            "PrincipalType": 8, "IsHiddenInUI": False}


def _group_by_id(site: dict[str, Any], group_id: str) -> str:
    for which, (number, _) in GROUPS.items():
        if str(number) == group_id.strip("()"):
            return which
    raise SharePointError(404, "-2146232832, Microsoft.SharePoint.SPException",
                          "Group cannot be found.")


def _members_key(site: dict[str, Any], which: str) -> str:
    return f"{site['key']}|{which}"


def _resolve(em: Emulator, login: str) -> dict[str, Any]:
    """The directory user behind a claims login name, or SharePoint's error."""
    text = login.strip()
    upn = text[len(MEMBER_PREFIX):] if text.lower().startswith(MEMBER_PREFIX) else text
    user_id = em.store.user_id_by_upn(upn)
    user = em.store.get_object(user_id, "user") if user_id else None
    if user is None or em.replica(user, user["id"]) is None:  # just created: not yet seen
        raise SharePointError(400, "-2130575276, Microsoft.SharePoint.SPException",
                              "The user does not exist or is not unique.")
    return user


def _site_user(em: Emulator, site: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """Ensure `user` is in the site's user list; its `Id` is local to the site."""
    login = (MEMBER_PREFIX + user["userPrincipalName"]).lower()
    found = em.store.item(site["key"], "spUser", login)
    if found is None:
        number = len(em.store.items(site["key"], "spUser")) + 7  # low ids belong to groups
        found = {"Id": number, "LoginName": login, "Title": user.get("displayName"),
                 "Email": user.get("mail") or "", "PrincipalType": 1, "IsSiteAdmin": False,
                 "UserPrincipalName": user["userPrincipalName"].lower()}
        em.store.put_item(site["key"], "spUser", login, found)
    return found


def _members(em: Emulator, site: dict[str, Any], which: str) -> list[dict[str, Any]]:
    rows = [em.store.item(site["key"], "spUser", m["LoginName"]) or m
            for m in em.store.items(_members_key(site, which), "spMember")]
    group_id = site.get("groupId") or ZERO
    if group_id != ZERO and which in ("member", "owner"):
        claim = GROUP_CLAIM + group_id + ("_o" if which == "owner" else "")
        rows.insert(0, {"Id": 6 if which == "member" else 2, "LoginName": claim,
                        "Title": f"{site.get('title')} {GROUPS[which][1]}", "Email": "",
                        "PrincipalType": 4, "IsSiteAdmin": which == "owner"})
    return rows


@routes("GET", "/site")
def get_site(em: Emulator, request: Request, site: dict[str, Any]) -> Response:
    return _reply(request, {"Id": site["id"], "GroupId": site.get("groupId") or ZERO,
                            "Url": site["webUrl"]})


@routes("GET", "/web")
def get_web(em: Emulator, request: Request, site: dict[str, Any]) -> Response:
    web: dict[str, Any] = {"Title": site.get("title"), "Url": site["webUrl"],
                           "Id": site.get("webId", site["id"])}
    expand = request.query.get("$expand", "").lower()
    for which in GROUPS:
        name = f"associated{which}group"
        if name in expand:
            web[f"Associated{which.title()}Group"] = _group_of(site, which)
    return _reply(request, web)


@routes("GET", "/web/associated{which}group")
def get_group(em: Emulator, request: Request, site: dict[str, Any], which: str) -> Response:
    return _reply(request, _group_of(site, _which(which)))


def _which(text: str) -> str:
    which = text.lower()
    if which not in GROUPS:
        raise SharePointError(404, "-1, Microsoft.Data.OData.ODataException",
                              f"The property 'associated{text}group' does not exist.")
    return which


@routes("GET", "/web/associated{which}group/users")
def list_group_users(em: Emulator, request: Request, site: dict[str, Any],
                     which: str) -> Response:
    return _reply(request, _members(em, site, _which(which)))


@routes("GET", r"/web/sitegroups{gid}/users")
@routes("GET", r"/web/sitegroups/getbyid{gid}/users")
def list_site_group_users(em: Emulator, request: Request, site: dict[str, Any],
                          gid: str) -> Response:
    return _reply(request, _members(em, site, _group_by_id(site, gid)))


@routes("POST", "/web/ensureuser")
def ensure_user(em: Emulator, request: Request, site: dict[str, Any]) -> Response:
    body = request.json() or {}
    login = body.get("logonName") or request.query.get("logonName", "").strip("'")
    user = _resolve(em, str(login))
    return _reply(request, _site_user(em, site, user))


@routes("POST", "/web/associated{which}group/users")
def add_to_group(em: Emulator, request: Request, site: dict[str, Any], which: str) -> Response:
    return _add(em, request, site, _which(which))


@routes("POST", r"/web/sitegroups{gid}/users")
@routes("POST", r"/web/sitegroups/getbyid{gid}/users")
def add_to_site_group(em: Emulator, request: Request, site: dict[str, Any],
                      gid: str) -> Response:
    return _add(em, request, site, _group_by_id(site, gid))


def _add(em: Emulator, request: Request, site: dict[str, Any], which: str) -> Response:
    body = request.json() or {}
    user = _resolve(em, str(body.get("LoginName", "")))
    site_user = _site_user(em, site, user)
    key = _members_key(site, which)
    if em.store.item(key, "spMember", site_user["LoginName"]) is None:
        em.store.put_item(key, "spMember", site_user["LoginName"],
                          {"LoginName": site_user["LoginName"]})
        _log(em, request, site, which, user, "Added user to SharePoint group")
    return _reply(request, site_user)


@routes("POST", "/web/associated{which}group/users/{call}")
def remove_from_group(em: Emulator, request: Request, site: dict[str, Any], which: str,
                      call: str) -> Response:
    return _remove(em, request, site, _which(which), call)


@routes("POST", r"/web/sitegroups{gid}/users/{call}")
@routes("POST", r"/web/sitegroups/getbyid{gid}/users/{call}")
def remove_from_site_group(em: Emulator, request: Request, site: dict[str, Any], gid: str,
                           call: str) -> Response:
    return _remove(em, request, site, _group_by_id(site, gid), call)


def _remove(em: Emulator, request: Request, site: dict[str, Any], which: str,
            call: str) -> Response:
    """`removeByLoginName(@v)?@v='...'`, `removeByLoginName('...')` or `removeById(n)`."""
    call = unquote(call)
    name, _, argument = call.partition("(")
    argument = argument.rstrip(")")
    if argument == "@v":
        argument = unquote(request.query.get("@v", ""))
    argument = argument.strip("'").replace("''", "'")
    key = _members_key(site, which)
    members = em.store.items(key, "spMember")
    if name.lower() == "removebyloginname":
        login = argument.lower()
    elif name.lower() == "removebyid":
        users = {str(u["Id"]): u["LoginName"] for u in em.store.items(site["key"], "spUser")}
        login = users.get(argument, "")
    else:
        raise SharePointError(404, "-1, Microsoft.Data.OData.ODataException",
                              f"Cannot find resource for the request {name}.")
    if not any(m["LoginName"] == login for m in members):
        raise SharePointError(404, "-2146232832, Microsoft.SharePoint.SPException",
                              "Can not find the user with the specified login name.")
    em.store.delete_item(key, "spMember", login)
    upn = login[len(MEMBER_PREFIX):] if login.startswith(MEMBER_PREFIX) else login
    user = em.store.get_object(em.store.user_id_by_upn(upn) or "", "user") or {"id": upn}
    _log(em, request, site, which, user, "Removed user from SharePoint group")
    return Response(200, b"", {"content-type": "application/json;odata=nometadata"})


def _log(em: Emulator, request: Request, site: dict[str, Any], which: str,
         user: dict[str, Any], activity: str) -> None:
    em.audit(request, activity, {"id": user.get("id"), "type": "User",
                                 "userPrincipalName": user.get("userPrincipalName"),
                                 "displayName": user.get("displayName")},
             {"Site": (None, site["webUrl"]), "Group": (None, GROUPS[which][1])},
             category=CATEGORY, service="SharePoint")
