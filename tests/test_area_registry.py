"""The area registry: every area declares every hook, and nothing is declared twice."""

from __future__ import annotations

import dataclasses

import pytest

from reconciler.apply.phases import PHASE_NAMES
from reconciler.areas import Area, DirectoryAudit, ExchangeAudit, Nothing
from reconciler.areas.registry import AREAS, kind, kinds, planning_order
from reconciler.live.reads import Read, ordered
from reconciler.plan.change import Change
from tests.tenancy import make_tenant, plan_of

REQUIRED = ("name", "keys", "kinds", "facts", "reads", "diff", "steps", "relations",
            "import_user", "audit")


@pytest.mark.parametrize("area", AREAS, ids=lambda a: a.name)
def test_every_area_fills_every_required_hook(area: Area):
    fields = {f.name for f in dataclasses.fields(Area)}
    assert set(REQUIRED) <= fields
    for hook in REQUIRED:
        value = getattr(area, hook)
        assert value, f"area {area.name} leaves {hook} empty"
    assert isinstance(area.audit, DirectoryAudit | ExchangeAudit | Nothing)
    for optional in (area.import_user, area.audit):
        if isinstance(optional, Nothing):
            assert optional.why.strip(), f"area {area.name}: say why a hook is left out"
    for step in area.steps:
        assert step.phase in PHASE_NAMES, f"{area.name}: unknown phase {step.phase!r}"
        assert set(step.kinds) <= {k.name for k in area.kinds}, \
            f"{area.name}: a step takes a kind the area does not declare"
    for declared in area.kinds:
        assert declared.label and (declared.heading or declared.name == "user")
        assert any(declared.name in step.kinds for step in area.steps), \
            f"{area.name}: no apply step takes {declared.name}"


def test_names_keys_kinds_ranks_and_facts_are_declared_once():
    for attribute in ("name",):
        names = [getattr(a, attribute) for a in AREAS]
        assert len(names) == len(set(names))
    keys = [k for a in AREAS for k in a.keys]
    assert len(keys) == len(set(keys))
    declared = [k for a in AREAS for k in a.kinds]
    assert len({k.name for k in declared}) == len(declared)
    assert len({k.rank for k in declared}) == len(declared)
    facts = [f for a in AREAS for f in a.facts]
    assert len(facts) == len(set(facts))


def test_planning_order_follows_plans_after_only():
    order = [a.name for a in planning_order()]
    assert sorted(order) == sorted(a.name for a in AREAS)
    for area in AREAS:
        for earlier in area.plans_after:
            assert order.index(earlier) < order.index(area.name)


def test_an_unknown_kind_fails_loudly():
    with pytest.raises(KeyError, match="no area declares the change kind 'teleport'"):
        kind("teleport")
    from reconciler.render.lines import change_lines

    with pytest.raises(KeyError):
        change_lines(Change("a@contoso.com", "teleport", "add", "x"))


def test_every_change_of_an_existing_user_names_a_fact_of_its_area(tmp_path):
    """A saved plan must be refused when any change's basis moved: so every change on a
    live user depends on at least one fact, declared by an area."""
    folder = make_tenant(tmp_path, {
        "alice": "userPrincipalName: alice@contoso.com\nprofile: {jobTitle: Lead}\n"
                 "manager: carol@contoso.com\ngroups: [Oncall]\ndirectoryRoles: "
                 "[Helpdesk Administrator]\nextensionAttributes: {extensionAttribute1: x}\n"
                 "authentication: {phoneMethods: {mobile: +1 425 555 0100}}\n"
                 "actions: [{id: r1, do: revokeSessions}]\n"})
    plan = plan_of(folder)
    assert {c.kind for c in plan.changes} >= {"profile", "manager", "group", "directoryRole",
                                                "extensionAttribute", "phoneMethod", "action"}
    declared = {name for area in AREAS for name in area.facts}
    for change in plan.changes:
        assert change.facts, f"{change.kind} {change.target} names no fact"
        assert {f.split(":")[0] for f in change.facts} <= declared
    assert set(kinds()) >= {c.kind for c in plan.changes}


@pytest.mark.parametrize("area", AREAS, ids=lambda a: a.name)
def test_an_area_that_imports_names_the_reads_its_import_needs(area: Area):
    """An import reads only what the areas' `import_reads` name: an area whose
    `import_user` is a function and names no read would import empty values."""
    if isinstance(area.import_user, Nothing):
        assert area.import_reads == ()
    elif area.name != "profile":  # profile fields come with the users listing, always read
        assert area.import_reads, f"area {area.name}: name the reads its import needs"
    assert all(isinstance(read, Read) for read in area.import_reads)


def test_every_read_the_areas_import_with_has_its_own_key():
    ordered([read for area in AREAS for read in area.import_reads])  # raises on a clash
