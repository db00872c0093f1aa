"""Directly assigned licenses: one assignLicense per user; seats checked at plan time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import Area, DirectoryAudit, Kind, Step
from reconciler.graph import requests as api
from reconciler.live.directory import SKUS
from reconciler.plan.context import window_note
from reconciler.plan.facts import FactKind, fingerprint, of_user
from reconciler.plan.resolve import ResolveError

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

def _managed(user: DesiredUser) -> bool:
    return user.manages("licenses") or bool(user.sign_in and user.sign_in.remove_licenses)


def reads(user: DesiredUser) -> set[Read]:
    return {SKUS} if _managed(user) else set()


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    stripped = ctx.stripped(user, "licenses")
    if not user.manages("licenses") and not stripped:
        return
    current = dict(live.licenses) if live else {}
    inherited = set(live.inherited_licenses) if live else set()
    user_id = live.id if live else None
    facts = [f"licenses:{user_id}"] if user_id else []
    wanted: dict[str, tuple[Any, list[str] | None, Any]] = {}
    for entry in [] if stripped else user.licenses:
        try:
            sku = ctx.resolver.sku(entry.sku)
            plans = ctx.resolver.plans(sku, entry.disabled_plans) \
                if entry.disabled_plans is not None else None
        except ResolveError as exc:
            ctx.error(user, (*entry.path, "sku") if "SKU" in str(exc) else
                      (*entry.path, "disabledPlans"), str(exc))
            continue
        if ctx.in_force(user, "license", sku.part_number, entry.window):
            wanted[sku.sku_id] = (sku, plans, entry)
    adds = [sku_id for sku_id in wanted if sku_id not in current]
    if adds and not (user.profile.get("usageLocation") or (live and live.props.get(
            "usageLocation"))):
        ctx.error(user, ("licenses",), "a license needs a usage location: set "
                  "profile.usageLocation (an ISO 3166 country code such as US)")
        return
    for sku_id, (sku, plans, entry) in sorted(wanted.items()):
        if sku_id not in current:
            ctx.seats.setdefault(sku_id, []).append((user, entry.path))
            ctx.add(user, "license", "add", sku.part_number, None, _value(sku, plans),
                    apply={"skuId": sku_id, "disabledPlans": plans or []}, facts=facts,
                    note=window_note(entry.window))
        elif plans is not None and sorted(current[sku_id]) != plans:
            ctx.add(user, "license", "change", sku.part_number,
                    _value(sku, sorted(current[sku_id])), _value(sku, plans),
                    apply={"skuId": sku_id, "disabledPlans": plans}, facts=facts)
        else:
            ctx.unchanged(user)
    for sku_id in sorted(current):
        name = ctx.live.skus[sku_id].part_number if sku_id in ctx.live.skus else sku_id
        if sku_id in wanted or not (ctx.authoritative or stripped or
                                    ctx.expired(user, "license", name)):
            continue
        ctx.add(user, "license", "remove", name, {"sku": name}, None, apply={"skuId": sku_id},
                facts=facts, note="signIn.onBlock" if stripped else None)
    for sku_id in sorted(inherited - set(wanted) - set(current)):
        name = ctx.live.skus[sku_id].part_number if sku_id in ctx.live.skus else sku_id
        ctx.note(user, "license", name, "assigned through a group: not manageable here")


def _value(sku: Any, plans: list[str] | None) -> dict[str, Any]:
    """`{"sku": part number, "disabledPlans": [plan names]}` (no list when none)."""
    if not plans:
        return {"sku": sku.part_number}
    names = {plan_id: name for name, plan_id in sku.plans.items()}
    return {"sku": sku.part_number, "disabledPlans": sorted(names.get(p, p) for p in plans)}


def _show(value: dict[str, Any]) -> str:
    disabled = value.get("disabledPlans")
    return f"{value['sku']} (disabled: {', '.join(disabled)})" if disabled else value["sku"]


def finish(ctx: PlanContext) -> None:
    """Seats: every add of a SKU in this plan must fit its free seats."""
    for sku_id, takers in sorted(ctx.seats.items()):
        sku = ctx.live.skus[sku_id]
        rest = f"{sku_id}:{len(takers)}"
        ctx.plan.facts[f"seats:{rest}"] = fingerprint(_seats_free(ctx.live, rest))
        if len(takers) > sku.free:
            user, path = takers[0]
            ctx.error(user, (*path, "sku"),
                      f"{sku.part_number} needs {len(takers)} seats in this plan, "
                      f"{max(sku.free, 0)} are free ({sku.enabled} enabled, {sku.consumed} "
                      "assigned)")


def _landed(ctx: ApplyContext, user_id: str, add: list[dict], remove: list[str]) -> bool:
    current = ctx.graph.get(api.get_user(user_id, "assignedLicenses").path)
    held = {a["skuId"]: sorted(a.get("disabledPlans") or [])
            for a in current.get("assignedLicenses") or []}
    return all(held.get(a["skuId"]) == sorted(a["disabledPlans"]) for a in add) and \
        not any(sku_id in held for sku_id in remove)


def apply_licenses(ctx: ApplyContext, changes: list[Change]) -> None:
    by_user = ctx.by_user(changes)
    writes = []
    for upn, user_changes in sorted(by_user.items()):
        user_id = ctx.user_id(upn)
        add = [{"skuId": c.apply["skuId"], "disabledPlans": c.apply["disabledPlans"]}
               for c in user_changes if c.op != "remove"]
        remove = [c.apply["skuId"] for c in user_changes if c.op == "remove"]
        writes.append(Write(user_changes, api.assign_license(user_id, add, remove),
                            recheck=lambda u=user_id, a=add, r=remove: _landed(ctx, u, a, r)))
    ctx.send_batched(writes)


def _seats_free(live: LiveState, rest: str) -> bool:
    """`<sku id>:<needed>`: whether the SKU still has that many free seats."""
    sku_id, _, needed = rest.partition(":")
    sku = live.skus.get(sku_id)
    return sku is not None and sku.free >= int(needed)


def relations(user: DesiredUser, current: LiveUser, _live: LiveState) -> int:
    return len(current.licenses) if _managed(user) else 0


def import_user(user: LiveUser, state: LiveState) -> dict[str, Any]:
    out = []
    for sku_id, disabled in sorted(user.licenses.items()):
        sku = state.skus.get(sku_id)
        if sku is None:
            continue
        entry: dict[str, Any] = {"sku": sku.part_number}
        names = {plan_id: name for name, plan_id in sku.plans.items()}
        if disabled:
            entry["disabledPlans"] = sorted(names.get(p, p) for p in disabled)
        out.append(entry)
    return {"licenses": sorted(out, key=lambda e: e["sku"])} if out else {}


def _audited(record: dict[str, Any], _change: Change, user_id: str) -> bool:
    activity = str(record.get("activityDisplayName") or "").lower()
    return activity == "change user license" and any(
        t.get("id") == user_id for t in record.get("targetResources") or [])


def _is_removal(change: Change) -> bool:
    return change.op == "remove"


AREA = Area(
    name="licenses",
    keys=("licenses",),
    kinds=(Kind("license", 70, label="license", heading="licenses", relation=True,
                privileged=_is_removal, show=_show),),
    facts={"licenses": of_user(lambda user, _live, _detail: sorted(
               (k, sorted(v)) for k, v in user.licenses.items()), "licenses"),
           "seats": FactKind(_seats_free,
                             lambda rest, _subject: f"free seats of SKU {rest.split(':')[0]}")},
    reads=reads,
    diff=diff,
    steps=(Step("licenses", ("license",), ("add", "change", "remove"), apply_licenses),),
    relations=relations,
    import_user=import_user,
    import_reads=(SKUS,),
    audit=DirectoryAudit(_audited),
    finish=finish,
)
