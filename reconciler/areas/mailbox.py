"""Exchange-only mailbox settings: type (user, shared, room, equipment), forwarding,
FullAccess, SendAs, SendOnBehalf. Written through the Exchange admin API, one cmdlet per change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import ALREADY, APPLIED, failure
from reconciler.areas import Area, ExchangeAudit, Kind, Step
from reconciler.areas.mailboxes import mailbox_ready, trustee_key, unknown_trustee
from reconciler.graph.errors import GraphError
from reconciler.live.directory import GROUPS
from reconciler.live.mailboxes import FULL_ACCESS, MAILBOXES
from reconciler.plan.context import window_note
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

TYPES = {"user": "UserMailbox", "shared": "SharedMailbox", "room": "RoomMailbox",
         "equipment": "EquipmentMailbox"}
TYPE_PARAMETER = {"user": "Regular", "shared": "Shared", "room": "Room",
                  "equipment": "Equipment"}


def mailbox_type(box: dict[str, Any]) -> str:
    """The YAML name of a mailbox's RecipientTypeDetails (anything else reads as user)."""
    details = box.get("RecipientTypeDetails")
    return next((name for name, value in TYPES.items() if value == details), "user")
RIGHTS = ("fullAccess", "sendAs", "sendOnBehalf")


def reads(user: DesiredUser) -> set[Read]:
    if not user.manages("mailbox"):
        return set()
    wanted: set[Read] = {MAILBOXES, GROUPS}
    if "fullAccess" in user.mailbox_permissions:
        wanted.add(FULL_ACCESS)
    return wanted


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    managed = [k for k in ("mailbox.type", "mailbox.forwarding", "mailbox.permissions")
               if user.manages(k)]
    if not managed or not mailbox_ready(ctx, user, live, ("mailbox",)):
        return
    assert live is not None and live.mailbox is not None
    box = live.mailbox
    if user.manages("mailbox.type"):
        current = mailbox_type(box)
        if current != user.mailbox_type:
            ctx.add(user, "mailboxType", "change", "type", current, user.mailbox_type,
                    apply={"type": user.mailbox_type}, facts=[f"mailbox:{live.id}"])
        else:
            ctx.unchanged(user)
    if user.manages("mailbox.forwarding"):
        _forwarding(ctx, user, live, box)
    for right in RIGHTS:
        if user.manages(f"mailbox.permissions.{right}"):
            _permissions(ctx, user, live, right)


def _forwarding(ctx: PlanContext, user: DesiredUser, live: LiveUser,
                box: dict[str, Any]) -> None:
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
    domains = {ctx.desired.config.domain.lower(), *(u.upn.split("@")[1].lower()
                                                    for u in ctx.live.users.values())}
    external = bool(wanted and wanted["address"].split("@")[1].lower() not in domains)
    detail: dict[str, Any] = {"forwarding": wanted}
    if external:
        detail["external"] = True
    ctx.add(user, "forwarding", op, "forwarding", current, wanted, apply=detail,
            facts=[f"mailbox:{live.id}"],
            note="external: outside the tenant's domains" if external else None)
    if external:
        ctx.plan.warnings.append(
            f"{user.upn}: forwarding to {wanted['address']} leaves the organization; the "
            "outbound spam policy blocks external forwarding unless it is allowed")


def _show_forwarding(forwarding: dict[str, Any]) -> str:
    return forwarding["address"] + (" (keep a copy)" if forwarding["keepCopy"] else "")


def _show_grant(grant: dict[str, Any]) -> str:
    automapping = f" (automapping {grant['automapping']})" if "automapping" in grant else ""
    return f"{grant['right']}: {grant['trustee']}{automapping}"


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
            ctx.add(user, "mailboxPermission", "add", target, None,
                    {"right": right, "trustee": key},
                    apply={"right": right, "trustee": key,
                           "automapping": entry.extra.get("automapping")},
                    note=window_note(entry.window), facts=[f"mailbox:{live.id}"])
        elif right == "fullAccess" and "automapping" in entry.extra and \
                current[key] is not None and current[key] != entry.extra["automapping"]:
            ctx.add(user, "mailboxPermission", "change", target,
                    {"right": right, "trustee": key, "automapping": current[key]},
                    {"right": right, "trustee": key,
                     "automapping": entry.extra["automapping"]},
                    apply={"right": right, "trustee": key,
                           "automapping": entry.extra["automapping"]},
                    facts=[f"mailbox:{live.id}"])
        else:
            ctx.unchanged(user)
    for key in sorted(set(current) - set(wanted)):
        target = f"{right}: {key}"
        if ctx.authoritative or ctx.expired(user, "mailboxPermission", target):
            ctx.add(user, "mailboxPermission", "remove", target,
                    {"right": right, "trustee": key}, None,
                    apply={"right": right, "trustee": key}, facts=[f"mailbox:{live.id}"])


