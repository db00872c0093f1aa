"""Phone sign-in methods: mobile, alternateMobile, office. Mobile is added before the
alternate and removed after it, as Entra requires."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import Area, Kind, Nothing, Step
from reconciler.graph import requests as api
from reconciler.live.directory import PHONES
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

TYPES = ("mobile", "alternateMobile", "office")
METHOD_IDS = {"mobile": "3179e48a-750b-4051-897c-87b9720928f7",
              "alternateMobile": "b6332ec1-7057-4abe-9331-3d72feddfe41",
              "office": "e37fc753-ff3b-4958-9484-eaa9425c82bc"}


def reads(user: DesiredUser) -> set[Read]:
    return {PHONES} if user.phone_methods else set()


def graph_number(number: str) -> str:
    """`+1 425 555 0101` -> `+1 4255550101` (Graph's `+{country} {number}x{ext}`)."""
    found = re.match(r"^\+(\d{1,3}) ?([\d ]+?)(x\d+)?$", number.strip())
    if not found:
        return number
    country, rest, extension = found.groups()
    return f"+{country} {rest.replace(' ', '')}{extension or ''}"


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if not user.phone_methods:
        return
    current = {t: m["phoneNumber"] for t, m in ((live.phones or {}) if live else {}).items()}
    remaining = dict(current)
    for kind in TYPES:
        if kind not in user.phone_methods:
            continue
        desired = user.phone_methods[kind]
        wanted = graph_number(desired) if desired else None
        have = current.get(kind)
        if (wanted or None) == (graph_number(have) if have else None):
            ctx.unchanged(user)
            continue
        op = "add" if have is None else "remove" if wanted is None else "change"
        ctx.add(user, "phoneMethod", op, kind, have, wanted,
                apply={"type": kind, "number": wanted},
                facts=[f"phones:{live.id}"] if live else [])
        if wanted is None:
            remaining.pop(kind, None)
        else:
            remaining[kind] = wanted
    asked = all(k in user.phone_methods and user.phone_methods[k] is None for k in TYPES)
    if live is not None and current and not remaining and not (live.methods or asked):
        ctx.plan.warnings.append(f"{user.upn}: this plan leaves no phone sign-in method and "
                                 "no other method; set every phoneMethods type to null if "
                                 "that is meant")


def apply_phones(ctx: ApplyContext, changes: list[Change]) -> None:
    """Per user in order (mobile first when adding, last when removing)."""
    by_user = ctx.by_user(changes)

    def run(user_changes: list[Change]) -> None:
        user_id = ctx.user_id(user_changes[0].user)
        ordered = sorted(user_changes, key=lambda c: TYPES.index(c.target))
        if all(c.op == "remove" for c in ordered):
            ordered.reverse()
        for change in ordered:
            kind, number = change.apply["type"], change.apply["number"]
            if change.op == "add":
                request = api.add_phone_method(user_id, kind, number)
            elif change.op == "change":
                request = api.update_phone_method(user_id, METHOD_IDS[kind], number)
            else:
                request = api.remove_phone_method(user_id, METHOD_IDS[kind])
            removing = change.op == "remove"
            ctx.send(Write([change], request,
                           recheck=None if removing else
                           lambda k=kind, n=number: _has(ctx, user_id, k, n),
                           already=lambda e, r=removing: r and e.status == 404))

    ctx.graph.map(run, list(by_user.values()))


def _has(ctx: ApplyContext, user_id: str, kind: str, number: str) -> bool:
    """After a lost reply: does the user now have this phone method with this number?"""
    found = ctx.graph.get_or_none(f"/users/{user_id}/authentication/phoneMethods/"
                                  f"{METHOD_IDS[kind]}")
    return bool(found) and found.get("phoneNumber") == number


def _numbers(user: LiveUser, _live: LiveState, _detail: str) -> Any:
    return sorted((t, m.get("phoneNumber")) for t, m in (user.phones or {}).items())


def relations(_user: DesiredUser, current: LiveUser, _live: LiveState) -> int:
    return len(current.phones or {})


def import_user(user: LiveUser, _state: LiveState) -> dict[str, Any]:
    phones = {t: m["phoneNumber"] for t, m in (user.phones or {}).items() if t in TYPES}
    if not phones:
        return {}
    return {"authentication": {"phoneMethods": {t: phones[t] for t in TYPES if t in phones}}}


def _type_order(change: Change) -> int:
    return TYPES.index(change.target) if change.target in TYPES else len(TYPES)


AREA = Area(
    name="phones",
    keys=("authentication.phoneMethods",),
    kinds=(Kind("phoneMethod", 130, label="phoneMethods", label_target=True,
                heading="phone methods", quoted=True, relation=True, order=_type_order,
                privileged=lambda _change: True),),  # authentication methods
    facts={"phones": of_user(_numbers, "phone methods")},
    reads=reads,
    diff=diff,
    steps=(Step("phone adds", ("phoneMethod",), ("add", "change"), apply_phones),
           Step("phone removals", ("phoneMethod",), ("remove",), apply_phones)),
    relations=relations,
    import_user=import_user,
    import_reads=(PHONES,),
    audit=Nothing("authentication method changes are not matched to audits yet"),
)
