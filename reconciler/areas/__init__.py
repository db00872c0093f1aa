"""One module per YAML key an area owns: what it reads, how it diffs, how it applies.

Each module exposes KEYS (the YAML keys it owns), `needs(user)` (live reads it wants),
`diff(ctx, user, live)` (pure: adds changes, errors and notes to the plan) and STEPS (its
apply steps, each with a phase that fixes the order across areas).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.plan.change import Change


@dataclass(frozen=True)
class Step:
    phase: int
    kinds: tuple[str, ...]
    ops: tuple[str, ...]
    run: Callable[[ApplyContext, list[Change]], None]
    accept: Callable[[Change], bool] | None = None  # a finer choice than kind and op

    def takes(self, change: Change) -> bool:
        return change.kind in self.kinds and change.op in self.ops and (
            self.accept is None or self.accept(change))


def all_areas() -> list:
    """In planning order: later areas may look at what earlier ones planned."""
    from reconciler.areas import (
        actions,
        calendar,
        groups,
        licenses,
        mailbox,
        manager,
        phones,
        photo,
        profile,
        replies,
        roles,
        sign_in,
        user,
    )

    return [user, profile, sign_in, manager, licenses, photo, groups, roles, mailbox, replies,
            calendar, phones, actions]
