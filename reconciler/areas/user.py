"""The user object itself: create (or invite, or restore) and soft delete."""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from reconciler.apply.context import ALREADY, APPLIED, SKIPPED, Write
from reconciler.areas import Area, Kind, Nothing, Step
from reconciler.areas.profile import PROFILE_ORDER
from reconciler.areas.values import to_graph
from reconciler.graph import requests as api
from reconciler.graph.errors import GraphError, UnreachableError
from reconciler.live.directory import DELETED
from reconciler.plan.change import SENSITIVE
from reconciler.plan.facts import FactKind

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

INVITE_REDIRECT = "https://myapplications.microsoft.com"
PASSWORD_LENGTH = 24
CLOCK_SKEW = timedelta(seconds=2)  # between this machine's clock and the directory's


def reads(user: DesiredUser) -> set[Read]:
    return {DELETED} if user.state == "present" else set()


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if user.state == "deleted":
        if live is not None:
            ctx.add(user, "user", "remove", user.upn, user.upn, None,
                    apply={"id": live.id}, facts=[f"exists:{live.id}"],
                    note="soft delete: restorable for 30 days")
        return
    if live is not None:
        _anchored(ctx, user, live)
        return
    if user.id:
        ctx.plan.warnings.append(
            f"{user.upn}: id {user.id} matches no user in the tenant; planned as a new account "
            "(remove `id` from the file, or correct it, if this user exists)")
    deleted_id = ctx.live.deleted_users.get(user.upn.lower())
    if deleted_id:
        ctx.creating[user.upn.lower()] = user
        ctx.patch_after_create[user.upn.lower()] = frozenset()
        ctx.add(user, "user", "add", user.upn, None, user.upn,
                apply={"restore": deleted_id}, facts=[f"absent:{user.upn.lower()}"],
                note="restored from deleted users")
        return
    profile = {k: v for k, v in user.profile.items() if v is not None}
    if profile.get("userType") == "Guest":
        _plan_invitation(ctx, user, profile)
        return
    if "displayName" not in profile:
        ctx.error(user, ("profile",), "a new user needs profile.displayName")
        return
    body: dict[str, Any] = {
        "accountEnabled": profile.pop("accountEnabled", True),
        "mailNickname": profile.pop("mailNickname", _nickname(user.upn)),
        "userPrincipalName": user.upn,
        **{field: to_graph(field, value) for field, value in profile.items()},
    }
    extension = {k: v for k, v in user.extension_attributes.items() if v is not None}
    if extension:
        body["onPremisesExtensionAttributes"] = extension
    ctx.creating[user.upn.lower()] = user
    shown = {**body, "passwordProfile": SENSITIVE}
    ctx.add(user, "user", "add", user.upn, None, shown, apply={"body": body},
            facts=[f"absent:{user.upn.lower()}"])


def _anchored(ctx: PlanContext, user: DesiredUser, live: LiveUser) -> None:
    """The file's `id` against the live user: a rename when it goes by another UPN."""
    if user.id and live.id.lower() != user.id.lower():
        ctx.error(user, ("id",), f"{user.upn} is directory object {live.id} in the tenant, not "
                  f"{user.id}: correct the id, or remove it to identify the user by name")
        return
    if live.upn.lower() == user.upn.lower():
        return
    other = ctx.desired.user(live.upn)
    if other is not None:
        ctx.error(user, ("id",), f"id {live.id} is {live.upn}, which {other.source.file} "
                  "describes too: one file per user")
        return
    mail = live.props.get("mail")
    consequence = "the old name no longer signs in"
    if mail and not user.manages("profile.mail"):
        consequence += f"; the mail address stays {mail} (set profile.mail to change it)"
    ctx.add(user, "user", "change", "userPrincipalName", live.upn, user.upn,
            apply={"id": live.id}, facts=[f"profile:{live.id}:userPrincipalName"],
            note=f"renamed by id: {consequence}")


