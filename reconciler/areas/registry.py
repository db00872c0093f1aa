"""The registry: every area, listed once. Adding an area is one line in `AREAS`.

Everything the pipeline knows about areas is collected from here: kinds and their order,
what is privileged, fact kinds, reads, limits, import, audit matching and labels. The
order of `AREAS` carries no meaning: planning follows each area's `plans_after`, apply
follows the phase table (`apply/phases.py`), display follows each kind's `rank`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache

from reconciler.apply.phases import rank as phase_rank
from reconciler.areas import (
    Area,
    Kind,
    Step,
    actions,
    applications,
    authentication,
    calendar,
    devices,
    groups,
    licenses,
    mailbox,
    manager,
    phones,
    photo,
    profile,
    recipient,
    replies,
    roles,
    settings,
    sharepoint,
    sign_in,
    user,
)
from reconciler.desired import schema
from reconciler.desired.model import DesiredUser, TenantConfig
from reconciler.live.reads import Reads
from reconciler.plan.change import TENANT, Change, Note
from reconciler.plan.facts import FactKind

AREAS: tuple[Area, ...] = (
    user.AREA,
    profile.AREA,
    sign_in.AREA,
    manager.AREA,
    licenses.AREA,
    photo.AREA,
    groups.AREA,
    roles.AREA,
    mailbox.AREA,
    recipient.AREA,
    replies.AREA,
    calendar.AREA,
    phones.AREA,
    authentication.AREA,
    applications.AREA,
    devices.AREA,
    sharepoint.AREA,
    actions.AREA,
    settings.AREA,
)



def _declared() -> None:
    """Collect what is declared once from the areas (schema parts), and forget what was
    computed from an earlier registry."""
    parts: dict = {}
    for area in AREAS:
        for key, part in (area.schema or {}).items():
            if key in parts:
                raise ValueError(f"two areas declare the schema part {key!r}")
            parts[key] = part
    schema.set_parts("user", parts)
    for computed in (planning_order, kinds, fact_kinds):
        computed.cache_clear()


@contextmanager
def including(*extra: Area) -> Iterator[None]:
    """The registry with `extra` areas added, as if each had its line in `AREAS`, until
    the block ends (how a test registers an area of its own)."""
    global AREAS
    saved = AREAS
    AREAS = (*saved, *extra)
    _declared()
    try:
        yield
    finally:
        AREAS = saved
        _declared()


@cache
def planning_order() -> tuple[Area, ...]:
    """Areas ordered so each plans after the areas named in its `plans_after`."""
    by_name = {area.name: area for area in AREAS}
    done: list[Area] = []

    def visit(area: Area, path: tuple[str, ...]) -> None:
        if area in done:
            return
        if area.name in path:
            raise ValueError(f"plans_after cycle: {' -> '.join((*path, area.name))}")
        for name in area.plans_after:
            visit(by_name[name], (*path, area.name))
        done.append(area)

    for area in AREAS:
        visit(area, ())
    return tuple(done)


@cache
def kinds() -> dict[str, Kind]:
    return {kind.name: kind for area in AREAS for kind in area.kinds}


def kind(name: str) -> Kind:
    """The declaration of a change kind; a kind no area declares is a programming error."""
    try:
        return kinds()[name]
    except KeyError:
        raise KeyError(f"no area declares the change kind {name!r}") from None


@cache
def fact_kinds() -> dict[str, FactKind]:
    return {name: fact for area in AREAS for name, fact in area.facts.items()}


def steps() -> list[Step]:
    """Every area's apply steps in phase order (registry order within a phase)."""
    return sorted((step for area in AREAS for step in area.steps),
                  key=lambda step: phase_rank(step.phase))


def privileged(change: Change) -> bool:
    """Shown first to reviewers (each kind says which of its changes are)."""
    return kind(change.kind).privileged(change) or bool(change.apply.get("protected"))


def change_order(change: Change) -> tuple:
    """The tenant's own settings first, users by UPN, then kinds by rank, then each kind's
    own order, then target."""
    declared = kind(change.kind)
    return (change.user != TENANT, change.user.lower(), declared.rank, declared.order(change),
            str(change.target))


def note_order(note: Note) -> tuple:
    return (note.user.lower(), kind(note.kind).rank, note.target)


def reads_for(users: Iterable[DesiredUser], config: TenantConfig | None = None) -> Reads:
    """What planning these users (and, given `config`, the tenant's own section) needs."""
    reads = Reads()
    for area in AREAS:
        if config is not None and area.tenant_reads is not None:
            for read in area.tenant_reads(config):
                reads.add(read, "")
    for desired in users:
        for area in AREAS:
            for read in area.reads(desired):
                reads.add(read, desired.upn)
    return reads


_declared()
