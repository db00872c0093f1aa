"""Get/Add/Set/Remove-MailboxFolderPermission on calendar folders, over the same permissions
Graph serves (calendars.py): `<mailbox>:\\Calendar` is the default calendar and
`<mailbox>:\\Calendar\\<name>` a named one.

Graph's roles map to Exchange's (read = Reviewer, write = Editor, a delegate = Editor with
SharingPermissionFlags); a role Graph has no name for (Owner, PublishingEditor, Author...)
shows in Graph as `custom`. Rows name the user by display name, as Exchange does; the
organization's `Default` and the `Anonymous` rows can be changed, never removed.
Add for a user who has an entry, and Set or Remove for one who has none, fail as Exchange
fails them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.emulator.routes import calendars, mail
from reconciler.emulator.routes.common import user_target
from reconciler.emulator.rules import group_kind
from reconciler.emulator.wire import GraphError

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

ROLES = ("Owner", "PublishingEditor", "Editor", "PublishingAuthor", "Author",
         "NonEditingAuthor", "Reviewer", "Contributor", "AvailabilityOnly", "LimitedDetails",
         "None")
TO_GRAPH = {"None": "none", "AvailabilityOnly": "freeBusyRead", "LimitedDetails": "limitedRead",
            "Reviewer": "read", "Editor": "write"}
FROM_GRAPH = {"none": ("None", None), "freeBusyRead": ("AvailabilityOnly", None),
              "limitedRead": ("LimitedDetails", None), "read": ("Reviewer", None),
              "write": ("Editor", None),
              "delegateWithoutPrivateEventAccess": ("Editor", "Delegate"),
              "delegateWithPrivateEventAccess": ("Editor", "Delegate, CanViewPrivateItems")}
FLAGS = ("None", "Delegate", "CanViewPrivateItems")
RIGHTS_KIND = "folderRights"  # Exchange rights of a `custom` Graph entry, by permission id


def _failure(status: int, kind: str, message: str) -> GraphError:
    error = GraphError(status, kind, message)
    error.details = message  # type: ignore[attr-defined]
    return error


class _Folder:
    """One calendar folder named by `<mailbox>:\\<path>`."""

    def __init__(self, c: Any, identity: Any) -> None:
        text = str(identity or "")
        mailbox, sep, path = text.partition(":\\")
        parts = [p for p in path.split("\\") if p] if sep else []
        if not parts or parts[0].lower() != calendars.DEFAULT_NAME.lower() or len(parts) > 2:
            raise _failure(404, "ManagementObjectNotFoundException",
                           f"The operation couldn't be performed because '{text}' couldn't be "
                           "found.")
        self.c, self.em = c, c.em
        self.user, _ = c.mailbox(mailbox)
        self.identity = text
        self.name = parts[-1]
        if len(parts) == 1:
            self.kind = calendars.PRIMARY_KIND
        else:
            found = next((cal for cal in self.em.store.items(self.user["id"], "calendar")
                          if cal["name"].lower() == parts[1].lower()), None)
            if found is None:
                raise _failure(404, "ManagementObjectNotFoundException",
                               f"The operation couldn't be performed because '{text}' couldn't "
                               "be found.")
            self.kind, self.name = f"{calendars.PRIMARY_KIND}:{found['id']}", found["name"]

    def entries(self) -> list[dict[str, Any]]:
        return calendars.permissions(self.em, self.user["id"], self.kind)

    def rights(self, entry: dict[str, Any]) -> tuple[list[str], str | None]:
        if entry["role"] == "custom":
            stored = self.em.store.item(self.user["id"], f"{RIGHTS_KIND}:{self.kind}",
                                        entry["id"]) or {}
            return list(stored.get("AccessRights") or ["None"]), stored.get("Flags")
        right, flags = FROM_GRAPH[entry["role"]]
        return [right], flags

    def row(self, name: str, rights: list[str], flags: str | None) -> dict[str, Any]:
        return {"Identity": f"{self.identity}", "FolderName": self.name, "User": name,
                "AccessRights": rights, "SharingPermissionFlags": flags,
                "IsValid": True}

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for entry in self.entries():
            name = "Default" if entry["id"] == mail.DEFAULT_PERMISSION_ID else \
                _display(self.em, entry["emailAddress"]["address"])
            out.append(self.row(name, *self.rights(entry)))
        anonymous = self.em.store.item(self.user["id"], f"{RIGHTS_KIND}:{self.kind}",
                                       "Anonymous") or {}
        out.insert(1, self.row("Anonymous", list(anonymous.get("AccessRights") or ["None"]),
                               None))
        return out


def _display(em: Emulator, address: str) -> str:
    """Exchange names a folder permission's user by display name."""
    lowered = address.lower()
    for kind in ("user", "group"):
        for obj in em.store.all_objects(kind):
            if lowered in (str(obj.get("mail") or "").lower(),
                           str(obj.get("userPrincipalName") or "").lower()):
                return str(obj.get("displayName") or address)
    return address


def _trustee(c: Any) -> tuple[str, str]:
    """(address, display name) of -User: a user, a mail-enabled group, Default, Anonymous."""
    value = str(c.params.get("User") or "")
    if value.lower() in ("default", "anonymous"):
        return value.title(), value.title()
    obj = c.recipient(value)
    if obj.get("@kind") == "group" and group_kind(obj) not in (
            "mailEnabledSecurity", "distribution", "unified"):
        raise _failure(400, "InvalidOperationException",
                       f"'{value}' is not a mail-enabled recipient.")
    address = obj.get("mail") or obj.get("userPrincipalName")
    return str(address), str(obj.get("displayName") or address)


