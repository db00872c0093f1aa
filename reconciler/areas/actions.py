"""One-shot actions, each carried out once per id, in file order, after the user's other
changes. What has run is recorded on the user (open extension io.reconciler.state:
`actionsDone`), and so is what is about to run (`actionsPending`: id, action, time) before
it is sent, so a plan shows only pending actions, a second apply does nothing, and an action
whose reply was lost or whose run was killed is checked in the directory before it is ever
sent again."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from reconciler.apply.context import ALREADY, APPLIED, FAILED, SKIPPED, UNKNOWN
from reconciler.apply.secrets import SecretDestinationError
from reconciler.areas import NO_RELATIONS, Area, Kind, Nothing, Step
from reconciler.areas.state_extension import write_state
from reconciler.areas.user import INVITE_REDIRECT, generate_password
from reconciler.graph import requests as api
from reconciler.graph import workplace_requests as workplace
from reconciler.graph.errors import GraphError, UnreachableError
from reconciler.live.directory import EXTENSION
from reconciler.live.reads import Read
from reconciler.plan.change import SENSITIVE
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import Action, DesiredUser
    from reconciler.live.reads import Asked, ReadContext
    from reconciler.live.state import LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext


def _read_pass_policy(ctx: ReadContext, _asked: Asked) -> None:
    """The tenant's Temporary Access Pass policy; unreadable (the read app lacks
    Policy.Read.AuthenticationMethod): not checked at plan time, apply checks it."""
    try:
        ctx.state.slots[PASS_POLICY.key] = ctx.graph.get(
            workplace.temporary_access_pass_policy().path)
    except GraphError:
        ctx.state.slots[PASS_POLICY.key] = None


PASS_POLICY = Read("temporaryAccessPassPolicy", _read_pass_policy)


def reads(user: DesiredUser) -> set[Read]:
    if not user.actions:
        return set()
    passes = any(a.do == "issueTemporaryAccessPass" for a in user.actions)
    return {EXTENSION, PASS_POLICY} if passes else {EXTENSION}


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
    if action.do == "issueTemporaryAccessPass" and guest:
        return "a guest signs in with its home identity; a Temporary Access Pass is for " \
               "members of this tenant"
    if action.do == "issueTemporaryAccessPass" and action.start_date_time:
        start = _instant(action.start_date_time)
        end = start + timedelta(minutes=action.lifetime_minutes or 0) if start else None
        if end is not None and action.lifetime_minutes and end <= datetime.now(UTC):
            return (f"startDateTime {action.start_date_time} plus {action.lifetime_minutes} "
                    "minutes is already past: the pass would never be usable")
    if action.password_from:
        variable = action.password_from.removeprefix("env:")
        if not os.environ.get(variable):
            return f"passwordFrom names {variable}, which is not set in the environment"
    return None


def _policy_refusal(ctx: PlanContext, action: Action) -> str | None:
    """What the tenant's TAP policy refuses of this pass, known at plan time (who it
    targets through groups is checked at apply, before sending)."""
    rules = ctx.live.slots.get(PASS_POLICY.key) if action.do == "issueTemporaryAccessPass" \
        else None
    if not rules:
        return None
    detail = {"lifetimeMinutes": action.lifetime_minutes,
              "isUsableOnce": action.is_usable_once}
    return policy_problem(rules, detail)


SENSITIVE_ACTIONS = ("resetPassword", "issueTemporaryAccessPass")


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    done = set(done_ids(live))
    for order, action in enumerate(user.actions):
        if action.id in done:
            continue
        problem = _refusal(action, user, live) or _policy_refusal(ctx, action)
        if problem:
            ctx.error(user, action.path, problem)
            continue
        detail: dict[str, Any] = {"id": action.id, "do": action.do, "order": order}
        after: dict[str, Any] = {"do": action.do, "id": action.id}
        if action.do == "resetPassword":
            detail.update(forceChange=action.force_change, passwordFrom=action.password_from)
            after["password"] = SENSITIVE
        if action.do == "issueTemporaryAccessPass":
            options = {"lifetimeMinutes": action.lifetime_minutes,
                       "isUsableOnce": action.is_usable_once,
                       "startDateTime": action.start_date_time}
            detail.update(options)
            after.update({k: v for k, v in options.items() if v is not None},
                         temporaryAccessPass=SENSITIVE)
        if action.do == "resendInvitation":  # the invited address, known before the guest is
            detail["email"] = user.profile.get("mail") or (live.props.get("mail") if live
                                                           else None)
        ctx.add(user, "action", "invoke", f"{action.do} ({action.id})", None, after,
                apply=detail, facts=[f"actions:{live.id}"] if live else [],
                note=_pass_note(action) if action.do == "issueTemporaryAccessPass" else None)


# Exactly once: the intent (id, what, when) is recorded on the user before the action is
# sent, the outcome after. An intent without an outcome (a lost reply, a killed run) is
# checked against the directory before anything is sent again.
_EVIDENCE = {  # the property the service stamps when the action takes effect
    "resetPassword": "lastPasswordChangeDateTime",
    "revokeSessions": "signInSessionsValidFromDateTime",
    "resendInvitation": "externalUserStateChangeDateTime",
}


def _pass_note(action: Action) -> str:
    """What the plan says of a pass (never the pass: Graph makes it when it is issued)."""
    lifetime = f"{action.lifetime_minutes} min" if action.lifetime_minutes else \
        "the policy's default lifetime"
    use = {True: "usable once", False: "reusable", None: "use as the policy says"}[
        action.is_usable_once]
    start = f"from {action.start_date_time}" if action.start_date_time else "usable at once"
    return f"{lifetime}, {use}, {start}; replaces any pass the user has"


def pending_of(live: LiveUser | None) -> dict[str, dict[str, Any]]:
    raw = (live.extension or {}).get("actionsPending") if live else None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return dict(value) if isinstance(value, dict) else {}


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def landed(ctx: ApplyContext, do: str, user_id: str, intent: dict[str, Any]) -> bool:
    """Whether an action whose intent was recorded at `intent["at"]` has taken effect:
    the directory's own stamp for it is not older than the intent. expirePassword sets a
    flag (sending it again changes nothing), so it is never taken as landed."""
    prop = _EVIDENCE.get(do)
    since = _instant(intent.get("at"))
    if prop is None or (since is None and "before" not in intent):
        return False
    stamp = _evidence(ctx, prop, user_id)
    if "before" in intent:  # the directory's own stamp moved: no clock of ours compared
        return stamp is not None and stamp != _instant(intent["before"])
    return stamp is not None and since is not None and stamp >= since


def _evidence(ctx: ApplyContext, prop: str, user_id: str) -> datetime | None:
    """The directory's stamp `prop` on the user, as it is now."""
    user = ctx.graph.get(f"/users/{user_id}", {"$select": f"id,{prop}"})
    return _instant(user.get(prop))


