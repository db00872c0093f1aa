"""Profile photos: uploaded when the file's SHA-256 differs from the one we last uploaded.

The service re-encodes photos, so what it returns cannot be compared with the file; the
hash of the last upload is kept in the user's open extension (io.reconciler.state).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.apply.context import FAILED, Write
from reconciler.areas import NO_RELATIONS, Area, Kind, Nothing, Step
from reconciler.areas.state_extension import write_state
from reconciler.desired.photo import CONTENT_TYPES, image_format
from reconciler.graph import requests as api
from reconciler.live.directory import EXTENSION
from reconciler.live.reads import UserGet
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.graph.client import WriteResult
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

def _store_presence(user: LiveUser, result: WriteResult) -> None:
    user.has_photo = result.ok


# Whether the user has a photo (its metadata; 404: none): read for files that remove it.
PHOTO_PRESENCE = UserGet("photoPresence", path=lambda u: api.get_photo_metadata(u.id).path,
                         store=_store_presence)


def reads(user: DesiredUser) -> set[Read]:
    if not user.manages("photo"):
        return set()
    return {EXTENSION} if user.photo is not None else {PHOTO_PRESENCE}


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if not user.manages("photo"):
        return
    user_id = live.id if live else None
    facts = [f"photo:{user_id}"] if user_id else []
    if user.photo is None:
        if live is not None and live.has_photo:
            ctx.add(user, "photo", "remove", "photo", {"present": True}, None, facts=facts)
        else:
            ctx.unchanged(user)
        return
    data = user.photo.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    recorded = (live.extension or {}).get("photoSha256") if live else None
    if recorded == digest:
        ctx.unchanged(user)
        return
    relative = str(user.photo.relative_to(ctx.desired.config.folder))
    ctx.add(user, "photo", "change" if recorded else "add", "photo",
            {"sha256": recorded} if recorded else None, {"path": relative, "sha256": digest},
            apply={"path": relative, "sha256": digest}, facts=facts)


def _upload(ctx: ApplyContext, change: Change, folder: Path) -> None:
    user_id = ctx.user_id(change.user)
    if change.op == "remove":
        ctx.send(Write([change], api.delete_photo(user_id), already=lambda e: e.status == 404))
        write_state(ctx, user_id, {"photoSha256": None})
        return
    data = (folder / change.apply["path"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != change.apply["sha256"]:
        ctx.record(change, FAILED, f"{change.apply['path']} changed since the plan was made")
        return
    kind = image_format(data[:16]) or "jpeg"
    result = ctx.send(Write(  # a lost reply: read the photo back before sending it again
        [change], api.put_photo(user_id, data, CONTENT_TYPES[kind]),
        recheck=lambda: ctx.graph.get_or_none(api.get_photo(user_id).path) == data))
    if result.ok:
        write_state(ctx, user_id, {"photoSha256": change.apply["sha256"]})


def apply_photos(ctx: ApplyContext, changes: list[Change]) -> None:
    folder = ctx.folder
    ctx.graph.map(lambda change: _upload(ctx, change, folder), ctx.runnable(changes))


def _show(value: dict[str, Any]) -> str:
    """A photo by its file and the start of its hash (`(a photo)`: one we did not
    upload)."""
    if "sha256" not in value:
        return "(a photo)"
    digest = f"sha256:{value['sha256'][:12]}"
    return f"{value['path']} ({digest})" if "path" in value else digest


AREA = Area(
    name="photo",
    keys=("photo",),
    kinds=(Kind("photo", 30, label="photo", heading="photo", quoted=True, show=_show),),
    facts={"photo": of_user(lambda user, _live, _detail: (
        (user.extension or {}).get("photoSha256"), user.has_photo), "photo")},
    reads=reads,
    diff=diff,
    steps=(Step("photo", ("photo",), ("add", "change", "remove"), apply_photos),),
    relations=NO_RELATIONS,
    import_user=Nothing("the service re-encodes photos: the file cannot be read back"),
    audit=Nothing("photo uploads are not in the directory audit"),
)
