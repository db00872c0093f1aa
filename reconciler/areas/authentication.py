"""Authentication hygiene: the self-service password reset email, and the Microsoft
Authenticator registrations a user keeps (by device name).

Authenticator registrations are made on a phone and cannot be created here: the file lists
those to keep, and under authoritative policy the others are deleted (each named with when it
was registered). Removing the last strong method is a warning; a protected user's methods are
never removed. Reads ride on the phone area's per-user methods listing (one batched GET).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import Area, DirectoryAudit, Kind, Step
from reconciler.graph import workplace_requests as api
from reconciler.live.directory import PHONES
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

EMAIL_KEY = "authentication.emailMethod"
DEVICES_KEY = "authentication.authenticatorDevices"
# Methods that satisfy multifactor sign-in on their own (the email method never does).
STRONG = ("microsoftAuthenticatorAuthenticationMethod", "fido2AuthenticationMethod",
          "windowsHelloForBusinessAuthenticationMethod", "softwareOathAuthenticationMethod",
          "platformCredentialAuthenticationMethod", "phoneAuthenticationMethod")


def reads(user: DesiredUser) -> set[Read]:
    return {PHONES} if user.manages(EMAIL_KEY) or user.manages(DEVICES_KEY) else set()


def _protected(ctx: PlanContext, user: DesiredUser) -> bool:
    return user.upn.lower() in ctx.desired.config.policy.protected_users


def _refuse_protected(ctx: PlanContext, user: DesiredUser, path: tuple, what: str) -> None:
    ctx.error(user, path, f"{user.upn} is protected: its authentication methods are never "
              f"removed (would remove {what}; policy.protectedUsers in "
              f"{ctx.desired.config.source.file})")


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if user.manages(EMAIL_KEY):
        _diff_email(ctx, user, live)
    if user.manages(DEVICES_KEY):
        _diff_authenticators(ctx, user, live)


def _diff_email(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    have = ((live.email_method or {}).get("emailAddress") if live else None) or None
    wanted = user.email_method or None
    if (have or "").lower() == (wanted or "").lower():
        ctx.unchanged(user)
        return
    op = "add" if have is None else "remove" if wanted is None else "change"
    if op == "remove" and _protected(ctx, user):
        _refuse_protected(ctx, user, ("authentication", "emailMethod"), "the email method")
        return
    ctx.add(user, "emailMethod", op, "email", have, wanted, apply={"address": wanted},
            facts=[f"authMethods:{live.id}"] if live else [])


def _diff_authenticators(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    registered = list(live.authenticators) if live else []
    keep = {name.lower() for name in user.authenticator_devices}
    names = {str(m.get("displayName") or "").lower() for m in registered}
    for name in user.authenticator_devices:
        if name.lower() not in names:
            ctx.note(user, "authenticatorDevice", name, "not registered: the user adds it in "
                     "the Microsoft Authenticator app (it cannot be created here)")
    removing = [m for m in registered if str(m.get("displayName") or "").lower() not in keep]
    ctx.unchanged(user, len(registered) - len(removing))
    if not removing or not ctx.authoritative:
        return
    if live is not None and _protected(ctx, user):
        _refuse_protected(ctx, user, ("authentication", "authenticatorDevices"),
                          ", ".join(str(m.get("displayName")) for m in removing))
        return
    for method in sorted(removing, key=lambda m: str(m.get("createdDateTime") or "")):
        name = str(method.get("displayName") or method["id"])
        registered = method.get("createdDateTime")
        ctx.add(user, "authenticatorDevice", "remove", name, name, None,
                apply={"method": method["id"], "registered": registered},
                facts=[f"authMethods:{live.id}"] if live else [],
                note=f"registered {registered}" if registered else None)
    if live is not None and not _strong_left(ctx, user, live, len(removing)):
        ctx.plan.warnings.append(f"{user.upn}: this plan removes the last strong "
                                 "authentication method; the user must register a new one "
                                 "(or get a Temporary Access Pass) before the next sign-in "
                                 "that asks for multifactor authentication")


def _strong_left(ctx: PlanContext, user: DesiredUser, live: LiveUser, removed: int) -> bool:
    """Whether any strong method remains: other Authenticators, phones the plan keeps, or
    other strong kinds (FIDO2, Windows Hello...) counted in `live.methods`."""
    others = live.methods - (1 if live.email_method else 0) - len(live.authenticators)
    phones_kept = len(live.phones or {}) - sum(
        1 for c in ctx.plan.changes if c.user == user.upn and c.kind == "phoneMethod"
        and c.op == "remove")
    return others > 0 or phones_kept > 0 or len(live.authenticators) - removed > 0


def apply_email(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in ctx.runnable(changes):
        user_id = ctx.user_id(change.user)
        assert user_id is not None
        address = change.apply["address"]
        if change.op == "add":
            request = api.add_email_method(user_id, address)
        elif change.op == "change":
            request = api.update_email_method(user_id, address)
        else:
            request = api.remove_email_method(user_id)
        removing = change.op == "remove"
        writes.append(Write([change], request,
                            already=lambda e, r=removing: r and e.status == 404))
    ctx.send_batched(writes)


def apply_authenticators(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in ctx.runnable(changes):
        user_id = ctx.user_id(change.user)
        assert user_id is not None
        writes.append(Write([change], api.remove_authenticator(user_id, change.apply["method"]),
                            already=lambda e: e.status == 404))
    ctx.send_batched(writes)


def _methods(user: LiveUser, _live: LiveState, _detail: str) -> Any:
    return {"email": (user.email_method or {}).get("emailAddress"),
            "authenticators": sorted(m["id"] for m in user.authenticators)}


def relations(user: DesiredUser, current: LiveUser, _live: LiveState) -> int:
    return len(current.authenticators) if user.manages(DEVICES_KEY) else 0


def import_user(user: LiveUser, _state: LiveState) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if user.email_method and user.email_method.get("emailAddress"):
        found["emailMethod"] = user.email_method["emailAddress"]
    names = [str(m.get("displayName")) for m in user.authenticators if m.get("displayName")]
    if names:
        found["authenticatorDevices"] = sorted(names)
    return {"authentication": found} if found else {}


ACTIVITIES = ("user registered security info", "user deleted security info",
              "user changed default security info", "admin registered security info",
              "admin deleted security info", "admin updated security info")


def _audited(record: dict[str, Any], _change: Change, user_id: str) -> bool:
    activity = str(record.get("activityDisplayName") or "").lower()
    return activity in ACTIVITIES and any(t.get("id") == user_id
                                          for t in record.get("targetResources") or [])


def _is_privileged(_change: Change) -> bool:
    return True  # any change to how a user proves who they are


AREA = Area(
    name="authentication",
    keys=(EMAIL_KEY, DEVICES_KEY),
    kinds=(Kind("emailMethod", 132, label="emailMethod", heading="authentication methods",
                quoted=True, privileged=_is_privileged),
           Kind("authenticatorDevice", 134, label="authenticatorDevice",
                heading="authentication methods", relation=True, privileged=_is_privileged)),
    facts={"authMethods": of_user(_methods, "authentication methods")},
    reads=reads,
    diff=diff,
    steps=(Step("authentication methods", ("emailMethod",), ("add", "change", "remove"),
                apply_email),
           Step("authentication methods", ("authenticatorDevice",), ("remove",),
                apply_authenticators)),
    relations=relations,
    import_user=import_user,
    import_reads=(PHONES,),
    audit=DirectoryAudit(_audited),
    plans_after=("phones",),  # the last-strong-method warning reads planned phone removals
)
