"""Protected users (policy.protectedUsers): no password reset, no authentication-method
change, no forwarding, unless the user's file allows it (`allowOnProtectedUser`)."""

from __future__ import annotations

from reconciler.desired.model import DesiredTenant
from reconciler.plan.change import Change, Plan

LABELS = {"passwordReset": "password reset",
          "authenticationMethods": "authentication-method change",
          "forwarding": "mail forwarding"}


def guarded(change: Change) -> tuple[str, tuple] | None:
    """(what the change is, where in the file it comes from), for what protection covers."""
    if change.kind == "action" and change.apply.get("do") == "resetPassword":
        return "passwordReset", ("actions", int(change.apply.get("order", 0)))
    if change.kind == "action" and change.apply.get("do") == "issueTemporaryAccessPass":
        return "authenticationMethods", ("actions", int(change.apply.get("order", 0)))
    if change.kind == "emailMethod":
        return "authenticationMethods", ("authentication", "emailMethod")
    if change.kind == "authenticatorDevice":
        return "authenticationMethods", ("authentication", "authenticatorDevices")
    if change.kind == "phoneMethod":
        return "authenticationMethods", ("authentication", "phoneMethods", str(change.target))
    if change.kind == "forwarding" and change.op != "remove":
        return "forwarding", ("mailbox", "forwarding")
    return None


def guard(plan: Plan, desired: DesiredTenant) -> None:
    """Turn each such change on a protected user into an error, unless allowed."""
    protected = set(desired.config.policy.protected_users)
    if not protected:
        return
    kept = []
    for change in plan.changes:
        found = guarded(change) if change.user.lower() in protected else None
        user = desired.user(change.user)
        if found is None or user is None or found[0] in user.allow_on_protected:
            kept.append(change)
            continue
        what, path = found
        problem = user.source.problem(path, (
            f"{change.user} is a protected user (policy.protectedUsers): no {LABELS[what]} "
            f"unless the file says so (allowOnProtectedUser: [{what}])"))
        if problem not in plan.errors:
            plan.errors.append(problem)
    plan.changes = kept
    plan.errors.sort()
