"""A mailbox's storage quotas (`mailbox.quota`) and secondary proxy addresses
(`mailbox.addresses`), written with Set-Mailbox through the Exchange admin API.

Quotas are compared in bytes: Exchange reports "49.5 GB (53,150,220,288 bytes)" or
"Unlimited", and a file's "49.5GB" is read with the same 1024-based units. The quotas a file
sets go in one Set-Mailbox, so Exchange never sees a half-changed order; the order rule
(issueWarning and prohibitSend at most prohibitSendReceive) is checked at plan time against
the live values the file leaves alone.

Addresses: only secondary `smtp:` entries are managed; the primary (`SMTP:`) is the
user's `mail`, and other types (SIP:, SPO:, X500:) are never touched. Each change adds or
removes one entry with the typed hashtable, so nothing else in EmailAddresses moves. An
address another recipient holds is an error at plan time naming it; addresses in a
*.onmicrosoft.com domain are never removed (Exchange keeps them).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from reconciler.apply.context import ALREADY, APPLIED, failure
from reconciler.areas import Area, ExchangeAudit, Kind, Step
from reconciler.areas.mailboxes import mailbox_ready
from reconciler.graph.errors import GraphError
from reconciler.live.directory import GROUPS
from reconciler.live.mailboxes import MAILBOXES
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

QUOTAS = {"issueWarning": "IssueWarningQuota", "prohibitSend": "ProhibitSendQuota",
          "prohibitSendReceive": "ProhibitSendReceiveQuota"}
UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}
# Exchange Online's defaults for a mailbox (import leaves these out).
DEFAULT_QUOTAS = {"issueWarning": 98 * UNITS["GB"], "prohibitSend": 99 * UNITS["GB"],
                  "prohibitSendReceive": 100 * UNITS["GB"]}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)\s*$", re.IGNORECASE)
_REPORTED = re.compile(r"\(([\d,]+) bytes\)")


def size_bytes(text: str) -> int | None:
    """A file's size ("49.5GB") in bytes; None for Unlimited."""
    if text.strip().lower() == "unlimited":
        return None
    found = _SIZE.match(text)
    if found is None:
        raise ValueError(f"not a size: {text!r}")
    return int(float(found.group(1)) * UNITS[found.group(2).upper()])


def reported_bytes(text: Any) -> int | None:
    """Exchange's "49 GB (52,613,349,376 bytes)" in bytes; None for Unlimited."""
    if text is None or str(text).strip().lower() == "unlimited":
        return None
    found = _REPORTED.search(str(text))
    if found is None:
        raise ValueError(f"Exchange reported a quota this version cannot read: {text!r}")
    return int(found.group(1).replace(",", ""))


def size_text(size: int | None) -> str:
    """Bytes as a file would write them ("49.5GB"), exact, or "Unlimited"."""
    if size is None:
        return "Unlimited"
    for unit in ("TB", "GB", "MB", "KB"):
        amount = size / UNITS[unit]
        if amount >= 1:
            text = f"{amount:.3f}".rstrip("0").rstrip(".")
            if size_bytes(text + unit) == size:
                return text + unit
    return f"{size}B"


def reads(user: DesiredUser) -> set[Read]:
    if user.manages("mailbox.quota") or user.manages("mailbox.addresses"):
        return {MAILBOXES, GROUPS}
    return set()


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    managed = [k for k in ("mailbox.quota", "mailbox.addresses") if user.manages(k)]
    if not managed or not mailbox_ready(ctx, user, live, ("mailbox",)):
        return
    assert live is not None and live.mailbox is not None
    if user.manages("mailbox.quota"):
        _quota(ctx, user, live)
    if user.manages("mailbox.addresses"):
        _addresses(ctx, user, live)


def _live_quotas(box: dict[str, Any]) -> dict[str, int | None]:
    return {name: reported_bytes(box.get(member)) if box.get(member) is not None
            else DEFAULT_QUOTAS[name] for name, member in QUOTAS.items()}


def _quota(ctx: PlanContext, user: DesiredUser, live: LiveUser) -> None:
    assert live.mailbox is not None
    current = _live_quotas(live.mailbox)
    wanted = {name: size_bytes(text) for name, text in user.mailbox_quota.items()}
    effective = {**current, **wanted}
    limit = effective["prohibitSendReceive"]
    for name in ("issueWarning", "prohibitSend"):
        value = effective[name]
        if limit is not None and (value is None or value > limit):
            where = name if name in wanted else "prohibitSendReceive"
            ctx.error(user, ("mailbox", "quota", where),
                      f"{name} ({size_text(value)}) must not exceed prohibitSendReceive "
                      f"({size_text(limit)}); Exchange refuses it")
            return
    moved = {name: value for name, value in wanted.items() if current[name] != value}
    if not moved:
        ctx.unchanged(user, len(wanted))
        return
    ctx.add(user, "mailboxQuota", "change", "quota",
            {name: size_text(current[name]) for name in moved},
            {name: size_text(value) for name, value in moved.items()},
            apply={"quota": {QUOTAS[name]: size_text(value) for name, value in wanted.items()},
                   "databaseDefaults": bool(live.mailbox.get("UseDatabaseQuotaDefaults"))},
            facts=[f"recipient:{live.id}"])


def secondary(box: dict[str, Any]) -> list[str]:
    """The mailbox's secondary SMTP addresses (`smtp:` in lower case), lower-cased, without
    the prefix."""
    return [str(a)[5:].lower() for a in box.get("EmailAddresses") or []
            if str(a).startswith("smtp:")]


