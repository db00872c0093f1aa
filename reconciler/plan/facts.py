"""Facts a change depends on: named by key, hashed at plan time, re-read at apply time.

A saved plan is stale when a fact it names has moved; unrelated changes in the tenant
do not make it stale.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler.live.state import LiveState


def fact_value(live: LiveState, key: str) -> Any:
    """The live value a fact key names (None when its object is gone)."""
    kind, _, rest = key.partition(":")
    if kind == "absent":
        return live.user_by_upn(rest) is None
    if kind == "seats":
        sku_id, _, needed = rest.partition(":")
        sku = live.skus.get(sku_id)
        return sku is not None and sku.free >= int(needed)
    user = live.users.get(rest.split(":")[0])
    if user is None:
        return None
    if kind == "profile":
        field = rest.split(":", 1)[1]
        return user.props.get(field)
    if kind == "manager":
        return user.manager_id
    if kind == "groups":
        return sorted(live.groups_of(user.id))
    if kind == "roles":
        return sorted((a.role_id, a.scope) for a in live.assignments_of(user.id))
    if kind == "licenses":
        return sorted((k, sorted(v)) for k, v in user.licenses.items())
    if kind == "photo":
        return (user.extension or {}).get("photoSha256"), user.has_photo
    if kind == "exists":
        return True
    raise KeyError(f"unknown fact {key}")


def fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe(key: str, user_names: dict[str, str]) -> str:
    """A fact key as a reviewer reads it."""
    kind, _, rest = key.partition(":")
    subject = user_names.get(rest.split(":")[0], rest.split(":")[0])
    return {
        "absent": f"whether {rest} exists",
        "seats": f"free seats of SKU {rest.split(':')[0]}",
        "profile": f"{subject}: profile.{rest.split(':', 1)[-1]}",
        "manager": f"{subject}: manager",
        "groups": f"{subject}: group memberships",
        "roles": f"{subject}: directory roles",
        "licenses": f"{subject}: licenses",
        "photo": f"{subject}: photo",
        "exists": f"{subject}: existence",
    }.get(kind, key)
