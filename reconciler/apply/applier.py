"""Carrying out a plan: every area's steps in the order of the phase table
(`apply/phases.py`), each change's outcome recorded."""

from __future__ import annotations

from collections import Counter

from reconciler.apply.context import ApplyContext, Outcome
from reconciler.areas.registry import steps
from reconciler.plan.change import Change


def apply_changes(ctx: ApplyContext, changes: list[Change]) -> list[Outcome]:
    for step in steps():
        chosen = [c for c in changes if step.takes(c)]
        if chosen:
            ctx.progress(f"apply: {'/'.join(step.kinds)} {'/'.join(step.ops)} count={len(chosen)}")
            step.run(ctx, chosen)
    return ctx.outcomes


def tally(outcomes: list[Outcome]) -> Counter[str]:
    return Counter(o.status for o in outcomes)