def _request(ctx: ApplyContext, change: Change, user_id: str) -> tuple[Any, str | None]:
    """The request for an action, and the secret it sets (None when it sets none)."""
    detail = change.apply
    do = detail["do"]
    if do == "revokeSessions":
        return api.revoke_sessions(user_id), None
    if do == "resetPassword":
        source = detail.get("passwordFrom")
        if source:
            password = os.environ.get(source.removeprefix("env:"), "")
            return api.reset_password(user_id, password, detail.get("forceChange", True)), None
        password = generate_password()
        return api.reset_password(user_id, password, detail.get("forceChange", True)), password
    if do == "expirePassword":
        return api.expire_password(user_id), None
    # resendInvitation: to the address the guest was invited by (its mail), never its UPN
    live = ctx.live.users.get(user_id)
    email = detail.get("email") or (live.props.get("mail") if live else None) or change.user
    return api.invite_guest(email, INVITE_REDIRECT, user_id=user_id), None


class _Record:
    """One user's action record (done ids, pending intents), written to the directory."""

    def __init__(self, ctx: ApplyContext, user_id: str) -> None:
        live = ctx.live.users.get(user_id)
        self.ctx, self.user_id = ctx, user_id
        self.done, self.pending = done_ids(live), pending_of(live)

    def save(self) -> None:
        result = write_state(self.ctx, self.user_id, {
            "actionsDone": json.dumps(self.done), "actionsPending": json.dumps(self.pending)})
        if result is not None and not result.ok:
            raise result.error or GraphError(0, "NoReply", "the action record was not saved")

    def intend(self, action_id: str, do: str) -> dict[str, Any]:
        """Record the intent; for an action the directory stamps, with the stamp as it is
        before sending (`before`), so whether it landed is judged by the directory's clock
        alone: a local clock running ahead cannot make a landed reset look unsent."""
        intent: dict[str, Any] = {"do": do,
                                  "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        prop = _EVIDENCE.get(do)
        if prop is not None:
            try:
                stamp = _evidence(self.ctx, prop, self.user_id)
            except GraphError:  # unreadable now (a guest still replicating): judged by `at`
                pass
            else:
                intent["before"] = stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if stamp else None
        self.pending[action_id] = intent
        self.save()
        return intent

    def finish(self, action_id: str) -> None:
        if action_id not in self.done:
            self.done.append(action_id)
        self.pending.pop(action_id, None)
        self.save()


def _once(ctx: ApplyContext, change: Change, record: _Record) -> str:
    """Carry out one action at most once; its outcome status."""
    action_id, do = change.apply["id"], change.apply["do"]
    if action_id in record.done:
        return ALREADY
    if do == "issueTemporaryAccessPass":
        return issue_pass(ctx, change, record)
    earlier = record.pending.get(action_id)
    if earlier is not None and landed(ctx, do, record.user_id, earlier):
        record.finish(action_id)  # a lost reply or a killed run: it did take effect
        return ALREADY
    if do == "resetPassword" and not change.apply.get("passwordFrom") \
            and not ctx.secrets.available:
        raise SecretDestinationError(f"password ({action_id}) for {change.user} not "
                                     "generated: no destination for it (stdout is not a "
                                     "terminal); pass --password-out FILE")
    intent = record.intend(action_id, do)
    request, secret = _request(ctx, change, record.user_id)
    if secret is not None:  # delivered (flushed) before the request that sets it
        ctx.secrets.deliver(change.user, f"password ({action_id})", secret)
    result = ctx.graph.write(request.method, request.path, request.body,
                             recheck=lambda: landed(ctx, do, record.user_id, intent))
    if result.unknown:
        return UNKNOWN  # the intent stays: the next apply checks before sending again
    if result.error is not None:
        raise result.error
    try:
        record.finish(action_id)
    except (GraphError, UnreachableError):
        pass  # it ran; the intent stays, so the next apply finds it done and sends nothing
    return APPLIED


def issue_pass(ctx: ApplyContext, change: Change, record: _Record) -> str:
    """A Temporary Access Pass, issued once and delivered once. The service makes the pass
    and returns it only in its reply, so it is delivered (flushed) as soon as the reply
    arrives. A user has at most one pass and a new one replaces the old, so a pass whose
    reply was lost (never seen, never delivered) is replaced by sending again; so is one an
    interrupted run issued (found created since its recorded intent)."""
    action_id, detail = change.apply["id"], change.apply
    if not ctx.secrets.available:
        raise SecretDestinationError(f"Temporary Access Pass ({action_id}) for {change.user} "
                                     "not issued: no destination for it (stdout is not a "
                                     "terminal); pass --password-out FILE or set "
                                     "credentials.recipients")
    problem = tap_policy_problem(ctx, record.user_id, detail)
    if problem:
        raise ActionRefused(problem)
    earlier = record.pending.get(action_id)
    replaced = _passes_since(ctx, record.user_id, earlier) if earlier else []
    record.intend(action_id, "issueTemporaryAccessPass")
    body = {graph: detail[mine] for mine, graph in (("lifetimeMinutes", "lifetimeInMinutes"),
                                                    ("isUsableOnce", "isUsableOnce"),
                                                    ("startDateTime", "startDateTime"))
            if detail.get(mine) is not None}
    request = workplace.issue_temporary_access_pass(record.user_id, body)
    result = ctx.graph.write(request.method, request.path, request.body)  # lost: send again
    if result.unknown:
        return UNKNOWN
    if result.error is not None:
        raise result.error
    reply = result.body if isinstance(result.body, dict) else {}
    if not reply.get("temporaryAccessPass"):
        raise GraphError(0, "NoPass", "the reply carried no temporaryAccessPass")
    ctx.secrets.deliver(change.user, _pass_label(action_id, reply),
                        str(reply["temporaryAccessPass"]))
    try:
        record.finish(action_id)
    except (GraphError, UnreachableError):
        pass  # issued and delivered; the next apply finds a pass since the intent
    if replaced:
        ctx.progress(f"{change.user}: replaced the pass an interrupted run issued at "
                     f"{replaced[0]} (the newest delivered pass is the one in force)")
    return APPLIED


def _pass_label(action_id: str, reply: dict[str, Any]) -> str:
    once = "usable once" if reply.get("isUsableOnce") else "reusable"
    return (f"Temporary Access Pass ({action_id}; from {reply.get('startDateTime')}, "
            f"{reply.get('lifetimeInMinutes')} min, {once})")


def _passes_since(ctx: ApplyContext, user_id: str, intent: dict[str, Any]) -> list[str]:
    """createdDateTime of the user's passes made since `intent` (an interrupted run's)."""
    since = _instant(intent.get("at"))
    passes = ctx.graph.list(workplace.list_temporary_access_passes(user_id).path)
    stamps = [p.get("createdDateTime") for p in passes]
    return [s for s in stamps if since is not None and (_instant(s) or since) >= since]


class ActionRefused(RuntimeError):
    """The tenant's policy would refuse this action: nothing is sent."""


def tap_policy_problem(ctx: ApplyContext, user_id: str, detail: dict[str, Any]) -> str | None:
    """What in the tenant's Temporary Access Pass policy refuses this pass, or None. Read
    before sending (Policy.Read.AuthenticationMethod); unreadable: Graph decides."""
    try:
        rules = ctx.graph.get(workplace.temporary_access_pass_policy().path)
    except GraphError:
        return None
    problem = policy_problem(rules, detail)
    if problem is None and (not _targets(ctx, user_id, rules.get("includeTargets")) or
                            _targets(ctx, user_id, rules.get("excludeTargets"))):
        return f"{POLICY_WHERE} does not include this user"
    return problem


POLICY_WHERE = ("the tenant's Temporary Access Pass policy (Entra admin center: Authentication "
                "methods > Temporary Access Pass)")


def policy_problem(rules: dict[str, Any], detail: dict[str, Any]) -> str | None:
    """What the policy's state, lifetime bounds or single-use rule refuses of a pass."""
    where = POLICY_WHERE
    if rules.get("state") != "enabled":
        return f"{where} is disabled"
    lifetime = detail.get("lifetimeMinutes") or rules.get("defaultLifetimeInMinutes")
    low, high = rules.get("minimumLifetimeInMinutes"), rules.get("maximumLifetimeInMinutes")
    if isinstance(lifetime, int) and isinstance(low, int) and isinstance(high, int) and \
            not low <= lifetime <= high:
        return f"lifetimeMinutes {lifetime} is outside {where}: {low} to {high} minutes"
    if rules.get("isUsableOnce") and detail.get("isUsableOnce") is False:
        return f"{where} allows only passes usable once (isUsableOnce: true)"
    return None


def _targets(ctx: ApplyContext, user_id: str, targets: Any) -> bool:
    ids = {str(t.get("id")) for t in targets or [] if isinstance(t, dict)}
    if "all_users" in ids:
        return True
    if not ids:
        return False
    groups = ctx.graph.list(api.member_of(user_id).path)
    return any(g.get("id") in ids for g in groups)


def apply_actions(ctx: ApplyContext, changes: list[Change]) -> None:
    """Per user in file order, each action exactly once (see `_once`)."""
    by_user = ctx.by_user(sorted(changes, key=lambda c: c.apply["order"]))

    def run(user_changes: list[Change]) -> None:
        record = _Record(ctx, ctx.user_id(user_changes[0].user))
        for index, change in enumerate(user_changes):
            ctx.sending([change])
            try:
                status = _once(ctx, change, record)
            except (GraphError, UnreachableError, SecretDestinationError,
                    ActionRefused) as error:
                status, message = FAILED, str(error)
            else:
                message = "" if status != UNKNOWN else "no reply; checked again before any resend"
            ctx.record(change, status, message)
            if status in (FAILED, UNKNOWN):
                for later in user_changes[index + 1:]:
                    ctx.record(later, SKIPPED, "an earlier action of this user did not finish")
                return

    ctx.graph.map(run, list(by_user.values()))


AREA = Area(
    name="actions",
    keys=("actions",),
    kinds=(Kind("action", 150, label="action", heading="actions",
                order=lambda change: int(change.apply.get("order", 0)),  # file order
                # a password reset or a Temporary Access Pass is a way into the account
                privileged=lambda change: change.apply.get("do") in SENSITIVE_ACTIONS),),
    # an action run by someone else since the plan (recorded as done) must not run again
    facts={"actions": of_user(lambda user, _live, _detail: done_ids(user), "actions run")},
    reads=reads,
    diff=diff,
    steps=(Step("actions", ("action",), ("invoke",), apply_actions),),
    relations=NO_RELATIONS,
    import_user=Nothing("one-shot actions are requests, not state to read back"),
    audit=Nothing("actions are carried out by this tool; they are not drift"),
)