def _rights(c: Any) -> tuple[list[str], str | None]:
    given = c.params.get("AccessRights")
    rights = [str(r) for r in (given if isinstance(given, list) else [given] if given else [])]
    canonical = []
    for right in rights:
        match = next((r for r in ROLES if r.lower() == right.lower()), None)
        if match is None:
            raise _failure(400, "ParameterBindingException",
                           f"Cannot bind parameter 'AccessRights'. Cannot convert value "
                           f"\"{right}\" to type \"Microsoft.Exchange.Management.StoreTasks."
                           "MailboxFolderAccessRight\".")
        canonical.append(match)
    if len(canonical) != 1:
        raise _failure(400, "ParameterBindingException",
                       "AccessRights needs exactly one role.")
    flags = c.params.get("SharingPermissionFlags")
    if flags not in (None, "", "None"):
        parts = [p.strip() for p in str(flags).split(",") if p.strip()]
        if any(p not in FLAGS for p in parts) or canonical != ["Editor"] or \
                "Delegate" not in parts:
            raise _failure(400, "InvalidOperationException",
                           "SharingPermissionFlags can be set only with AccessRights Editor on "
                           "a calendar folder, and CanViewPrivateItems only with Delegate.")
        return canonical, ", ".join(parts)
    return canonical, None


def _graph_role(rights: list[str], flags: str | None) -> str:
    if rights == ["Editor"] and flags:
        return "delegateWithPrivateEventAccess" if "CanViewPrivateItems" in flags \
            else "delegateWithoutPrivateEventAccess"
    return TO_GRAPH.get(rights[0], "custom") if len(rights) == 1 else "custom"


def _write(folder: _Folder, address: str, entry: dict[str, Any] | None, rights: list[str],
           flags: str | None) -> tuple[Any, Any]:
    em, user_id = folder.em, folder.user["id"]
    rights_kind = f"{RIGHTS_KIND}:{folder.kind}"
    if address == "Anonymous":
        old = (em.store.item(user_id, rights_kind, "Anonymous") or {}).get("AccessRights")
        em.store.put_item(user_id, rights_kind, "Anonymous", {"AccessRights": rights})
        return old or ["None"], rights
    role = _graph_role(rights, flags)
    inside = mail._inside(em, address)
    if entry is None:
        entry = {"id": calendars.permission_id(address), "isRemovable": True,
                 "isInsideOrganization": inside, "allowedRoles": mail._allowed(inside),
                 "emailAddress": {"name": _display(em, address), "address": address}}
        old = None
    else:
        old = folder.rights(entry)[0]
    if entry["id"] == mail.DEFAULT_PERMISSION_ID and role not in mail.ORGANIZATION_ROLES:
        raise _failure(400, "InvalidOperationException",
                       f"The Default entry can't be given {rights[0]}.")
    entry["role"] = role
    em.store.put_item(user_id, folder.kind, entry["id"], entry)
    if role == "custom":
        em.store.put_item(user_id, rights_kind, entry["id"],
                          {"AccessRights": rights, "Flags": flags})
    else:
        em.store.delete_item(user_id, rights_kind, entry["id"])
    return old, rights


def _find(folder: _Folder, address: str) -> dict[str, Any] | None:
    if address == "Default":
        return next(e for e in folder.entries() if e["id"] == mail.DEFAULT_PERMISSION_ID)
    return next((e for e in folder.entries()
                 if ((e.get("emailAddress") or {}).get("address") or "").lower()
                 == address.lower()), None)


def _get(c: Any) -> list[dict[str, Any]]:
    folder = _Folder(c, c.params.get("Identity"))
    rows = folder.rows()
    if c.params.get("User"):
        address, name = _trustee(c)
        rows = [r for r in rows if r["User"].lower() in (name.lower(), address.lower())]
        if not rows:
            raise _failure(404, "UserNotFoundInPermissionEntryException",
                           f"There is no existing permission entry found for user: {name}.")
    return rows


def _change(c: Any, verb: str) -> list[dict[str, Any]]:
    folder = _Folder(c, c.params.get("Identity"))
    address, name = _trustee(c)
    entry = _find(folder, address)
    present = entry is not None or address == "Anonymous"
    if verb == "Add" and present:
        raise _failure(400, "UserAlreadyExistsInPermissionEntryException",
                       f"An existing permission entry was found for user: {name}.")
    if verb != "Add" and not present:
        raise _failure(404, "UserNotFoundInPermissionEntryException",
                       f"There is no existing permission entry found for user: {name}.")
    if verb == "Remove":
        if address in ("Default", "Anonymous"):
            raise _failure(400, "InvalidOperationException",
                           f"The {address} permission entry can't be removed; set its "
                           "AccessRights to None instead.")
        assert entry is not None
        old = folder.rights(entry)[0]
        folder.em.store.delete_item(folder.user["id"], folder.kind, entry["id"])
        folder.em.store.delete_item(folder.user["id"], f"{RIGHTS_KIND}:{folder.kind}",
                                    entry["id"])
        change: tuple[Any, Any] = (old, None)
    else:
        rights, flags = _rights(c)
        change = _write(folder, address, entry, rights, flags)
    c.em.audit(c.request, c.request_name, user_target(folder.user),
               {f"{folder.identity} {name}": change}, category="ExchangeAdmin",
               service="Exchange")
    return []


CMDLETS = {
    "Get-MailboxFolderPermission": _get,
    "Add-MailboxFolderPermission": lambda c: _change(c, "Add"),
    "Set-MailboxFolderPermission": lambda c: _change(c, "Set"),
    "Remove-MailboxFolderPermission": lambda c: _change(c, "Remove"),
}
