"""docs/adding-an-area.md, followed literally: an area defined only in this file (its own
schema part, its own live read, its own change kind, its facts, steps, import and audit
hooks) is registered with one line and validated, planned, applied and imported against
the emulator, with no edit anywhere else in the product.

The area: a user's **badge** (`badge: gold`), kept in an open extension
`com.contoso.badge` on the user (Graph's documented open-extension routes, which the
emulator already answers)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from reconciler.apply.context import Write
from reconciler.areas import NO_RELATIONS, Area, DirectoryAudit, Kind, Step, registry
from reconciler.graph.requests import ApiRequest
from reconciler.graph.urls import fill
from reconciler.live.reads import UserGet
from reconciler.plan.facts import of_user
from tests.tenancy import audits, cli_run, make_tenant, oid, plan_of, store
from tests.test_drift_attribution import portal_client

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.graph.client import WriteResult
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

NAME = "com.contoso.badge"
LEVELS = ["bronze", "silver", "gold"]

# 1. The schema part ----------------------------------------------------------------------
SCHEMA = {"badge": {"enum": [*LEVELS, None], "description": "The user's badge (null: none)."}}


# 2. The area module ----------------------------------------------------------------------
def _extension(user_id: str) -> str:
    return fill("/users/{}/extensions/{}", user_id, NAME)


def _store(user: LiveUser, result: WriteResult) -> None:
    body = result.body if result.ok and isinstance(result.body, dict) else {}
    user.keep("badge", body.get("level"))  # a 404 is "no badge"


BADGE = UserGet("badge", path=lambda u: _extension(u.id), store=_store)


def reads(user: DesiredUser) -> set:
    return {BADGE} if user.manages("badge") else set()


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if not user.manages("badge"):
        return
    wanted = user.document.get("badge")
    current = live.slot("badge") if live is not None else None
    if wanted == current:
        if live is not None:
            ctx.unchanged(user)
        return
    op = "add" if current is None else "remove" if wanted is None else "change"
    ctx.add(user, "badge", op, "badge", current, wanted, apply={"level": wanted},
            facts=[f"badge:{live.id}"] if live is not None else [])


def _write(user_id: str, change: Change) -> Write:
    level = change.apply["level"]
    if change.op == "add":
        body = {"@odata.type": "microsoft.graph.openTypeExtension", "extensionName": NAME,
                "level": level}
        return Write([change], ApiRequest("POST", fill("/users/{}/extensions", user_id), body))
    if change.op == "remove":
        return Write([change], ApiRequest("DELETE", _extension(user_id)))
    return Write([change], ApiRequest("PATCH", _extension(user_id), {"level": level}))


def apply_badges(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in ctx.runnable(changes):
        user_id = ctx.user_id(change.user)
        assert user_id is not None
        writes.append(_write(user_id, change))
    ctx.send_batched(writes)


def import_user(user: LiveUser, _state: LiveState) -> dict[str, Any]:
    return {"badge": user.slot("badge")} if user.slot("badge") else {}


def _audited(record: dict[str, Any], change: Change, user_id: str) -> bool:
    """An "Update user" record on this user naming the badge's extension."""
    targets = [t for t in record.get("targetResources") or [] if t.get("id") == user_id]
    names = {str(p.get("displayName") or "") for t in targets
             for p in t.get("modifiedProperties") or []}
    return str(record.get("activityDisplayName")) == "Update user" and \
        f"extension:{NAME}" in names


AREA = Area(
    name="badge",
    keys=("badge",),
    kinds=(Kind("badge", 990, label="badge", heading="badge", quoted=True),),
    facts={"badge": of_user(lambda u, _live, _detail: u.slot("badge"), "badge")},
    reads=reads,
    diff=diff,
    steps=(Step("photo", ("badge",), ("add", "change", "remove"), apply_badges),),
    relations=NO_RELATIONS,
    import_user=import_user,
    import_reads=(BADGE,),
    audit=DirectoryAudit(_audited),
    schema=SCHEMA,
)


# 3. One registry line (here: for the duration of each test) ------------------------------
@pytest.fixture
def badge_area():
    with registry.including(AREA):
        yield


# 5. The tests ----------------------------------------------------------------------------
def _badge(folder, upn: str) -> Any:
    extension = store(folder).item(oid(upn), "extension", NAME)
    return None if extension is None else extension.get("level")


def test_the_walkthrough_area_is_validated_planned_and_applied_both_ways(tmp_path, badge_area):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "badge: gold\n"})
    assert cli_run("validate", str(folder)).exit_code == 0
    plan = plan_of(folder)
    assert [(c.kind, c.op, c.before, c.after) for c in plan.changes] == \
        [("badge", "add", None, "gold")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert _badge(folder, "alice@contoso.com") == "gold"
    assert plan_of(folder).changes == []
    (folder / "users" / "alice.yaml").write_text("userPrincipalName: alice@contoso.com\n"
                                                 "badge: silver\n")
    assert [(c.op, c.after) for c in plan_of(folder).changes] == [("change", "silver")]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert _badge(folder, "alice@contoso.com") == "silver"


def _portal_sets_badge(folder, level: str) -> None:
    """Someone changes alice's badge with another tool."""
    graph, server = portal_client(folder)
    try:
        alice = oid("alice@contoso.com")
        assert graph.write("PATCH", f"/users/{alice}/extensions/{NAME}", {"level": level}).ok
    finally:
        server.shutdown()


def test_drift_names_who_changed_a_badge_and_a_stale_plan_is_refused(tmp_path, badge_area):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "badge: gold\n"})
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    _portal_sets_badge(folder, "bronze")
    result = cli_run("drift", str(folder), "--format", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert {(a["kind"], a["activity"], a["by"]) for a in report["attribution"]} == \
        {("badge", "Update user", "HR portal")}
    (folder / "users" / "alice.yaml").write_text("userPrincipalName: alice@contoso.com\n"
                                                 "badge: null\n")
    saved = tmp_path / "plan.json"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    _portal_sets_badge(folder, "silver")
    written = len(audits(folder))
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 1
    assert "alice@contoso.com: badge" in result.stderr
    assert len(audits(folder)) == written  # nothing was sent
    assert _badge(folder, "alice@contoso.com") == "silver"


def test_import_writes_the_badge_and_the_next_plan_plans_nothing(tmp_path, badge_area):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "badge: gold\n"})
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    (folder / "users" / "alice.yaml").unlink()
    assert cli_run("import", "--tenant", str(folder), "--user", "alice@contoso.com") \
        .exit_code == 0
    written = yaml.safe_load((folder / "users" / "alice.yaml").read_text())
    assert written["badge"] == "gold"
    assert [c for c in plan_of(folder).changes if c.user == "alice@contoso.com"] == []


def test_a_badge_outside_the_schema_part_is_an_error_naming_file_and_key(tmp_path, badge_area):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "badge: platinum\n"})
    result = cli_run("validate", str(folder))
    assert result.exit_code != 0
    assert "alice.yaml" in result.output and "badge" in result.output


def test_without_its_registry_line_the_key_is_unknown(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "badge: gold\n"})
    result = cli_run("validate", str(folder))  # no badge_area: the area is not registered
    assert result.exit_code != 0 and "badge" in result.output
