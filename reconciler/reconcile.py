"""The pipeline: load, read, plan, check limits; apply re-reads and carries out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from reconciler import clock
from reconciler.apply.applier import apply_changes
from reconciler.apply.context import ApplyContext
from reconciler.apply.lock import lock_tenant
from reconciler.apply.secrets import Secrets, makes_secret
from reconciler.apply.stale import listing, moved_facts, protected_changes, unplanned_changes
from reconciler.apply.trail import Trail
from reconciler.areas import DirectoryAudit, ExchangeAudit, registry
from reconciler.areas.registry import reads_for
from reconciler.bulk import collector_paused, new_objects_collected
from reconciler.desired.loader import load_tenant_or_raise
from reconciler.desired.model import DesiredTenant, DesiredUser
from reconciler.desired.parsed import cache_dir
from reconciler.desired.problems import InputError
from reconciler.graph.connect import Connection, connect
from reconciler.live.audits import read_audits, read_exchange_audits, who
from reconciler.live.cache import DeltaCache
from reconciler.live.reader import read_live
from reconciler.live.state import LiveState
from reconciler.plan import unmanaged
from reconciler.plan.change import TENANT, Change, Plan
from reconciler.plan.limits import check_limits
from reconciler.plan.planner import make_plan, selected
from reconciler.plan.protected import guard
from reconciler.plan.waiting import key_of, waiting_for_apply

Progress = Callable[[str], None]


class StalePlanError(RuntimeError):
    """The tenant moved underneath a saved plan."""


@dataclass
class PlanRun:
    desired: DesiredTenant
    connection: Connection
    live: LiveState
    plan: Plan


@new_objects_collected()
def read_for(desired: DesiredTenant, connection: Connection, upns: list[str],
             progress: Progress, *, tenant: bool = True, fresh: bool = False) -> LiveState:
    """What planning these users needs; with `tenant`, also tenant.yaml's own sections.
    `fresh` (a run that writes): read cold, neither reading nor writing the delta cache, so
    whoever can write the cache directory cannot hide drift from, or widen a limit's
    denominator for, a run that changes the tenant."""
    wanted = set(upns)
    users = [u for u in desired.users if u.upn in wanted] if upns else desired.users
    anchors = {u.upn.lower(): u.id for u in users if u.id}
    config = desired.config
    where = None if fresh else cache_dir(config.folder, config.graph_url)
    cache = DeltaCache(where, config.tenant_id, config.graph_url)  # where None: keeps nothing
    reads = reads_for(users, config if tenant else None)
    if tenant and unmanaged.wanted(desired):
        unmanaged.add_reads(reads)
    return read_live(connection.graph, reads,
                     exchange=connection.exchange, sharepoint=connection.sharepoint,
                     progress=progress, anchors=anchors, cache=cache)


@collector_paused()
def run_plan(folder: Path, only: tuple[str, ...] = (), *, writable: bool = False,
             progress: Progress = lambda _m: None) -> PlanRun:
    """Plan the tenant in `folder`; the connection stays open for an apply to follow.
    `writable` (an apply follows): the files are parsed afresh, never taken from the
    parsed-files cache (desired/parsed.py)."""
    desired = load_tenant_or_raise(folder, reuse=not writable)
    users = selected(desired, only)
    missing = sorted({u.lower() for u in only} - {u.upn.lower() for u in users})
    if missing:
        source = desired.config.source
        raise InputError([source.problem((), f"--user {upn}: no file in {folder}/users "
                                             "describes this user") for upn in missing])
    connection = connect(desired.config, read_only=True, write_identity=writable)
    try:
        if writable:  # an apply follows: hold the tenant before reading what to change
            connection.graph.read_only = False
            connection.exchange.read_only = False
            if connection.sharepoint is not None:
                connection.sharepoint.read_only = False
            lock_tenant(connection, desired.config)
        live = read_for(desired, connection, [u.upn for u in users], progress,
                        tenant=not only, fresh=writable)
        plan = judged_plan(desired, live, users, tenant=not only)
        if not only and unmanaged.wanted(desired):
            plan.unmanaged = unmanaged.unmanaged(desired, live)
    except BaseException:
        connection.close()
        raise
    return PlanRun(desired, connection, live, plan)


@collector_paused()
def judged_plan(desired: DesiredTenant, live: LiveState, users: list[DesiredUser], *,
                tenant: bool = True) -> Plan:
    """A plan with its refusals: what `plan` shows and `apply --plan` re-judges against."""
    plan = make_plan(desired, live, clock.now(), users, tenant=tenant)
    guard(plan, desired)  # protected users: no password reset, method change, forwarding
    plan.refusals = check_limits(plan, desired, live)
    return plan


def run_apply(run: PlanRun, progress: Progress = lambda _m: None,
              secrets: Secrets | None = None) -> ApplyContext:
    """Carry out `run.plan` against the live state it was made from; the context holds
    each change's outcome. Generated secrets go to `secrets` before the request that sets
    them (without one, an action that would generate a secret stops before it starts)."""
    config = run.desired.config
    ctx = ApplyContext(run.connection.graph, run.connection.exchange, run.live,
                       config.folder, progress, sharepoint=run.connection.sharepoint,
                       secrets=secrets or Secrets())
    if run.connection.lock is not None:
        ctx.guard = run.connection.lock.check  # no write after the lock is lost
    if any(makes_secret(change) for change in run.plan.changes):
        ctx.secrets.open()  # made before anything is sent: one that cannot be stops all
    trail = Trail(config.audit_file, config.domain, config.folder, clock.now)
    ctx.on_outcome.append(trail.write)  # each outcome on disk as soon as it is known
    try:
        apply_changes(ctx, run.plan.changes)
    finally:
        trail.close()
    return ctx


def apply_saved(folder: Path, plan: Plan, progress: Progress = lambda _m: None,
                secrets: Secrets | None = None) -> tuple[PlanRun, ApplyContext]:
    """Apply a saved plan only if a fresh plan made now would make every change in it.

    Refused: a plan recorded as refused or in error, a change to a protected user that
    policy forbids, a fact the plan depends on that has moved, a fresh plan that is itself
    refused (errors, limits), or a saved change the fresh plan does not make.
    """
    desired = load_tenant_or_raise(folder, reuse=False)  # the files, never a cache of them
    config = desired.config
    if plan.tenant.lower() != config.domain.lower():
        raise StalePlanError(f"the plan is for {plan.tenant}, this folder is {config.domain}")
    if plan.errors or plan.refusals:
        reasons = [str(e) for e in plan.errors] + list(plan.refusals)
        raise StalePlanError("the plan was refused when it was made: " + "; ".join(reasons))
    guarded = protected_changes(plan, config.policy.protected_users)
    if guarded:
        raise StalePlanError(f"the plan changes a protected user (policy.protectedUsers in "
                             f"{config.source.file}): {listing(guarded)}")
    connection = connect(config, read_only=False)
    whole = any(c.user == TENANT for c in plan.changes)
    try:
        lock_tenant(connection, config)  # held before reading what to change
        live = read_for(desired, connection, plan.users, progress, tenant=whole, fresh=True)
        fresh = judged_plan(desired, live, selected(desired, tuple(plan.users)), tenant=whole)
        _judge_saved(plan, fresh, live)
    except BaseException:
        connection.close()
        raise
    run = PlanRun(desired, connection, live, plan)
    try:
        return run, run_apply(run, progress, secrets)
    except BaseException:
        connection.close()
        raise


def _found(change: Change, by: str, at: object, activity: object) -> dict:
    return {"user": change.user, "kind": change.kind, "target": change.target, "by": by,
            "at": at, "activity": activity}


def _ours(record: dict, own: set[str]) -> bool:
    """A directory audit record written by the reconciler's own app (read or write id)."""
    app = ((record.get("initiatedBy") or {}).get("app") or {})
    return str(app.get("appId") or "").lower() in own


