"""Areas: one module per YAML key, each declaring everything the pipeline knows about it.

An area module ends with one value, `AREA = Area(...)`, and `areas/registry.py` lists
every `AREA` once. The planner, the applier, the limits, the renderers, the reader, the
importer and drift attribution iterate the registry; none of them knows an area by name.
`tests/test_area_registry.py` fails when an area leaves a required hook empty.

The hooks, as rules an area must follow (in the spirit of octoDNS's provider hooks):

`name`
    A short identifier (`"groups"`), unique in the registry. Other areas name it in
    `plans_after`.
`keys`
    The YAML keys (dotted for a part of one, `mailbox.automaticReplies`) the area owns.
    Two areas never own the same key.
`kinds`
    Every `Change.kind` the area emits, each a `Kind` (below). An area emits no kind it
    does not declare, and no other area declares the same kind.
`facts`
    `{fact kind: FactKind}`: for each fact key prefix the area's changes name, how to read
    its live value from a `LiveState` and how to say it to a reviewer. Every change an area
    plans against an existing user names at least one fact, so a saved plan is refused
    when an out-of-band edit touches what the change depends on. Reading a fact must be
    pure and cheap (it runs for every fact at plan and at apply time) and must return
    None when the object is gone.
`reads(user)`
    The live reads (`live.reads.Read` objects, or `read.about(ref)` for a read about one
    named thing) planning this user needs. Pure; returns an empty set when the user's file
    does not manage the area. Must name everything `diff` and the area's facts look at: an
    unread collection is an empty one. A read only this area uses is declared in the
    area's module (a `Read` with its own `run`, or a `UserGet` the reader batches with the
    others); one several areas share lives in `live/` (directory, mailboxes, calendars,
    workplace). The reader runs whatever is asked, with what each read `needs`; nothing
    lists the reads centrally.
`diff(ctx, user, live)`
    Adds changes, errors, notes, warnings and scheduled entries to `ctx.plan` through
    `ctx.add`, `ctx.error`, `ctx.note`. Pure: no I/O, time only from `ctx.now`. Must not
    plan for keys the user's file does not manage (`user.manages(key)`). May read what
    areas named in `plans_after` have planned, and nothing else of the plan.
`finish(ctx)` (optional)
    Runs once after every area has diffed every user: plan-wide checks (seats, the last
    Global Administrator). Adds errors or facts; never adds changes.
`plans_after`
    Names of the areas whose planned changes `diff` reads (ctx.creating, planned license
    adds...). The registry orders planning by these, nothing else.
`steps`
    Apply steps, each naming its phase in `apply/phases.py` (`PHASES`). A step's `run`
    records exactly one outcome per change it is given (through `ctx.send`,
    `ctx.send_batched` or `ctx.record`), never raises for a failed write, and skips
    changes of users whose creation failed (`ctx.runnable`).
`relations(user, current, live)`
    How many managed relations this user has in the area (for the removal limit:
    removals are judged as a share of what is managed). `NO_RELATIONS` when the area
    holds values, not relations.
`import_user(user, state)`
    The part of the user's YAML document this area writes on `reconciler import`, as
    `{top-level key: value}`; empty when the live user has nothing to say there. Must
    round-trip: a plan right after an import plans nothing for the area. `Nothing(why)`
    when the area cannot be read back from the tenant.
`import_reads`
    The reads `import_user` (and the plan an import checks itself with) needs; per-user
    reads are made for every imported user. Empty when `import_user` is `Nothing`.
`import_hints(documents)` (optional)
    What an import must read about that the tenant cannot list per user, found in the
    folder's user files (`documents`: parsed YAML, unvalidated: skip what is malformed),
    as `read.about(ref)` asks (the SharePoint sites the files already name).
`schema` (optional)
    `{top-level key: JSON Schema}`: the area's part of the user schema, merged into
    `schemas/user.schema.json` when it is loaded, for a key the published file does not
    describe. A shipped area writes its part in that file instead (editors read the
    file, and tenant.yaml `defaults` refer to it); two owners of one key are an error.
`tenant_reads(config)` and `plan_tenant(ctx)` (optional, together)
    For an area of tenant.yaml rather than of user files (`settings`): the reads planning
    the tenant's section needs, and the diff that plans it. `plan_tenant` adds changes
    through `ctx.add_tenant` (their subject is `TENANT`, listed before every user) and runs
    only when the whole tenant is planned (no `--user`). Same purity rules as `diff`.
`audit`
    How drift in the area is attributed: `DirectoryAudit(match)` (Entra directory audit
    records), `ExchangeAudit(cmdlet)` (Exchange's admin audit), or `Nothing(why)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser, TenantConfig
    from reconciler.live.reads import Ask, Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext
    from reconciler.plan.facts import FactKind


@dataclass(frozen=True)
class Nothing:
    """An optional hook deliberately left out, with the reason (said in docs and tests)."""

    why: str

    def __bool__(self) -> bool:
        return True  # declared: not an empty hook


@dataclass(frozen=True)
class Kind:
    """One kind of change: where it sorts, how it is labelled, what it weighs.

    `rank` orders kinds within a user's changes (unique across the registry); `order`
    orders changes of one kind (default: by target). `label` is what a change line starts
    with (`group`, or `profile.` + the target when `label_target` is true); `heading` is
    the section a text plan lists it under (`heading_of(target)` when it depends on the
    target; None: no heading). `quoted`: before/after are values shown quoted, not names.
    `privileged(change)`: shown first to reviewers. `relation`: a removal counts toward
    the removal limit. `fields(change)`: a change shown as one line per field
    (`[(label, value)]`, e.g. a created user), or None to show it on one line.
    `show(value)`: how a person reads one of the kind's structured before/after values
    (`{"sku": "SPE_E3", "disabledPlans": ["SWAY"]}` -> `SPE_E3 (disabled: SWAY)`); None
    when values are plain names or scalars. Plan values are data: an area never puts
    display text into before/after.
    """

    name: str
    rank: int
    label: str
    heading: str | None
    quoted: bool = False
    label_target: bool = False
    relation: bool = False
    privileged: Callable[[Change], bool] = lambda _change: False
    order: Callable[[Change], int] = lambda _change: 0
    heading_of: Callable[[str], str] | None = None
    fields: Callable[[Change], list[tuple[str, Any]] | None] = lambda _change: None
    show: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class Step:
    """One apply step: the changes it takes (kinds, ops, an optional finer test) and the
    phase (a name in `apply/phases.py`) that fixes when it runs."""

    phase: str
    kinds: tuple[str, ...]
    ops: tuple[str, ...]
    run: Callable[[ApplyContext, list[Change]], None]
    accept: Callable[[Change], bool] | None = None  # a finer choice than kind and op

    def takes(self, change: Change) -> bool:
        return change.kind in self.kinds and change.op in self.ops and (
            self.accept is None or self.accept(change))


@dataclass(frozen=True)
class DirectoryAudit:
    """Drift attributed from Entra's directory audit: `match(record, change, user_id)`."""

    match: Callable[[dict[str, Any], Change, str], bool]


