"""Emulated Exchange Online admin API: InvokeCommand for the cmdlets the tool needs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator.routes import exchange_folders, exchange_mailbox
from reconciler.emulator.routes.common import has_mailbox, user_target
from reconciler.emulator.rules import group_kind
from reconciler.emulator.wire import GraphError, Request, Response, Router

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
SYSTEM_TRUSTEE = "NT AUTHORITY\\SELF"
NO_CHANGE = "The command completed successfully but no settings of '{0}' have been modified."
DEFAULT_PAGE = 1000


def _failure(status: int, kind: str, message: str) -> GraphError:
    error = GraphError(status, kind, message)
    error.details = message  # type: ignore[attr-defined]
    return error


def _not_found(identity: str) -> GraphError:
    return _failure(404, "ManagementObjectNotFoundException",
                    f"The operation couldn't be performed because object '{identity}' couldn't "
                    "be found on 'EMU01A001DC001.PROD.OUTLOOK.COM'.")


class _Cmdlet:
    def __init__(self, em: Emulator, request: Request, params: dict[str, Any]) -> None:
        self.em, self.request, self.params = em, request, params
        self.warnings: list[str] = []

    def recipient(self, identity: Any) -> dict[str, Any]:
        """A user or group by id, UPN or primary SMTP address."""
        key = str(identity or "").removeprefix("smtp:").removeprefix("SMTP:").lower()
        obj = self.em.store.get_object(key) if key else None
        if obj is None and key:
            user_id = self.em.store.user_id_by_upn(key)
            obj = self.em.store.get_object(user_id) if user_id else None
        if obj is None:
            for kind in ("user", "group"):
                obj = next(({**o, "@kind": kind} for o in self.em.store.all_objects(kind)
                            if (o.get("mail") or "").lower() == key), None)
                if obj:
                    break
        if obj is None:
            raise _not_found(str(identity))
        return obj

    def mailbox(self, identity: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        user = self.recipient(identity)
        if user.get("@kind") != "user" or not has_mailbox(self.em, user["id"]):
            raise _not_found(str(identity))
        state = self.em.store.item(user["id"], "mailbox", "mailbox") or {}
        state.setdefault("RecipientTypeDetails", "UserMailbox")
        state.setdefault("ForwardingSmtpAddress", None)
        state.setdefault("ForwardingAddress", None)
        state.setdefault("DeliverToMailboxAndForward", False)
        state.setdefault("GrantSendOnBehalfTo", [])
        return user, state

    def shape(self, user: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        return {
            "Identity": user["userPrincipalName"].split("@")[0],
            "ExternalDirectoryObjectId": user["id"],
            "UserPrincipalName": user["userPrincipalName"],
            "PrimarySmtpAddress": user.get("mail") or user["userPrincipalName"],
            "DisplayName": user.get("displayName"),
            "RecipientTypeDetails": state["RecipientTypeDetails"],
            "ForwardingSmtpAddress": state["ForwardingSmtpAddress"],
            "ForwardingAddress": state["ForwardingAddress"],
            "DeliverToMailboxAndForward": state["DeliverToMailboxAndForward"],
            "GrantSendOnBehalfTo": [self.name_of(t) for t in state["GrantSendOnBehalfTo"]],
            **exchange_mailbox.shape(self.em, user, state),
        }

    def name_of(self, object_id: str) -> str:
        obj = self.em.store.get_object(object_id) or {}
        return obj.get("userPrincipalName") or obj.get("mail") or object_id

    def save(self, user: dict[str, Any], state: dict[str, Any], what: dict) -> None:
        self.em.store.put_item(user["id"], "mailbox", "mailbox", state)
        self.em.audit(self.request, self.request_name, user_target(user), what,
                      category="ExchangeAdmin", service="Exchange")

    request_name = ""


def invoke(em: Emulator, request: Request, tenant: str) -> Response:
    body = request.json() or {}
    cmdlet = (body.get("CmdletInput") or {}).get("CmdletName")
    params = (body.get("CmdletInput") or {}).get("Parameters") or {}
    handler = _CMDLETS.get(cmdlet or "")
    if handler is None:
        raise _failure(400, "CommandNotFoundException",
                       f"The term '{cmdlet}' is not recognized as a cmdlet.")
    context = _Cmdlet(em, request, params)
    context.request_name = cmdlet
    values = handler(context)
    page = _page_size(request)
    start = odata.decode_token(request.query["$skiptoken"])["offset"] \
        if "$skiptoken" in request.query else 0
    out: dict[str, Any] = {
        "@odata.context": f"{request.origin}/adminapi/beta/{tenant}/$metadata#Collection("
                          "Exchange.GenericHashTable)",
        "value": values[start:start + page]}
    if start + page < len(values):
        out["@odata.nextLink"] = request.link(request.path,
                                              **{"$skiptoken": odata.encode_token(
                                                  {"offset": start + page})})
    if context.warnings:
        out["@adminapi.warnings"] = context.warnings
    return Response.of_json(200, out)


def _page_size(request: Request) -> int:
    found = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("prefer", ""))
    return int(found.group(1)) if found else DEFAULT_PAGE


def _get_mailbox(c: _Cmdlet) -> list[dict[str, Any]]:
    if c.params.get("Identity"):
        return [c.shape(*c.mailbox(c.params["Identity"]))]
    shaped = []
    for user in c.em.store.all_objects("user"):
        if has_mailbox(c.em, user["id"]):
            shaped.append(c.shape(*c.mailbox(user["id"])))
    return shaped


def _set_mailbox(c: _Cmdlet) -> list[dict[str, Any]]:
    user, state = c.mailbox(c.params.get("Identity"))
    before = dict(state)
    params = c.params
    if "Type" in params:
        exchange_mailbox.set_type(state, params["Type"])
    if any(name in params for name in (*exchange_mailbox.QUOTAS, "UseDatabaseQuotaDefaults")):
        exchange_mailbox.set_quotas(state, params)
    if "EmailAddresses" in params:
        renamed = exchange_mailbox.set_addresses(c.em, user, state, params["EmailAddresses"])
        user = renamed or user
    for name in ("ForwardingSmtpAddress", "ForwardingAddress"):
        if name in params:
            value = params[name]
            state[name] = None if value in (None, "") else (
                value if str(value).lower().startswith("smtp:") or name == "ForwardingAddress"
                else f"smtp:{value}")
    if "DeliverToMailboxAndForward" in params:
        state["DeliverToMailboxAndForward"] = bool(params["DeliverToMailboxAndForward"])
    if "GrantSendOnBehalfTo" in params:
        value = params["GrantSendOnBehalfTo"]
        current = list(state["GrantSendOnBehalfTo"])
        if isinstance(value, dict):
            for trustee in _as_list(value.get("add")):
                trustee_id = c.recipient(trustee)["id"]
                if trustee_id not in current:
                    current.append(trustee_id)
            for trustee in _as_list(value.get("remove")):
                trustee_id = c.recipient(trustee)["id"]
                if trustee_id in current:
                    current.remove(trustee_id)
        else:
            current = [c.recipient(t)["id"] for t in _as_list(value)]
        state["GrantSendOnBehalfTo"] = current
    changed = {k: (before.get(k), v) for k, v in state.items() if before.get(k) != v}
    if not changed:
        c.warnings.append(NO_CHANGE.format(params.get("Identity")))
        return []
    if "EmailAddresses" in changed:  # Graph's proxyAddresses (and mail) follow
        proxies = exchange_mailbox.addresses(c.em, user, state)
        c.em.store.put_object("user", {**{k: v for k, v in user.items() if k != "@kind"},
                                       "proxyAddresses": proxies})
    c.save(user, state, changed)
    return []


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _permissions(c: _Cmdlet, kind: str, right: str) -> list[dict[str, Any]]:
    if not c.params.get("Identity"):
        if kind == "mailboxPermission":
            raise _failure(400, "ParameterBindingException",
                           "Get-MailboxPermission needs -Identity.")
        everyone = [u for u in c.em.store.all_objects("user") if has_mailbox(c.em, u["id"])]
        return [entry for user in everyone
                for entry in _permissions(_Cmdlet(c.em, c.request, {"Identity": user["id"]}),
                                          kind, right)]
    user, _ = c.mailbox(c.params.get("Identity"))
    trustee_key = "User" if kind == "mailboxPermission" else "Trustee"
    entries = [{"Identity": user["userPrincipalName"], trustee_key: SYSTEM_TRUSTEE,
                "AccessRights": ["FullAccess", "ReadPermission"] if right == "FullAccess"
                else ["SendAs"], "IsInherited": False, "Deny": False}]
    for item in c.em.store.items(user["id"], kind):
        entries.append({"Identity": user["userPrincipalName"],
                        trustee_key: c.name_of(item["trustee"]), "AccessRights": [right],
                        "IsInherited": False, "Deny": False,
                        **({"AutoMapping": item.get("automapping")} if right == "FullAccess"
                           else {"AccessControlType": "Allow"})})
    return entries


def _change_permission(c: _Cmdlet, kind: str, right: str, add: bool) -> list[dict[str, Any]]:
    user, _ = c.mailbox(c.params.get("Identity"))
    trustee_param = "User" if kind == "mailboxPermission" else "Trustee"
    rights = _as_list(c.params.get("AccessRights"))
    if rights != [right]:
        raise _failure(400, "ParameterBindingException",
                       f"AccessRights must be {right} for this cmdlet.")
    trustee = c.recipient(c.params.get(trustee_param))
    if trustee.get("@kind") == "group" and group_kind(trustee) not in (
            "mailEnabledSecurity", "distribution", "unified"):
        raise _failure(400, "InvalidOperationException",
                       f"'{c.params.get(trustee_param)}' is not a mail-enabled recipient.")
    exists = c.em.store.item(user["id"], kind, trustee["id"]) is not None
    if add == exists:
        c.warnings.append(
            f"The appropriate access control entry is already present on object "
            f"'{user['userPrincipalName']}'." if add else
            f"Can't remove the access control entry on the object '{user['userPrincipalName']}' "
            "for the user because the ACE doesn't exist on the object.")
        return []
    if add:
        item = {"trustee": trustee["id"]}
        if right == "FullAccess" and "AutoMapping" in c.params:
            item["automapping"] = bool(c.params["AutoMapping"])
        c.em.store.put_item(user["id"], kind, trustee["id"], item)
    else:
        c.em.store.delete_item(user["id"], kind, trustee["id"])
    c.em.audit(c.request, c.request_name, user_target(user),
               {right: (None, c.name_of(trustee["id"])) if add else
                (c.name_of(trustee["id"]), None)}, category="ExchangeAdmin", service="Exchange")
    return []


def _group(c: _Cmdlet) -> dict[str, Any]:
    group = c.recipient(c.params.get("Identity"))
    if group.get("@kind") != "group" or group_kind(group) not in (
            "distribution", "mailEnabledSecurity"):
        raise _failure(400, "InvalidOperationException",
                       f"'{c.params.get('Identity')}' isn't a distribution group or "
                       "mail-enabled security group.")
    return group


def _dl_members(c: _Cmdlet) -> list[dict[str, Any]]:
    group = _group(c)
    return [{"Identity": c.name_of(m), "ExternalDirectoryObjectId": m,
             "PrimarySmtpAddress": c.name_of(m)} for m in c.em.store.members_of(group["id"])]


def _change_dl_member(c: _Cmdlet, add: bool) -> list[dict[str, Any]]:
    group = _group(c)
    member = c.recipient(c.params.get("Member"))
    present = c.em.store.is_member(group["id"], member["id"])
    if add and present:
        raise _failure(400, "MemberAlreadyExistsException",
                       f"The recipient \"{c.params.get('Member')}\" is already a member of the "
                       f"group \"{group.get('displayName')}\".")
    if not add and not present:
        raise _failure(400, "MemberNotFoundException",
                       f"The recipient \"{c.params.get('Member')}\" isn't a member of the group "
                       f"\"{group.get('displayName')}\".")
    c.em.store.set_member(group["id"], member["id"], add)
    c.em.store.put_object("group", {k: v for k, v in group.items() if k != "@kind"})
    c.em.audit(c.request, "Add member to group" if add else "Remove member from group",
               {"id": group["id"], "displayName": group.get("displayName"), "type": "Group"},
               {"Member.ObjectID": (None, member["id"]) if add else (member["id"], None)},
               category="GroupManagement", service="Exchange")
    return []


def _admin_audit(c: _Cmdlet) -> list[dict[str, Any]]:
    """Search-AdminAuditLog: the Exchange admin actions between StartDate and EndDate."""
    wanted = {str(n).lower() for n in _as_list(c.params.get("Cmdlets"))}
    start, end = str(c.params.get("StartDate") or ""), str(c.params.get("EndDate") or "~")
    entries = []
    for record in c.em.store.audits():
        cmdlet = str(record.get("activityDisplayName"))
        when = str(record.get("activityDateTime"))
        if record.get("category") != "ExchangeAdmin" or not start <= when <= end:
            continue
        if wanted and cmdlet.lower() not in wanted:
            continue
        target = (record.get("targetResources") or [{}])[0]
        app = (record.get("initiatedBy") or {}).get("app") or {}
        entries.append({"CmdletName": cmdlet, "ObjectModified": target.get("userPrincipalName"),
                        "Caller": app.get("displayName") or app.get("appId"),
                        "RunDate": when, "Succeeded": True,
                        "CmdletParameters": [{"Name": p["displayName"], "Value": p["newValue"]}
                                             for p in target.get("modifiedProperties") or []]})
    return sorted(entries, key=lambda e: e["RunDate"], reverse=True)


_CMDLETS = {
    "Get-Mailbox": _get_mailbox,
    "Set-Mailbox": _set_mailbox,
    "Get-MailboxPermission": lambda c: _permissions(c, "mailboxPermission", "FullAccess"),
    "Add-MailboxPermission": lambda c: _change_permission(c, "mailboxPermission", "FullAccess",
                                                          True),
    "Remove-MailboxPermission": lambda c: _change_permission(c, "mailboxPermission",
                                                             "FullAccess", False),
    "Get-RecipientPermission": lambda c: _permissions(c, "recipientPermission", "SendAs"),
    "Add-RecipientPermission": lambda c: _change_permission(c, "recipientPermission", "SendAs",
                                                            True),
    "Remove-RecipientPermission": lambda c: _change_permission(c, "recipientPermission",
                                                               "SendAs", False),
    "Get-DistributionGroupMember": _dl_members,
    "Add-DistributionGroupMember": lambda c: _change_dl_member(c, True),
    "Remove-DistributionGroupMember": lambda c: _change_dl_member(c, False),
    "Search-AdminAuditLog": _admin_audit,
    **exchange_folders.CMDLETS,
}


@router.route("POST", "/adminapi/beta/{tenant}/InvokeCommand")
def invoke_command(em: Emulator, request: Request, tenant: str) -> Response:
    if tenant not in (em.tenant_id, em.store.get_meta("domain")):
        raise _failure(404, "TenantNotFound", f"Tenant '{tenant}' was not found.")
    return invoke(em, request, tenant)