def attribute_drift(run: PlanRun, now: datetime) -> list[dict]:
    """For each drifted change, who made it and when: the newest directory audit record
    its area matches to it, or the Exchange admin audit entry of the cmdlet its area names.
    Each log is read once, and only when some change could be found in it."""
    plan, live, config = run.plan, run.live, run.desired.config
    audit_of = {kind.name: area.audit for area in registry.AREAS for kind in area.kinds}
    found: list[dict] = []
    # git moved, not the tenant: the live value is what the last apply wrote
    plan.waiting = waiting_for_apply(plan, config.audit_file)
    pending = {key_of(w["user"], w["kind"], w["target"]) for w in plan.waiting}
    drifted = [c for c in plan.changes if key_of(c.user, c.kind, c.target) not in pending]
    own = {i.lower() for i in (config.client_id, config.write_client_id) if i}
    flagged = [e for e in plan.unmanaged if e["privileged"]]
    records = read_audits(run.connection.graph, now) if drifted or flagged else []
    found += unmanaged.attribute(flagged, [r for r in records if not _ours(r, own)], who)
    for change in drifted:
        audit = audit_of[change.kind]
        user = live.user_by_upn(change.user)
        if user is None or not isinstance(audit, DirectoryAudit):
            continue
        record = next((r for r in records if audit.match(r, change, user.id)), None)
        if record is not None and _ours(record, own):  # the directory's record of our apply
            plan.waiting.append({"user": change.user, "kind": change.kind,
                                 "target": change.target,
                                 "appliedAt": record.get("activityDateTime"), "commit": None})
        elif record is not None:
            found.append(_found(change, who(record), record.get("activityDateTime"),
                                record.get("activityDisplayName")))
    exchange = [c for c in drifted if isinstance(audit_of[c.kind], ExchangeAudit)]
    if exchange:
        cmdlets = {name for area in registry.AREAS if isinstance(area.audit, ExchangeAudit)
                   for name in area.audit.cmdlets}
        entries = read_exchange_audits(run.connection.exchange, now, cmdlets)
        for change in exchange:
            audit = audit_of[change.kind]
            assert isinstance(audit, ExchangeAudit)
            cmdlet = str(audit.cmdlet(change)).lower()
            entry = next((e for e in entries if str(e.get("CmdletName")).lower() == cmdlet and
                          str(e.get("ObjectModified") or "").lower() == change.user.lower()),
                         None)
            if entry is not None:
                found.append(_found(change, entry.get("Caller") or "unknown",
                                    entry.get("RunDate"), entry.get("CmdletName")))
    return found


