"""Reading mailboxes: Exchange listings in bulk, Outlook per mailbox only where it must."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.graph import requests as api
from reconciler.graph.batch import BatchItem, run_batch
from reconciler.graph.client import GraphClient
from reconciler.graph.exchange import ExchangeClient
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


def read_outlook(graph: GraphClient, state: LiveState, calendar_upns: Iterable[str],
                 replies_upns: Iterable[str]) -> None:
    """Calendar permissions and automatic replies, per mailbox, 20 to a batch."""
    items: list[BatchItem] = []
    queued: dict[str, tuple[bool, LiveUser]] = {}  # batch id -> (calendar?, user)
    for calendar, upns in ((True, calendar_upns), (False, replies_upns)):
        for upn in sorted(set(upns)):
            user = state.user_by_upn(upn)
            if user is not None and user.mailbox is not None:
                path = api.list_calendar_permissions(user.id).path if calendar else \
                    api.get_automatic_replies(user.id).path
                queued[str(len(items))] = (calendar, user)
                items.append(BatchItem(str(len(items)), "GET", path))
    if not items:
        return
    for key, result in run_batch(graph, items).items():
        if not result.ok:
            raise result.error
        calendar, user = queued[key]
        if calendar:
            user.calendar = list(result.body.get("value", []))
        else:
            user.replies = {k: v for k, v in result.body.items() if not k.startswith("@")}