def _cmdlets(change: Change) -> list[tuple[str, dict[str, Any]]]:
    mailbox, detail = change.user, change.apply
    if change.kind == "mailboxType":
        return [("Set-Mailbox", {"Identity": mailbox, "Type": TYPE_PARAMETER[detail["type"]]})]
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
        ctx.record(change, failure(error), str(error))
        return
    warned = any("no settings of" in w or "already present" in w or "doesn't exist" in w
                 for w in warnings)
    ctx.record(change, ALREADY if warned else APPLIED)


def apply_exchange(ctx: ApplyContext, changes: list[Change]) -> None:
    """Mailboxes in parallel, each mailbox's changes one after another."""
    by_mailbox = ctx.by_user(changes)
    ctx.graph.map(lambda group: [run_cmdlets(ctx, c) for c in group], list(by_mailbox.values()))


def _to_shared(change: Change) -> bool:
    """To a mailbox that needs no license (shared, room, equipment)."""
    return change.apply.get("type") != "user"


def _send_on_behalf(box: dict[str, Any]) -> list[str]:
    return sorted(str(t).lower() for t in box.get("GrantSendOnBehalfTo") or [])


def _settings(user: LiveUser, _live: LiveState, _detail: str) -> Any:
    """What every mailbox change depends on: type, forwarding and the three rights."""
    box = user.mailbox
    if box is None:
        return None
    return {"type": box.get("RecipientTypeDetails"),
            "forwarding": [box.get("ForwardingSmtpAddress"),
                           box.get("DeliverToMailboxAndForward")],
            "fullAccess": sorted((user.full_access or {}).items()),
            "sendAs": sorted(user.send_as or ()), "sendOnBehalf": _send_on_behalf(box)}


def relations(_user: DesiredUser, current: LiveUser, _live: LiveState) -> int:
    return len(current.full_access or {}) + len(current.send_as or ()) + \
        len((current.mailbox or {}).get("GrantSendOnBehalfTo") or [])


def import_user(user: LiveUser, _state: LiveState) -> dict[str, Any]:
    box = user.mailbox
    if box is None:
        return {}
    out: dict[str, Any] = {}
    if mailbox_type(box) != "user":
        out["type"] = mailbox_type(box)
    forward = str(box.get("ForwardingSmtpAddress") or "").removeprefix("smtp:")
    if forward:
        out["forwarding"] = {"address": forward,
                             "keepCopy": bool(box.get("DeliverToMailboxAndForward"))}
    permissions = {"fullAccess": sorted(user.full_access or {}),
                   "sendAs": sorted(user.send_as or ()),
                   "sendOnBehalf": _send_on_behalf(box)}
    permissions = {k: v for k, v in permissions.items() if v}
    if permissions:
        out["permissions"] = permissions
    return {"mailbox": out} if out else {}


# Exchange cmdlets that explain a mailbox drift, by the op the plan would do about it.
EXCHANGE_CMDLETS = {
    ("fullAccess", "add"): "Remove-MailboxPermission",
    ("fullAccess", "remove"): "Add-MailboxPermission",
    ("sendAs", "add"): "Remove-RecipientPermission",
    ("sendAs", "remove"): "Add-RecipientPermission",
}


def _audit_cmdlet(change: Change) -> str:
    if change.kind == "mailboxPermission":
        right = str(change.target).split(":")[0]
        return EXCHANGE_CMDLETS.get((right, change.op), "Set-Mailbox")
    return "Set-Mailbox"


AREA = Area(
    name="mailbox",
    keys=("mailbox",),
    kinds=(Kind("mailboxPermission", 80, label="mailboxPermission",
                heading="mailbox permissions", relation=True, show=_show_grant,
                privileged=lambda change: change.op != "remove"),  # FullAccess, SendAs...
           Kind("forwarding", 90, label="forwarding", heading="forwarding", quoted=True,
                show=_show_forwarding, privileged=lambda change: change.op != "remove"),
           Kind("mailboxType", 110, label="mailboxType", heading="mailbox type",
                quoted=True)),
    facts={"mailbox": of_user(_settings, "mailbox type, forwarding and permissions")},
    reads=reads,
    diff=diff,
    steps=(
        Step("mailbox to shared", ("mailboxType",), ("change",), apply_exchange,
             accept=_to_shared),
        Step("mailbox to user", ("mailboxType",), ("change",), apply_exchange,
             accept=lambda change: not _to_shared(change)),
        Step("mailbox grants", ("mailboxPermission", "forwarding"), ("add", "change"),
             apply_exchange),
        Step("mailbox grant removals", ("mailboxPermission", "forwarding"), ("remove",),
             apply_exchange),
    ),
    relations=relations,
    import_user=import_user,
    import_reads=(MAILBOXES, GROUPS, FULL_ACCESS),
    audit=ExchangeAudit(_audit_cmdlet, (*sorted(set(EXCHANGE_CMDLETS.values())),
                                        "Set-Mailbox")),
    plans_after=("user", "licenses"),  # trustees may be created; a planned license
    # means the mailbox is still to come (mailbox_ready)
)
