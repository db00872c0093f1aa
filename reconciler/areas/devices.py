"""Intune devices whose primary user this user is (graph-contract §21).

Entries name a device by deviceName (unique, or the plan asks for the id) or by id. Setting
the primary user replaces the previous one (never cleared first: that would make the device
shared for a moment); under authoritative policy a device whose primary user is this user and
that the file does not list is made shared. The user needs an Intune licence; a tenant without
Intune, or a device named by two files, is an error at plan time. The reads are one listing of
the tenant's devices and the primary user (the reliable `users` navigation) of each device a
file names or a managed user enrolled: a device made this user's primary in the portal after
someone else enrolled it is seen once it is named in a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import Area, Kind, Nothing, Step
from reconciler.graph import workplace_requests as api
from reconciler.live.directory import SKUS
from reconciler.live.workplace import DEVICES
from reconciler.plan.facts import FactKind

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser, Entry
    from reconciler.live.reads import Ask, Read
    from reconciler.live.state import LiveDevice, LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

INTUNE_PLANS = ("INTUNE_A", "INTUNE_EDU", "INTUNE_SMBIZ", "INTUNE_A_D", "INTUNE_A_VL")


def reads(user: DesiredUser) -> set[Read]:
    if not user.manages("devices"):
        return set()
    named: set[Read | Ask] = {DEVICES.about(entry.ref) for entry in user.devices}
    return {DEVICES, SKUS, *named}


def intune_licensed(user: LiveUser, live: LiveState) -> bool:
    """A direct or group licence with an Intune plan that is not disabled."""
    for sku_id in [*user.licenses, *user.inherited_licenses]:
        sku = live.skus.get(sku_id)
        if sku is None:
            continue
        disabled = set(user.licenses.get(sku_id, []))
        if any(name in INTUNE_PLANS and plan not in disabled for name, plan in sku.plans.items()):
            return True
    return False


def _find(live: LiveState, entry: Entry) -> LiveDevice | str:
    """The device an entry names, or why none can be chosen."""
    if entry.by == "id" or entry.ref in live.devices:
        found = live.devices.get(entry.ref)
        return found if found is not None else f"no Intune managed device with id {entry.ref}"
    named = [d for d in live.devices.values() if d.name.lower() == entry.ref.lower()]
    if len(named) == 1:
        return named[0]
    if named:
        return (f"{len(named)} managed devices are named {entry.ref!r}: use {{id: ...}} "
                f"({', '.join(sorted(d.id for d in named))})")
    return f"no Intune managed device named {entry.ref!r}"


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if not user.manages("devices"):
        return
    if ctx.live.devices_error is not None:
        ctx.error(user, ("devices",), "Intune cannot be read in this tenant "
                  f"({ctx.live.devices_error}); devices need an Intune licence in the tenant")
        return
    if user.devices and live is not None and not intune_licensed(live, ctx.live):
        ctx.error(user, ("devices",), f"{user.upn} has no Intune licence (a licence with an "
                  "Intune plan, e.g. EMS or Microsoft 365 E3/E5, is needed to be a device's "
                  "primary user)")
        return
    wanted: set[str] = set()
    for entry in user.devices:
        found = _find(ctx.live, entry)
        if isinstance(found, str):
            ctx.error(user, entry.path, found)
            continue
        wanted.add(found.id)
        if live is not None and found.primary == live.id:
            ctx.unchanged(user)
            continue
        before = ctx.live.users[found.primary].upn if found.primary in ctx.live.users else None
        ctx.add(user, "device", "add", found.name, before, found.name,
                apply={"device": found.id}, facts=[f"device:{found.id}"],
                note=f"primary user now {before}" if before else None)
    if live is None or not ctx.authoritative:
        return
    for device in sorted(ctx.live.devices.values(), key=lambda d: d.name.lower()):
        if device.primary == live.id and device.id not in wanted:
            ctx.add(user, "device", "remove", device.name, device.name, None,
                    apply={"device": device.id}, facts=[f"device:{device.id}"],
                    note="becomes a shared device")


def finish(ctx: PlanContext) -> None:
    """A device named by two users' files is an error for both."""
    claimed: dict[str, list[DesiredUser]] = {}
    for user in ctx.desired.users:
        if not user.manages("devices") or ctx.live.devices_error is not None:
            continue
        for entry in user.devices:
            found = _find(ctx.live, entry)
            if not isinstance(found, str):
                claimed.setdefault(found.id, []).append(user)
    for device_id, users in claimed.items():
        if len(users) < 2:
            continue
        name = ctx.live.devices[device_id].name
        for user in users:
            others = ", ".join(u.upn for u in users if u is not user)
            ctx.error(user, ("devices",), f"device {name} is also named by {others}: a device "
                      "has one primary user")


def apply_devices(ctx: ApplyContext, changes: list[Change]) -> None:
    """One write each: the primary-user calls are beta-only, so they cannot share a v1.0
    $batch."""
    for change in ctx.runnable(changes):
        device = change.apply["device"]
        if change.op == "add":
            user_id = ctx.user_id(change.user)
            assert user_id is not None
            request = api.set_device_primary_user(device, user_id)
            ctx.send(Write([change], request,
                           recheck=lambda d=device, u=user_id: _primary(ctx, d) == u))
        else:
            ctx.send(Write([change], api.clear_device_primary_user(device),
                           recheck=lambda d=device: _primary(ctx, d) is None,
                           already=lambda e: e.status == 404))


def _primary(ctx: ApplyContext, device_id: str) -> str | None:
    users = ctx.graph.list(api.device_primary_user(device_id).path)
    return users[0]["id"] if users else None


def _fact(live: LiveState, rest: str) -> Any:
    device = live.devices.get(rest)
    return None if device is None else device.primary or "shared"


def relations(user: DesiredUser, current: LiveUser, live: LiveState) -> int:
    if not user.manages("devices"):
        return 0
    return sum(1 for d in live.devices.values() if d.primary == current.id)


def import_user(user: LiveUser, state: LiveState) -> dict[str, Any]:
    mine = sorted((d for d in state.devices.values() if d.primary == user.id),
                  key=lambda d: d.name.lower())
    if not mine:
        return {}
    names = [d.name.lower() for d in state.devices.values()]
    return {"devices": [d.name if names.count(d.name.lower()) == 1 else {"id": d.id}
                        for d in mine]}


AREA = Area(
    name="devices",
    keys=("devices",),
    kinds=(Kind("device", 66, label="device", heading="devices", relation=True),),
    facts={"device": FactKind(_fact, lambda rest, _subject: f"device {rest}: primary user")},
    reads=reads,
    diff=diff,
    steps=(Step("workplace adds", ("device",), ("add",), apply_devices),
           Step("workplace removals", ("device",), ("remove",), apply_devices)),
    relations=relations,
    import_user=import_user,
    import_reads=(DEVICES, SKUS),
    audit=Nothing("Intune records primary-user changes in its own audit events "
                  "(deviceManagement/auditEvents), not in the directory audit"),
    finish=finish,
)