def _plan_invitation(ctx: PlanContext, user: DesiredUser, profile: dict[str, Any]) -> None:
    email = profile.get("mail")
    if not email:
        ctx.error(user, ("profile", "userType"), "a guest is invited by email: set profile.mail")
        return
    expected = f"{email.replace('@', '_')}#EXT#@{ctx.desired.config.domain}"
    if expected.lower() != user.upn.lower():
        ctx.error(user, ("userPrincipalName",), "an invited guest's userPrincipalName is "
                  f"assigned by the invitation: {expected}")
        return
    ctx.creating[user.upn.lower()] = user
    ctx.patch_after_create[user.upn.lower()] = frozenset({"displayName", "mail", "userType"})
    ctx.add(user, "user", "add", user.upn, None, {"invitedUserEmailAddress": email},
            apply={"invite": email, "displayName": profile.get("displayName")},
            facts=[f"absent:{user.upn.lower()}"], note="invited as a guest")


def _nickname(upn: str) -> str:
    local = upn.split("@")[0]
    return re.sub(r"[^A-Za-z0-9._-]", "", local)[:64] or "user"


def generate_password() -> str:
    """A random password meeting Entra's complexity rule; never printed or stored."""
    alphabet = string.ascii_letters + string.digits + "!#$%*+-=?@^_"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))
        if (any(c.islower() for c in password) and any(c.isupper() for c in password)
                and any(c.isdigit() for c in password)):
            return password


def _find(ctx: ApplyContext, upn: str) -> str | None:
    found = ctx.graph.list(api.find_user(upn).path)
    return found[0]["id"] if found else None


def _create(ctx: ApplyContext, change: Change) -> None:
    detail = change.apply
    if "restore" in detail:
        request = api.restore_user(detail["restore"])
        result = ctx.send(Write([change], request, recheck=lambda: bool(_find(ctx, change.user))))
        if result.ok:
            ctx.ids[change.user.lower()] = detail["restore"]
            ctx.graph.sender.created.add(detail["restore"])  # reads of it may lag
        return
    if "invite" in detail:
        request = api.invite_guest(detail["invite"], INVITE_REDIRECT, detail.get("displayName"))
        result = ctx.send(Write([change], request,
                                recheck=lambda: bool(_find(ctx, change.user))))
        if result.ok and isinstance(result.body, dict) and result.body.get("invitedUser"):
            ctx.ids[change.user.lower()] = result.body["invitedUser"]["id"]
            # the reply's id is the invitation's; 404s on the new user are replication lag
            ctx.graph.sender.created.add(result.body["invitedUser"]["id"])
        elif result.ok:  # its reply was lost: found again by its name, still new
            found = _find(ctx, change.user) or ""
            ctx.ids[change.user.lower()] = found
            if found:
                ctx.graph.sender.created.add(found)
        return
    password = generate_password()
    at = datetime.now(UTC)
    delivered = _deliver(ctx, change.user, password)  # on disk before the request is sent
    body = {**detail["body"], "passwordProfile": {
        "password": password, "forceChangePasswordNextSignIn": True}}
    result = ctx.send(Write([change], api.create_user(body),
                            recheck=lambda: bool(_find(ctx, change.user)),
                            already=lambda e: e.says("already exists")))
    if not result.ok:
        if delivered is not None and not result.unknown:  # refused: that password is not set
            ctx.secrets.retract(delivered, f"the creation failed ({result.error})")
        return
    user_id = result.body.get("id") if isinstance(result.body, dict) else None
    if user_id is None:  # a lost reply or "already exists": ours only if created since `at`
        user_id = _find(ctx, change.user)
        if delivered is not None and user_id and not _created_since(ctx, user_id, at):
            ctx.secrets.retract(delivered, f"{change.user} already existed; its password "
                                "is the one set when it was created")
    if user_id:
        ctx.ids[change.user.lower()] = user_id
        ctx.graph.sender.created.add(user_id)


def _deliver(ctx: ApplyContext, upn: str, password: str) -> int | None:
    """A new user's initial password, to the run's secret destination (None: there is
    none, and the password is set without anybody ever seeing it)."""
    if not ctx.secrets.available:
        ctx.secrets.unseen += 1
        return None
    return ctx.secrets.deliver(upn, "initial password", password)


