"""What the mailbox areas share: does the mailbox exist, and who is a trustee."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.plan.resolve import candidates

if TYPE_CHECKING:
    from reconciler.desired.model import DesiredUser
    from reconciler.live.state import LiveUser
    from reconciler.plan.context import PlanContext

MAIL_GROUP_KINDS = ("distribution", "mailEnabledSecurity", "unified")


def mailbox_ready(ctx: PlanContext, user: DesiredUser, live: LiveUser | None,
                  path: tuple) -> bool:
    """Whether there is a mailbox to plan against; otherwise an error or a wait is said."""
    if live is not None and live.mailbox is not None:
        return True
    if user.only_defaulted(".".join(path)):
        return False  # tenant defaults only: a user without a mailbox has nothing of the kind
    if ctx.block_due(user):
        ctx.note(user, "mailboxType", path[0], "no mailbox since the sign-in block fell due: "
                 "its settings are no longer planned")
        return False
    licensed_now = any(c.user == user.upn and c.kind == "license" and c.op == "add"
                       for c in ctx.plan.changes)
    if live is None or licensed_now:
        warning = (f"{user.upn}: {path[0]} settings wait until Exchange has created the "
                   "mailbox (after a license with Exchange Online); a later run plans them")
        if warning not in ctx.plan.warnings:
            ctx.plan.warnings.append(warning)
        return False
    ctx.error(user, path, f"{user.upn} has no mailbox (it needs a license with Exchange "
              "Online, or to be a shared, room or equipment mailbox already): nothing is "
              "planned for it")
    return False


def trustee_key(ctx: PlanContext, name: str) -> str | None:
    """A trustee as a canonical key: a user's UPN or a mail-enabled group's address."""
    user = ctx.live.user_by_mail(name)
    if user is not None:
        return user.upn.lower()
    lowered = name.lower()
    if lowered in ctx.creating:
        return lowered
    for group in ctx.live.groups.values():
        if group.kind in MAIL_GROUP_KINDS and (
                (group.mail or "").lower() == lowered or group.display_name.lower() == lowered):
            return (group.mail or group.display_name).lower()
    return None


def unknown_trustee(ctx: PlanContext, name: str) -> str:
    names = [u.upn for u in ctx.live.users.values()] + [
        g.mail for g in ctx.live.groups.values() if g.mail and g.kind in MAIL_GROUP_KINDS]
    return f"unknown trustee '{name}' ({candidates(name, names)})"
