"""Carrying out a plan: every area's steps in phase order, each change's outcome recorded."""

from __future__ import annotations

from collections import Counter

from reconciler.apply.context import ApplyContext, Outcome
from reconciler.areas import Step, all_areas
from reconciler.plan.change import Change


def steps() -> list[Step]:
    """Create user, profile, manager, licenses (usage location first), photo, group adds,
    role adds, removals, delete last."""
    return sorted((s for area in all_areas() for s in area.STEPS), key=lambda s: s.phase)


def apply_changes(ctx: ApplyContext, changes: list[Change]) -> list[Outcome]:
    for step in steps():
        chosen = [c for c in changes if step.takes(c)]
        if chosen:
            ctx.progress(f"apply: {'/'.join(step.kinds)} {'/'.join(step.ops)} count={len(chosen)}")
            step.run(ctx, chosen)
    return ctx.outcomes


def tally(outcomes: list[Outcome]) -> Counter[str]:
    return Counter(o.status for o in outcomes)
