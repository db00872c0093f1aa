"""The user's open extension io.reconciler.state: what this tool keeps on the user itself
(the SHA-256 of the last photo uploaded, the actions that have run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.graph import requests as api
from reconciler.live.directory import STATE_EXTENSION

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.graph.client import WriteResult


def write_state(ctx: ApplyContext, user_id: str, values: dict[str, Any]) -> WriteResult:
    """Set `values` on the user's state extension, creating it the first time; the result
    of the write (not ok when it failed or got no reply)."""
    live = ctx.live.users.get(user_id)
    update = api.update_extension(user_id, STATE_EXTENSION, values)

    def holds() -> bool:  # after a lost reply: is the extension already so? (not re-sent)
        found = ctx.graph.get_or_none(api.get_extension(user_id, STATE_EXTENSION).path)
        return found is not None and all(found.get(k) == v for k, v in values.items())

    if live is None or live.extension is None:
        full = {"@odata.type": "microsoft.graph.openTypeExtension",
                "extensionName": STATE_EXTENSION, **values}
        result = ctx.graph.write("POST", api.add_extension(user_id, full).path, full,
                                 already=lambda e: e.status == 409, recheck=holds)
        if result.already:
            result = ctx.graph.write(update.method, update.path, update.body, recheck=holds)
    else:
        result = ctx.graph.write(update.method, update.path, update.body, recheck=holds)
    if live is not None and result.ok:
        live.extension = {**(live.extension or {"id": STATE_EXTENSION}), **values}
    return result
