"""The pipeline: load, read, plan, check limits; apply re-reads and carries out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler import clock
from reconciler.apply.applier import apply_changes
from reconciler.apply.context import ApplyContext
from reconciler.apply.stale import moved_facts
from reconciler.apply.trail import append_trail
from reconciler.desired.loader import load_tenant_or_raise
from reconciler.desired.model import DesiredTenant
from reconciler.desired.problems import InputError
from reconciler.graph.connect import Connection, connect
from reconciler.live.reader import read_live
from reconciler.live.state import LiveState
from reconciler.plan.change import Plan
from reconciler.plan.limits import check_limits
from reconciler.plan.planner import live_needs, make_plan, selected

Progress = Callable[[str], None]


class StalePlanError(RuntimeError):
    """The tenant moved underneath a saved plan."""


@dataclass
class PlanRun:
    desired: DesiredTenant
    connection: Connection
    live: LiveState
    plan: Plan


def read_for(desired: DesiredTenant, connection: Connection, upns: list[str],
             progress: Progress) -> LiveState:
    wanted = set(upns)
    users = [u for u in desired.users if u.upn in wanted] if upns else desired.users
    needs, per_user = live_needs(users)
    return read_live(connection.graph, needs, per_user, exchange=connection.exchange,
                     progress=progress)


def run_plan(folder: Path, only: tuple[str, ...] = (), *, writable: bool = False,
             progress: Progress = lambda _m: None) -> PlanRun:
    """Plan the tenant in `folder`; the connection stays open for an apply to follow."""
    desired = load_tenant_or_raise(folder)
    users = selected(desired, only)
    missing = sorted({u.lower() for u in only} - {u.upn.lower() for u in users})
    if missing:
        source = desired.config.source
        raise InputError([source.problem((), f"--user {upn}: no file in {folder}/users "
                                             "describes this user") for upn in missing])
    connection = connect(desired.config, read_only=True)
    live = read_for(desired, connection, [u.upn for u in users], progress)
    plan = make_plan(desired, live, clock.now(), users)
    plan.refusals = check_limits(plan, desired, live)
    if writable:
        connection.graph.read_only = False
        connection.exchange.read_only = False
    return PlanRun(desired, connection, live, plan)


def run_apply(run: PlanRun, progress: Progress = lambda _m: None) -> ApplyContext:
    """Carry out `run.plan` against the live state it was made from; the context holds
    each change's outcome and any generated passwords."""
    config = run.desired.config
    ctx = ApplyContext(run.connection.graph, run.connection.exchange, run.live,
                       config.folder, progress)
    try:
        apply_changes(ctx, run.plan.changes)
    finally:  # a run stopped halfway still records what it did
        append_trail(config.audit_file, ctx.outcomes, config.domain, clock.now(),
                     config.folder)
    return ctx


def apply_saved(folder: Path, plan: Plan, progress: Progress = lambda _m: None
                ) -> tuple[PlanRun, ApplyContext]:
    """Apply a saved plan, refusing when a fact it depends on has moved."""
    desired = load_tenant_or_raise(folder)
    if plan.tenant.lower() != desired.config.domain.lower():
        raise StalePlanError(f"the plan is for {plan.tenant}, this folder is "
                             f"{desired.config.domain}")
    connection = connect(desired.config, read_only=False)
    live = read_for(desired, connection, plan.users, progress)
    moved = moved_facts(plan, live)
    if moved:
        connection.close()
        raise StalePlanError("the tenant changed since the plan was made: " + "; ".join(moved))
    run = PlanRun(desired, connection, live, plan)
    return run, run_apply(run, progress)