@dataclass(frozen=True)
class ExchangeAudit:
    """Drift attributed from Exchange's admin audit: the cmdlet that explains a change
    (None: none does), and every cmdlet the area asks the audit for."""

    cmdlet: Callable[[Change], str | None]
    cmdlets: tuple[str, ...]


Relations = Callable[["DesiredUser", "LiveUser", "LiveState"], int]
Importer = Callable[["LiveUser", "LiveState"], dict[str, Any]]


def _no_relations(_user: DesiredUser, _current: LiveUser, _live: LiveState) -> int:
    return 0


NO_RELATIONS: Relations = _no_relations


@dataclass(frozen=True)
class Area:
    """Everything the pipeline knows about one area (the rules are in this package's
    docstring)."""

    name: str
    keys: tuple[str, ...]
    kinds: tuple[Kind, ...]
    facts: Mapping[str, FactKind]
    reads: Callable[[DesiredUser], set[Read | Ask]]
    diff: Callable[[PlanContext, DesiredUser, LiveUser | None], None]
    steps: tuple[Step, ...]
    relations: Relations
    import_user: Importer | Nothing
    audit: DirectoryAudit | ExchangeAudit | Nothing
    plans_after: tuple[str, ...] = ()
    finish: Callable[[PlanContext], None] | None = None
    tenant_reads: Callable[[TenantConfig], set[Read | Ask]] | None = None
    import_reads: tuple[Read, ...] = ()
    import_hints: Callable[[list[Any]], set[Ask]] | None = None
    schema: Mapping[str, Any] | None = None
    plan_tenant: Callable[[PlanContext], None] | None = None