def _created_since(ctx: ApplyContext, user_id: str, at: datetime) -> bool:
    """Whether the directory created this user at or after `at` (so with our password),
    give or take CLOCK_SKEW; unknown (unreadable) counts as ours: a delivered password is
    never retracted on doubt."""
    try:
        created = ctx.graph.get(f"/users/{user_id}", {"$select": "id,createdDateTime"})
        stamp = datetime.fromisoformat(str(created.get("createdDateTime")).replace("Z",
                                                                                    "+00:00"))
    except (GraphError, UnreachableError, ValueError):
        return True
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)) >= at - CLOCK_SKEW


def apply_creates(ctx: ApplyContext, changes: list[Change]) -> None:
    ctx.graph.map(lambda change: _create(ctx, change), changes)
    for change in changes:
        outcome = ctx.outcome_of(change)
        if outcome is None or outcome.status not in (APPLIED, ALREADY):
            ctx.failed_users.add(change.user.lower())


def apply_renames(ctx: ApplyContext, changes: list[Change]) -> None:
    """Before anything else of the user: later steps address it by its new name."""
    writes = [Write([change], api.update_user(change.apply["id"],
                                              {"userPrincipalName": change.after}),
                    recheck=lambda change=change: _find(ctx, change.after) == change.apply["id"])
              for change in changes]
    results = ctx.send_batched(writes)
    for n, change in enumerate(changes):
        if not results[n].ok:
            ctx.failed_users.add(change.user.lower())


def apply_deletes(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in changes:
        if change.user.lower() in ctx.failed_users:
            ctx.record(change, SKIPPED, "an earlier change for this user failed")
            continue
        writes.append(Write([change], api.delete_user(change.apply["id"]),
                            already=lambda e: e.status == 404))
    ctx.send_batched(writes)


def _created_fields(change: Change) -> list[tuple[str, Any]] | None:
    """A created user: one line per field it is created with, in the portal's order."""
    if change.op != "add" or not isinstance(change.after, dict) or \
            "userPrincipalName" not in change.after:
        return None
    order = sorted(change.after, key=lambda f: (PROFILE_ORDER.index(f)
                                                if f in PROFILE_ORDER else 98, f))
    labels = {"onPremisesExtensionAttributes": "extensionAttributes",
              "passwordProfile": "passwordProfile"}
    return [(labels.get(f, f"profile.{f}"), change.after[f]) for f in order
            if f != "userPrincipalName"]


def _is_removal(change: Change) -> bool:
    return change.op == "remove"


def _relations(_user: DesiredUser, _current: LiveUser, _live: LiveState) -> int:
    return 1  # the user object itself (deletion)


def _import(user: LiveUser, _state: LiveState) -> dict[str, Any]:
    return {"userPrincipalName": user.upn, "id": user.id}  # the anchor: a rename stays one user


FACTS = {
    # a creation depends on the UPN being free (not taken since the plan)
    "absent": FactKind(lambda live, upn: live.user_by_upn(upn) is None,
                       lambda upn, _subject: f"whether {upn} exists"),
    # a deletion depends on the user still being there
    "exists": FactKind(lambda live, user_id: True if user_id in live.users else None,
                       lambda _rest, subject: f"{subject}: existence"),
}

AREA = Area(
    name="user",
    keys=("userPrincipalName", "state"),
    kinds=(Kind("user", 0, label="user", heading=None, relation=True,
                privileged=_is_removal, fields=_created_fields),),
    facts=FACTS,
    reads=reads,
    diff=diff,
    steps=(Step("rename users", ("user",), ("change",), apply_renames),
           Step("create users", ("user",), ("add",), apply_creates),
           Step("delete users", ("user",), ("remove",), apply_deletes)),
    relations=_relations,
    import_user=_import,
    import_reads=(DELETED,),
    audit=Nothing("creation and deletion are what the plan shows; drift is not attributed"),
)
