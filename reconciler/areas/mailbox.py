"""Exchange-only mailbox settings: type (user/shared), forwarding, FullAccess, SendAs,
SendOnBehalf. Written through the Exchange admin API, one cmdlet per change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import ALREADY, APPLIED, FAILED
from reconciler.areas import Step
from reconciler.areas.mailboxes import mailbox_ready, trustee_key, unknown_trustee
from reconciler.graph.errors import GraphError
from reconciler.plan.context import window_note

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.state import LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

KEYS = ("mailbox",)
TYPES = {"user": "UserMailbox", "shared": "SharedMailbox"}
RIGHTS = ("fullAccess", "sendAs", "sendOnBehalf")


def needs(user: DesiredUser) -> set[str]:
    if not user.manages("mailbox"):
        return set()
    wanted = {"mailboxes", "groups"}
    if "fullAccess" in user.mailbox_permissions:
        wanted.add("user:fullAccess")
    return wanted


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    managed = [k for k in ("mailbox.type", "mailbox.forwarding", "mailbox.permissions")
               if user.manages(k)]
    if not managed or not mailbox_ready(ctx, user, live, ("mailbox",)):
        return
    assert live is not None and live.mailbox is not None
    box = live.mailbox
    if user.manages("mailbox.type"):
        current = "shared" if box.get("RecipientTypeDetails") == "SharedMailbox" else "user"
        if current != user.mailbox_type:
            ctx.add(user, "mailboxType", "change", "type", current, user.mailbox_type,
                    apply={"type": user.mailbox_type})
        else:
            ctx.unchanged(user)
    if user.manages("mailbox.forwarding"):
        _forwarding(ctx, user, box)
    for right in RIGHTS:
        if user.manages(f"mailbox.permissions.{right}"):
            _permissions(ctx, user, live, right)


def _forwarding(ctx: PlanContext, user: DesiredUser, box: dict[str, Any]) -> None:
    live_address = str(box.get("ForwardingSmtpAddress") or "").removeprefix("smtp:") \
        .removeprefix("SMTP:") or None
    current = {"address": live_address, "keepCopy": bool(box.get("DeliverToMailboxAndForward"))} \
        if live_address else None
    wanted = None
    if user.forwarding:
        wanted = {"address": user.forwarding["address"],
                  "keepCopy": user.forwarding.get("keepCopy", True)}
    same = (current is None and wanted is None) or (
        current is not None and wanted is not None
        and current["address"].lower() == wanted["address"].lower()
        and current["keepCopy"] == wanted["keepCopy"])
    if same:
        ctx.unchanged(user)
        return
    op = "add" if current is None else "remove" if wanted is None else "change"
    ctx.add(user, "forwarding", op, "forwarding", _shown(current), _shown(wanted),
            apply={"forwarding": wanted})
    domains = {ctx.desired.config.domain.lower(), *(u.upn.split("@")[1].lower()
                                                    for u in ctx.live.users.values())}
    if wanted and wanted["address"].split("@")[1].lower() not in domains:
        ctx.plan.warnings.append(
            f"{user.upn}: forwarding to {wanted['address']} leaves the organization; the "
            "outbound spam policy blocks external forwarding unless it is allowed")


def _shown(forwarding: dict[str, Any] | None) -> str | None:
    if forwarding is None:
        return None
    return forwarding["address"] + (" (keep a copy)" if forwarding["keepCopy"] else "")


def _permissions(ctx: PlanContext, user: DesiredUser, live: LiveUser, right: str) -> None:
    box = live.mailbox or {}
    if right == "fullAccess":
        current: dict[str, Any] = dict(live.full_access or {})
    elif right == "sendAs":
        current = {t: None for t in live.send_as or set()}
    else:
        current = {str(t).lower(): None for t in box.get("GrantSendOnBehalfTo") or []}
    current = {trustee_key(ctx, name) or name: value for name, value in current.items()}
    wanted: dict[str, Any] = {}
    for entry in user.mailbox_permissions[right]:
        key = trustee_key(ctx, entry.ref)
        if key is None:
            ctx.error(user, entry.path, unknown_trustee(ctx, entry.ref))
            continue
        if not ctx.in_force(user, "mailboxPermission", f"{right}: {key}", entry.window):
            continue
        wanted[key] = entry.extra.get("automapping")
        target = f"{right}: {key}"
        if key not in current:
            ctx.add(user, "mailboxPermission", "add", target, None, target,
                    apply={"right": right, "trustee": key,
                           "automapping": entry.extra.get("automapping")},
                    note=window_note(entry.window))
        elif right == "fullAccess" and "automapping" in entry.extra and \
                current[key] is not None and current[key] != entry.extra["automapping"]:
            ctx.add(user, "mailboxPermission", "change", target,
                    f"{target} (automapping {current[key]})",
                    f"{target} (automapping {entry.extra['automapping']})",
                    apply={"right": right, "trustee": key,
                           "automapping": entry.extra["automapping"]})
        else:
            ctx.unchanged(user)
    for key in sorted(set(current) - set(wanted)):
        target = f"{right}: {key}"
        if ctx.authoritative or ctx.expired(user, "mailboxPermission", target):
            ctx.add(user, "mailboxPermission", "remove", target, target, None,
                    apply={"right": right, "trustee": key})


def _cmdlets(change: Change) -> list[tuple[str, dict[str, Any]]]:
    mailbox, detail = change.user, change.apply
    if change.kind == "mailboxType":
        return [("Set-Mailbox", {"Identity": mailbox,
                                 "Type": "Shared" if detail["type"] == "shared" else "Regular"})]
    if change.kind == "forwarding":
        wanted = detail["forwarding"]
        if wanted is None:
            return [("Set-Mailbox", {"Identity": mailbox, "ForwardingSmtpAddress": None,
                                     "ForwardingAddress": None,
                                     "DeliverToMailboxAndForward": False})]
        return [("Set-Mailbox", {"Identity": mailbox,
                                 "ForwardingSmtpAddress": f"smtp:{wanted['address']}",
                                 "DeliverToMailboxAndForward": wanted["keepCopy"]})]
    trustee, right = detail["trustee"], detail["right"]
    if right == "sendOnBehalf":
        verb = "remove" if change.op == "remove" else "add"
        return [("Set-Mailbox", {"Identity": mailbox, "GrantSendOnBehalfTo": {
            "@odata.type": "#Exchange.GenericHashTable", verb: trustee}})]
    if right == "sendAs":
        verb = "Remove" if change.op == "remove" else "Add"
        return [(f"{verb}-RecipientPermission", {"Identity": mailbox, "Trustee": trustee,
                                                 "AccessRights": ["SendAs"], "Confirm": False})]
    remove = ("Remove-MailboxPermission", {"Identity": mailbox, "User": trustee,
                                           "AccessRights": ["FullAccess"], "Confirm": False})
    add_params: dict[str, Any] = {"Identity": mailbox, "User": trustee,
                                  "AccessRights": ["FullAccess"], "InheritanceType": "All",
                                  "Confirm": False}
    if detail.get("automapping") is not None:
        add_params["AutoMapping"] = detail["automapping"]
    add = ("Add-MailboxPermission", add_params)
    return {"add": [add], "remove": [remove], "change": [remove, add]}[change.op]


def run_cmdlets(ctx: ApplyContext, change: Change) -> None:
    """One change's cmdlets in order; Exchange's 'already so' warnings count as done."""
    warnings: list[str] = []
    try:
        for cmdlet, params in _cmdlets(change):
            warnings += ctx.exchange.run(cmdlet, params, anchor=change.user)[1]
    except GraphError as error:
        ctx.record(change, FAILED, str(error))
        return
    warned = any("no settings of" in w or "already present" in w or "doesn't exist" in w
                 for w in warnings)
    ctx.record(change, ALREADY if warned else APPLIED)


def apply_exchange(ctx: ApplyContext, changes: list[Change]) -> None:
    """Mailboxes in parallel, each mailbox's changes one after another."""
    by_mailbox = ctx.by_user(changes)
    ctx.graph.map(lambda group: [run_cmdlets(ctx, c) for c in group], list(by_mailbox.values()))


def _to_shared(change: Change) -> bool:
    return change.apply.get("type") == "shared"


STEPS = [
    # to shared before licenses change (a license is removed only after the conversion);
    # back to a user mailbox after them (it needs its license first)
    Step(25, ("mailboxType",), ("change",), apply_exchange, accept=_to_shared),
    Step(35, ("mailboxType",), ("change",), apply_exchange,
         accept=lambda change: not _to_shared(change)),
    Step(70, ("mailboxPermission", "forwarding"), ("add", "change"), apply_exchange),
    Step(83, ("mailboxPermission", "forwarding"), ("remove",), apply_exchange),
]