def _holders(ctx: PlanContext) -> dict[str, str]:
    """Every address a recipient holds -> the recipient's name (built once per plan)."""
    cached = ctx.__dict__.get("_address_holders")
    if cached is not None:
        return cached
    holders: dict[str, str] = {}
    for other in ctx.live.users.values():
        for address in (other.upn, other.props.get("mail")):
            if address:
                holders.setdefault(str(address).lower(), other.upn)
        for entry in (other.mailbox or {}).get("EmailAddresses") or []:
            prefix, _, address = str(entry).partition(":")
            if prefix.lower() == "smtp":
                holders.setdefault(address.lower(), other.upn)
    for group in ctx.live.groups.values():
        if group.mail:
            holders.setdefault(group.mail.lower(), f"the group {group.display_name}")
    ctx.__dict__["_address_holders"] = holders
    return holders


def _addresses(ctx: PlanContext, user: DesiredUser, live: LiveUser) -> None:
    assert live.mailbox is not None
    current = secondary(live.mailbox)
    primary = str(live.props.get("mail") or live.upn).lower()
    claimed = ctx.__dict__.setdefault("_address_claims", {})
    wanted: list[str] = []
    for index, entry in enumerate(user.mailbox_addresses):
        address = entry.partition(":")[2].lower()
        path = ("mailbox", "addresses", index)
        holder = _holders(ctx).get(address)
        if address == primary:
            ctx.error(user, path, f"{address} is the primary address (profile.mail manages "
                      "it); list only secondary addresses here")
            continue
        if holder is not None and holder.lower() != live.upn.lower():
            ctx.error(user, path, f"{address} is already held by {holder}; an address "
                      "belongs to one recipient (remove it there first)")
            continue
        if claimed.get(address, user.upn) != user.upn:
            ctx.error(user, path, f"{address} is also listed for {claimed[address]}")
            continue
        claimed[address] = user.upn
        wanted.append(f"smtp:{address}")
        if address in current:
            ctx.unchanged(user)
        else:
            ctx.add(user, "mailboxAddress", "add", f"smtp:{address}", None, f"smtp:{address}",
                    apply={"address": f"smtp:{address}"}, facts=[f"recipient:{live.id}"])
    for address in sorted(set(current) - {w[5:] for w in wanted}):
        if address.endswith(".onmicrosoft.com"):
            continue  # Exchange keeps the tenant's own routing address
        if ctx.authoritative:
            ctx.add(user, "mailboxAddress", "remove", f"smtp:{address}", f"smtp:{address}",
                    None, apply={"address": f"smtp:{address}"},
                    facts=[f"recipient:{live.id}"])


def _cmdlet(change: Change) -> dict[str, Any]:
    if change.kind == "mailboxQuota":
        params: dict[str, Any] = {"Identity": change.user, **change.apply["quota"]}
        if change.apply.get("databaseDefaults"):
            params["UseDatabaseQuotaDefaults"] = False  # otherwise the quotas are ignored
        return params
    verb = "Add" if change.op == "add" else "Remove"
    return {"Identity": change.user, "EmailAddresses": {
        "@odata.type": "#Exchange.GenericHashTable", verb: [change.apply["address"]]}}


def _run(ctx: ApplyContext, change: Change) -> None:
    try:
        _output, warnings = ctx.exchange.run("Set-Mailbox", _cmdlet(change), anchor=change.user)
    except GraphError as error:
        ctx.record(change, failure(error), str(error))
        return
    ctx.record(change, ALREADY if any("no settings of" in w for w in warnings) else APPLIED)


def apply_recipient(ctx: ApplyContext, changes: list[Change]) -> None:
    """Mailboxes in parallel, each mailbox's changes one after another."""
    by_mailbox = ctx.by_user(changes)
    ctx.graph.map(lambda group: [_run(ctx, c) for c in group], list(by_mailbox.values()))


def _recipient(user: LiveUser, _live: LiveState, _detail: str) -> Any:
    box = user.mailbox
    if box is None:
        return None
    return {"quota": [box.get(member) for member in QUOTAS.values()],
            "addresses": sorted(secondary(box))}


def relations(user: DesiredUser, current: LiveUser, _live: LiveState) -> int:
    if not user.manages("mailbox.addresses") or current.mailbox is None:
        return 0
    return len(secondary(current.mailbox))


def import_user(user: LiveUser, _state: LiveState) -> dict[str, Any]:
    box = user.mailbox
    if box is None:
        return {}
    out: dict[str, Any] = {}
    addresses = [f"smtp:{a}" for a in secondary(box)]
    if addresses:
        out["addresses"] = addresses
    quotas = _live_quotas(box)
    if quotas != DEFAULT_QUOTAS:
        out["quota"] = {name: size_text(value) for name, value in quotas.items()}
    return {"mailbox": out} if out else {}


AREA = Area(
    name="recipient",
    keys=("mailbox.quota", "mailbox.addresses"),  # parts of the mailbox key (mailbox.py)
    kinds=(Kind("mailboxQuota", 112, label="quota", heading="mailbox quota", quoted=True),
           Kind("mailboxAddress", 114, label="address", heading="mailbox addresses",
                relation=True)),
    facts={"recipient": of_user(_recipient, "mailbox quotas and addresses")},
    reads=reads,
    diff=diff,
    steps=(Step("mailbox settings", ("mailboxQuota", "mailboxAddress"),
                ("add", "change", "remove"), apply_recipient),),
    relations=relations,
    import_user=import_user,
    import_reads=(MAILBOXES, GROUPS),
    audit=ExchangeAudit(lambda _change: "Set-Mailbox", ("Set-Mailbox",)),
    plans_after=("user", "licenses", "mailbox"),
)