def _judge_saved(saved: Plan, fresh: Plan, live: LiveState) -> None:
    moved = moved_facts(saved, live)
    if moved:
        raise StalePlanError("the tenant changed since the plan was made: " + "; ".join(moved))
    if fresh.errors or fresh.refusals:
        reasons = [str(e) for e in fresh.errors] + list(fresh.refusals)
        raise StalePlanError("a fresh plan made now is refused: " + "; ".join(reasons))
    extra = unplanned_changes(saved, fresh)
    if extra:
        raise StalePlanError(f"{len(extra)} saved change(s) are not what a fresh plan makes "
                             f"now: {listing(extra)}")


@dataclass
class DueRun:
    """What `drift --apply-due` may do: the changes whose schedule (from, until,
    signIn.blockAt) has come, as a plan of their own with their own limit refusals."""

    changes: list[Change]
    rest: int  # the other differences: drift to review in git
    allowed: bool  # policy.scheduled.applyDue
    plan: Plan


def due_run(run: PlanRun) -> DueRun:
    """The due part of a drift run; limits are judged on it alone (when allowed at all)."""
    due = [c for c in run.plan.changes if c.due]
    allowed = run.desired.config.policy.apply_due
    subset = replace(run.plan, changes=due, refusals=[])
    if allowed:
        subset.refusals = check_limits(subset, run.desired, run.live)
    return DueRun(due, len(run.plan.changes) - len(due), allowed, subset)


def apply_due(run: PlanRun, due: DueRun, progress: Progress = lambda _m: None,
              secrets: Secrets | None = None) -> ApplyContext:
    """Carry out only the due changes (the caller has checked `allowed` and refusals)."""
    return run_apply(replace(run, plan=due.plan), progress, secrets)
