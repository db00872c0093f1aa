"""Automatic replies (out of office), through Graph mailboxSettings; times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import NO_RELATIONS, Area, Kind, Nothing, Step
from reconciler.areas.mailboxes import mailbox_ready
from reconciler.desired.dates import format_instant, parse_instant
from reconciler.graph import requests as api
from reconciler.live.mailboxes import REPLIES
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

GRAPH_NAMES = {"status": "status", "externalAudience": "externalAudience",
               "internalMessage": "internalReplyMessage",
               "externalMessage": "externalReplyMessage",
               "start": "scheduledStartDateTime", "end": "scheduledEndDateTime"}


def reads(user: DesiredUser) -> set[Read]:
    return {REPLIES} if user.automatic_replies else set()


def _live_value(name: str, live: dict[str, Any]) -> Any:
    value = live.get(GRAPH_NAMES[name])
    if name in ("start", "end"):
        if not isinstance(value, dict) or not value.get("dateTime"):
            return None
        moment = datetime.fromisoformat(value["dateTime"][:19])
        return format_instant(moment.replace(tzinfo=UTC))  # the emulator and we write UTC
    return value


def _same(name: str, desired: Any, current: Any) -> bool:
    if name in ("status", "externalAudience"):
        return str(desired).lower() == str(current or "").lower()
    if name in ("start", "end"):
        return parse_instant(desired) == (parse_instant(current) if current else None)
    return (desired or "") == (current or "")


def to_graph(setting: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in setting.items():
        if name in ("start", "end"):
            moment = parse_instant(value)
            assert moment is not None
            out[GRAPH_NAMES[name]] = {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S"),
                                      "timeZone": "UTC"}
        else:
            out[GRAPH_NAMES[name]] = value
    return out


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    wanted = user.automatic_replies
    if not wanted or not mailbox_ready(ctx, user, live, ("mailbox", "automaticReplies")):
        return
    assert live is not None
    current = live.replies or {}
    relevant = {k: v for k, v in wanted.items()
                if k not in ("start", "end") or wanted.get("status") == "scheduled"}
    differing = {k: v for k, v in relevant.items() if not _same(k, v, _live_value(k, current))}
    if not differing:
        ctx.unchanged(user)
        return
    before = {k: _live_value(k, current) for k in differing}
    ctx.add(user, "automaticReplies", "change", "automaticReplies", before, differing,
            apply={"setting": to_graph(relevant)}, facts=[f"replies:{live.id}"])


def _landed(ctx: ApplyContext, user_id: str, setting: dict[str, Any]) -> bool:
    current = ctx.graph.get(api.get_automatic_replies(user_id).path)
    return all(str(current.get(k)).lower() == str(v).lower() for k, v in setting.items()
               if not isinstance(v, dict))


def apply_replies(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in ctx.runnable(changes):
        user_id = ctx.user_id(change.user)
        setting = change.apply["setting"]
        writes.append(Write([change], api.set_automatic_replies(user_id, setting),
                            recheck=lambda u=user_id, s=setting: _landed(ctx, u, s)))
    ctx.send_batched(writes)


AREA = Area(
    name="replies",
    keys=("mailbox.automaticReplies",),  # a part of the mailbox key (areas/mailbox.py)
    kinds=(Kind("automaticReplies", 100, label="automaticReplies",
                heading="automatic replies"),),
    facts={"replies": of_user(lambda user, _live, _detail: user.replies,
                              "automatic replies")},
    reads=reads,
    diff=diff,
    steps=(Step("automatic replies", ("automaticReplies",), ("add", "change", "remove"),
                apply_replies),),
    relations=NO_RELATIONS,
    import_user=Nothing("out-of-office replies are the user's own, not desired state"),
    audit=Nothing("mailbox settings written through Graph are not in an admin audit"),
    plans_after=("licenses",),  # a planned license means the mailbox is still to come
)
