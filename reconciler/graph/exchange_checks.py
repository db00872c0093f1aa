"""Did an Exchange write land? The read-back after a lost reply (or a 5xx), before the
cmdlet is sent again or reported, as for Graph writes (`Sender.confirm`).

Each check runs the matching Get- cmdlet and compares what the write was to make so. A
check that cannot tell (a parameter it does not know how to compare) says "not landed", so
the cmdlet is sent again: Exchange's Set- and Add- cmdlets answer a repeat with an "already"
warning or error that the areas read as done, never with a second change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reconciler.graph.errors import GraphError

if TYPE_CHECKING:
    from reconciler.graph.exchange import ExchangeClient

Check = Callable[["ExchangeClient", dict[str, Any], "str | None"], bool]
MAILBOX_TYPES = {"regular": "UserMailbox", "shared": "SharedMailbox", "room": "RoomMailbox",
                 "equipment": "EquipmentMailbox"}


def _name(value: Any) -> str:
    return str(value or "").removeprefix("smtp:").removeprefix("SMTP:").strip().lower()


def _holds(entries: list[dict[str, Any]], key: str, trustee: Any, right: str) -> bool:
    return any(_name(e.get(key)) == _name(trustee) and right in (e.get("AccessRights") or [])
               and not e.get("Deny") for e in entries)


def _permission(get: str, key: str, right: str, present: bool) -> Check:
    def check(client: ExchangeClient, params: dict[str, Any], anchor: str | None) -> bool:
        entries = client.run(get, {"Identity": params["Identity"], key: params[key]},
                             anchor=anchor)[0]
        return _holds(entries, key, params[key], right) == present
    return check


def _member(present: bool) -> Check:
    def check(client: ExchangeClient, params: dict[str, Any], anchor: str | None) -> bool:
        members = client.run("Get-DistributionGroupMember",
                             {"Identity": params["Identity"]}, anchor=anchor)[0]
        wanted = _name(params["Member"])
        found = any(wanted in (_name(m.get("PrimarySmtpAddress")), _name(m.get("Identity")),
                               _name(m.get("ExternalDirectoryObjectId"))) for m in members)
        return found == present
    return check


def _folder(present: bool) -> Check:
    def check(client: ExchangeClient, params: dict[str, Any], anchor: str | None) -> bool:
        try:
            rows = client.run("Get-MailboxFolderPermission",
                              {"Identity": params["Identity"], "User": params["User"]},
                              anchor=anchor)[0]
        except GraphError as error:
            if error.status == 404:  # no entry for that user
                return not present
            raise
        if not present:
            return not rows
        return any(sorted(r.get("AccessRights") or []) == sorted(params["AccessRights"])
                   for r in rows)
    return check


def _set_mailbox(client: ExchangeClient, params: dict[str, Any], anchor: str | None) -> bool:
    box = client.run("Get-Mailbox", {"Identity": params["Identity"]}, anchor=anchor)[0]
    if not box:
        return False
    return all(_holds_setting(box[0], name, value) for name, value in params.items()
               if name != "Identity")


def _holds_setting(box: dict[str, Any], name: str, value: Any) -> bool:
    """Whether the mailbox shows parameter `name` set to `value` (False when unknown)."""
    if name in ("ForwardingSmtpAddress", "ForwardingAddress"):
        return _name(box.get(name)) == _name(value)
    if name == "DeliverToMailboxAndForward":
        return bool(box.get(name)) == bool(value)
    if name == "Type":
        return box.get("RecipientTypeDetails") == MAILBOX_TYPES.get(str(value).lower())
    if name in ("GrantSendOnBehalfTo", "EmailAddresses") and isinstance(value, dict):
        have = {_name(v) for v in box.get(name) or []}
        changes = {k.lower(): v for k, v in value.items() if not k.startswith("@")}
        adds = [_name(v) for v in _listed(changes.get("add"))]
        removes = [_name(v) for v in _listed(changes.get("remove"))]
        return all(a in have for a in adds) and not any(r in have for r in removes)
    return False


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


CHECKS: dict[str, Check] = {
    "Add-MailboxPermission": _permission("Get-MailboxPermission", "User", "FullAccess", True),
    "Remove-MailboxPermission": _permission("Get-MailboxPermission", "User", "FullAccess",
                                            False),
    "Add-RecipientPermission": _permission("Get-RecipientPermission", "Trustee", "SendAs",
                                           True),
    "Remove-RecipientPermission": _permission("Get-RecipientPermission", "Trustee", "SendAs",
                                              False),
    "Add-DistributionGroupMember": _member(True),
    "Remove-DistributionGroupMember": _member(False),
    "Add-MailboxFolderPermission": _folder(True),
    "Set-MailboxFolderPermission": _folder(True),
    "Remove-MailboxFolderPermission": _folder(False),
    "Set-Mailbox": _set_mailbox,
}


def recheck_for(client: ExchangeClient, cmdlet: str, params: dict[str, Any],
                anchor: str | None) -> Callable[[], bool] | None:
    """The read-back that tells whether `cmdlet` with `params` has landed, if one is known."""
    check = CHECKS.get(cmdlet)
    if check is None:
        return None
    return lambda: check(client, params, anchor)
