"""Photos both ways, and an apply that stops halfway being finished by the next one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.areas import groups, registry
from reconciler.reconcile import run_apply, run_plan
from tests.tenancy import cli_run, make_tenant, oid, plan_of, store

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
GIF = b"GIF89a" + b"\x01" * 64


def test_a_photo_is_uploaded_changed_and_removed(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "photo: photos/alice.png\n"},
                         files={"photos/alice.png": PNG})
    plan = plan_of(folder)
    assert [(c.kind, c.op) for c in plan.changes] == [("photo", "add")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    alice = oid("alice@contoso.com")
    assert store(folder).blob(alice, "photo") == ("image/png", PNG)
    assert plan_of(folder).changes == []
    (folder / "photos" / "alice.png").write_bytes(GIF)  # same name, new picture (a GIF)
    assert [(c.kind, c.op) for c in plan_of(folder).changes] == [("photo", "change")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert store(folder).blob(alice, "photo") == ("image/gif", GIF)
    (folder / "users" / "alice.yaml").write_text("userPrincipalName: alice@contoso.com\n"
                                                 "photo: null\n")
    assert [(c.kind, c.op) for c in plan_of(folder).changes] == [("photo", "remove")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert store(folder).blob(alice, "photo") is None
    assert plan_of(folder).changes == []


class Crash(Exception):
    pass


def test_an_apply_that_stops_halfway_is_finished_by_the_next(tmp_path, monkeypatch):
    folder = make_tenant(tmp_path, {
        "alice": "userPrincipalName: alice@contoso.com\nprofile: {jobTitle: Lead}\n"
                 "groups: [Engineering, Staff, Approvers, Oncall]\n",
        "gina": "userPrincipalName: gina@contoso.com\nprofile: {displayName: Gina}\n"
                "groups: [Engineering]\n"})

    def crash(ctx, changes):
        raise Crash("the runner was killed")

    adds, removals = groups.AREA.steps
    crashing = replace(groups.AREA, steps=(replace(adds, run=crash), removals))
    monkeypatch.setattr(registry, "AREAS", tuple(crashing if a is groups.AREA else a
                                                 for a in registry.AREAS))
    run = run_plan(folder, writable=True)
    with pytest.raises(Crash):
        run_apply(run)
    run.connection.close()
    db = store(folder)
    assert db.user_id_by_upn("gina@contoso.com")  # created before the crash
    assert not db.is_member(oid("group:Oncall"), oid("alice@contoso.com"))
    monkeypatch.undo()
    remaining = plan_of(folder)
    assert sorted((c.user, c.kind) for c in remaining.changes) == [
        ("alice@contoso.com", "group"), ("gina@contoso.com", "group")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert plan_of(folder).changes == []
