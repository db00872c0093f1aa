"""Reading mailboxes: Exchange listings in bulk, Outlook per mailbox only where it must."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.graph import requests as api
from reconciler.graph.client import GraphClient, WriteResult
from reconciler.graph.exchange import ExchangeClient
from reconciler.live.reads import USERS, Asked, Read, ReadContext, UserGet, result_body
from reconciler.live.state import LiveState, LiveUser

SYSTEM_TRUSTEES = ("nt authority\\self", "nt authority\\system", "s-1-5-")


def _is_system(trustee: str) -> bool:
    return trustee.lower().startswith(SYSTEM_TRUSTEES)


def read_mailboxes(exchange: ExchangeClient, state: LiveState) -> None:
    """Every mailbox (one Get-Mailbox listing) and every SendAs grant (one listing)."""
    by_id = state.users
    for mailbox in exchange.invoke("Get-Mailbox"):
        user = by_id.get(mailbox.get("ExternalDirectoryObjectId", ""))
        if user is not None:
            user.mailbox = mailbox
            user.send_as = set()
    for entry in exchange.invoke("Get-RecipientPermission"):
        trustee = str(entry.get("Trustee") or "")
        if entry.get("IsInherited") or _is_system(trustee) or "SendAs" not in (
                entry.get("AccessRights") or []):
            continue
        owner = state.user_by_upn(str(entry.get("Identity") or ""))
        if owner is not None and owner.send_as is not None:
            owner.send_as.add(trustee.lower())


def read_full_access(exchange: ExchangeClient, graph: GraphClient, state: LiveState,
                     upns: Iterable[str]) -> None:
    """FullAccess grants: Exchange lists them per mailbox, so only for managed mailboxes."""
    owners = [u for u in (state.user_by_upn(upn) for upn in sorted(set(upns)))
              if u is not None and u.mailbox is not None]

    def read(owner) -> None:  # noqa: ANN001 - a LiveUser
        grants: dict[str, bool | None] = {}
        for entry in exchange.invoke("Get-MailboxPermission", {"Identity": owner.upn},
                                     anchor=owner.upn):
            trustee = str(entry.get("User") or "")
            if entry.get("IsInherited") or entry.get("Deny") or _is_system(trustee):
                continue
            if "FullAccess" in (entry.get("AccessRights") or []):
                grants[trustee.lower()] = entry.get("AutoMapping")
        owner.full_access = grants

    graph.map(read, owners)


def _read_mailboxes(ctx: ReadContext, _asked: Asked) -> None:
    """Without an Exchange connection nothing is read: no user has a mailbox."""
    if ctx.exchange is not None:
        read_mailboxes(ctx.exchange, ctx.state)
        ctx.say(f"read: mailboxes={sum(1 for u in ctx.state.users.values() if u.mailbox)}")


def _read_full_access(ctx: ReadContext, asked: Asked) -> None:
    if ctx.exchange is not None:
        read_full_access(ctx.exchange, ctx.graph, ctx.state, (u.upn for u in asked.users))


def _has_mailbox(user: LiveUser) -> bool:
    return user.mailbox is not None


def _store_calendar(user: LiveUser, result: WriteResult) -> None:
    user.calendar = list(result_body(result).get("value", []))


def _store_replies(user: LiveUser, result: WriteResult) -> None:
    user.replies = {k: v for k, v in result_body(result).items() if not k.startswith("@")}


# Every mailbox (Get-Mailbox) and every SendAs grant: two Exchange listings.
MAILBOXES = Read("mailboxes", _read_mailboxes, needs=(USERS,))
# FullAccess grants: Get-MailboxPermission, one call per managed mailbox.
FULL_ACCESS = Read("fullAccess", _read_full_access, needs=(MAILBOXES,), per_user=True)
# The primary calendar's calendarPermissions (mailboxes only; any error stops the read).
CALENDAR = UserGet("calendar", path=lambda u: api.list_calendar_permissions(u.id).path,
                   store=_store_calendar, wanted=_has_mailbox, absent=(),
                   needs=(MAILBOXES,))
# automaticRepliesSetting (mailboxes only; any error stops the read).
REPLIES = UserGet("replies", path=lambda u: api.get_automatic_replies(u.id).path,
                  store=_store_replies, wanted=_has_mailbox, absent=(), needs=(MAILBOXES,))
