"""Scheduled sign-in blocks: the leave date written ahead, the block carried out when due.

Before `signIn.blockAt`: `employeeLeaveDateTime` is set to it, and the plan's Scheduled
section says what will happen. From `blockAt` on: `accountEnabled: false`, the hire and
leave dates cleared, and (through the groups, roles and licenses areas) the removals that
`onBlock` asks for. A protected user is never blocked (an error at validation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import NO_RELATIONS, Area, Kind, Nothing, Step
from reconciler.areas.values import same, to_graph
from reconciler.desired.dates import format_instant
from reconciler.graph import requests as api
from reconciler.plan.change import Scheduled
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

BLOCK_NOTE = "signIn.blockAt"


def reads(_user: DesiredUser) -> set[Read]:
    return set()  # the user listing carries accountEnabled and the dates


def _wanted(ctx: PlanContext, user: DesiredUser) -> dict[str, Any]:
    sign_in = user.sign_in
    assert sign_in is not None
    if ctx.block_due(user):
        return {"accountEnabled": False, "employeeHireDate": None,
                "employeeLeaveDateTime": None}
    wanted = {k: v for k, v in user.profile.items()
              if k in ("accountEnabled", "employeeHireDate")}
    wanted["employeeLeaveDateTime"] = format_instant(sign_in.block_at)
    return wanted


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    sign_in = user.sign_in
    if sign_in is None:
        return
    due = ctx.block_due(user)
    if not due:
        due_text = format_instant(sign_in.block_at)
        ctx.plan.scheduled.append(Scheduled(user.upn, "signIn", "change", "block", due_text))
    props = live.props if live else {}
    for field, desired in _wanted(ctx, user).items():
        current = props.get(field)
        if live is not None and same(field, desired, current):
            ctx.unchanged(user)
            continue
        if live is None and (desired is None or (field in user.profile and not due)):
            continue  # a new user is created with its profile values
        if field == "accountEnabled" and due:
            ctx.add(user, "signIn", "change", "accountEnabled", current, False,
                    apply={"field": field, "value": False}, note=BLOCK_NOTE,
                    facts=[f"signIn:{live.id}"] if live else [])
            continue
        op = "add" if current in (None, "") else "remove" if desired is None else "change"
        ctx.add(user, "profile", op, field, current, desired,
                apply={"field": field, "value": to_graph(field, desired)},
                note=BLOCK_NOTE if due else None,
                facts=[f"profile:{live.id}:{field}"] if live else [])


def apply_block(ctx: ApplyContext, changes: list[Change]) -> None:
    """After the removals, before deletions and one-shot actions (revoke comes after)."""
    writes = [Write([c], api.update_user(ctx.user_id(c.user), {"accountEnabled": False}))
              for c in ctx.runnable(changes)]
    ctx.send_batched(writes)


FIELDS = ("accountEnabled", "employeeHireDate", "employeeLeaveDateTime")

AREA = Area(
    name="sign_in",
    keys=("signIn",),
    # The leave and hire dates are written as `profile` changes (one PATCH with the
    # profile); only the block itself is a kind of its own.
    kinds=(Kind("signIn", 140, label="signIn", label_target=True, heading="sign-in",
                quoted=True),),
    facts={"signIn": of_user(lambda user, _live, _detail: [user.props.get(f) for f in FIELDS],
                             "sign-in (accountEnabled, hire and leave dates)")},
    reads=reads,
    diff=diff,
    steps=(Step("sign-in block", ("signIn",), ("change",), apply_block),),
    relations=NO_RELATIONS,
    import_user=Nothing("a scheduled block is an intention in git; the tenant holds only "
                        "its effects (accountEnabled, the leave date: profile)"),
    audit=Nothing("a block is scheduled in git: drift on its fields is profile drift"),
)
