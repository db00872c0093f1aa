"""One-shot actions, each carried out once per id, in file order, after the user's other
changes. What has run is recorded on the user (open extension io.reconciler.state), so a
plan shows only pending actions and a second apply does nothing."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from reconciler.apply.context import APPLIED, FAILED, SKIPPED
from reconciler.areas import NO_RELATIONS, Area, Kind, Nothing, Step
from reconciler.areas.state_extension import write_state
from reconciler.areas.user import INVITE_REDIRECT, generate_password
from reconciler.graph import requests as api
from reconciler.graph.errors import GraphError, UnreachableError
from reconciler.live.reads import PerUser
from reconciler.plan.change import SENSITIVE
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import Action, DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

def reads(user: DesiredUser) -> set[Read]:
    return {PerUser.EXTENSION} if user.actions else set()


def done_ids(live: LiveUser | None) -> list[str]:
    raw = (live.extension or {}).get("actionsDone") if live else None
    try:
        return list(json.loads(raw)) if isinstance(raw, str) else list(raw or [])
    except ValueError:
        return []


def _refusal(action: Action, user: DesiredUser, live: LiveUser | None) -> str | None:
    guest = (user.profile.get("userType") or (live.props.get("userType") if live else "")) \
        == "Guest"
    synced = bool(live and live.synced)
    if action.do == "resetPassword" and synced:
        return ("this user's password is mastered on-premises (onPremisesSyncEnabled): reset "
                "it in Active Directory")
    if action.do == "resetPassword" and guest:
        return "a guest signs in with its home identity; its password is not managed here"
    if action.do == "expirePassword" and guest:
        return "expirePassword applies to cloud and hybrid users; a guest's password lives " \
               "in its home tenant"
    if action.do == "resendInvitation" and not guest:
        return "resendInvitation applies to guests (profile.userType: Guest)"
    if action.password_from:
        variable = action.password_from.removeprefix("env:")
        if not os.environ.get(variable):
            return f"passwordFrom names {variable}, which is not set in the environment"
    return None


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    done = set(done_ids(live))
    for order, action in enumerate(user.actions):
        if action.id in done:
            continue
        problem = _refusal(action, user, live)
        if problem:
            ctx.error(user, action.path, problem)
            continue
        detail: dict[str, Any] = {"id": action.id, "do": action.do, "order": order}
        after: dict[str, Any] = {"do": action.do, "id": action.id}
        if action.do == "resetPassword":
            detail.update(forceChange=action.force_change, passwordFrom=action.password_from)
            after["password"] = SENSITIVE
        ctx.add(user, "action", "invoke", f"{action.do} ({action.id})", None, after,
                apply=detail, facts=[f"actions:{live.id}"] if live else [])


def _invoke(ctx: ApplyContext, change: Change, user_id: str) -> None:
    detail = change.apply
    do = detail["do"]
    if do == "revokeSessions":
        request = api.revoke_sessions(user_id)
    elif do == "resetPassword":
        source = detail.get("passwordFrom")
        password = os.environ.get(source.removeprefix("env:"), "") if source else \
            generate_password()
        if not source:
            ctx.secrets.append((change.user, password))
        request = api.reset_password(user_id, password, detail.get("forceChange", True))
    elif do == "expirePassword":
        request = api.expire_password(user_id)
    else:  # resendInvitation
        live = ctx.live.users.get(user_id)
        email = (live.props.get("mail") if live else None) or change.user
        request = api.invite_guest(email, INVITE_REDIRECT, user_id=user_id)
    result = ctx.graph.write(request.method, request.path, request.body)
    if result.error is not None:
        raise result.error


def apply_actions(ctx: ApplyContext, changes: list[Change]) -> None:
    """Per user in file order; an action is recorded right after it ran."""
    by_user = ctx.by_user(sorted(changes, key=lambda c: c.apply["order"]))

    def run(user_changes: list[Change]) -> None:
        user_id = ctx.user_id(user_changes[0].user)
        done = done_ids(ctx.live.users.get(user_id))
        for index, change in enumerate(user_changes):
            ctx.sending([change])
            try:
                _invoke(ctx, change, user_id)
            except (GraphError, UnreachableError) as error:
                ctx.record(change, FAILED, str(error))
                for later in user_changes[index + 1:]:
                    ctx.record(later, SKIPPED, "an earlier action of this user failed")
                return
            done.append(change.apply["id"])
            write_state(ctx, user_id, {"actionsDone": json.dumps(done)})
            ctx.record(change, APPLIED)

    ctx.graph.map(run, list(by_user.values()))


AREA = Area(
    name="actions",
    keys=("actions",),
    kinds=(Kind("action", 150, label="action", heading="actions",
                order=lambda change: int(change.apply.get("order", 0))),),  # file order
    # an action run by someone else since the plan (recorded as done) must not run again
    facts={"actions": of_user(lambda user, _live, _detail: done_ids(user), "actions run")},
    reads=reads,
    diff=diff,
    steps=(Step("actions", ("action",), ("invoke",), apply_actions),),
    relations=NO_RELATIONS,
    import_user=Nothing("one-shot actions are requests, not state to read back"),
    audit=Nothing("actions are carried out by this tool; they are not drift"),
)
