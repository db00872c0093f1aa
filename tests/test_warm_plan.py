"""Warm plans: delta links kept between runs give the same plan as a cold read, for a
handful of requests, and a link Graph no longer honours falls back to a cold read.

Judged against the in-process emulator: out-of-band changes are written through its Graph
API (as an administrator in the portal would), then a warm plan (cache resumed) and a cold
plan (no cache) of the same folder must list the same changes.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path

import pytest

from reconciler.desired.loader import load_tenant_or_raise
from reconciler.desired.parsed import ENVIRONMENT
from reconciler.emulator import odata
from reconciler.emulator.generate import generate_seed
from reconciler.graph.connect import connect
from reconciler.reconcile import run_plan

TENANT = """\
tenant: {{id: {tenant_id}, domain: contoso.onmicrosoft.com}}
graph: {{url: "emulator:state.db"}}
auth: {{method: none}}
policy:
  memberships: authoritative
  limits: {{maxChanges: 1000000, maxRemovalsPercent: 100}}
"""


def build(folder: Path) -> dict:
    seed = generate_seed(users=120, groups=25, memberships=600, seed=7)
    (folder / "users").mkdir(parents=True)
    (folder / "tenant.yaml").write_text(TENANT.format(tenant_id=seed["tenant"]["id"]))
    (folder / "emulator-seed.json").write_text(json.dumps(seed))
    names = {g["id"]: g["displayName"] for g in seed["groups"]}
    upns = {u["id"]: u["userPrincipalName"] for u in seed["users"]}
    member_of: dict[str, list[str]] = {}
    for group in seed["groups"]:
        for member in group["members"]:
            member_of.setdefault(member, []).append(names[group["id"]])
    for n, user in enumerate(seed["users"]):
        lines = [f"userPrincipalName: {user['userPrincipalName']}", "profile:",
                 f"  jobTitle: {user['jobTitle']}", f"  department: {user['department']}"]
        if user.get("manager"):
            lines.append(f"manager: {upns[user['manager']]}")
        groups = sorted(member_of.get(user["id"], []))
        lines += ["groups:", *[f"  - {g}" for g in groups]] if groups else ["groups: []"]
        (folder / "users" / f"{n:04d}.yaml").write_text("\n".join(lines) + "\n")
    return seed


def plan(folder: Path, cache: Path) -> tuple[list[dict], int, str]:
    """The plan's changes, the Graph requests it cost, and what the reader said it read
    (e.g. "users warm, groups warm")."""
    import os

    os.environ[ENVIRONMENT] = str(cache)
    said: list[str] = []
    run = run_plan(folder, progress=said.append)
    try:
        stats = run.connection.emulator.stats
        how = next(m for m in said if m.startswith("read: users="))
        return [asdict(c) for c in run.plan.changes], stats["graph"], how
    finally:
        run.connection.close()


def out_of_band(folder: Path, seed: dict, rng: random.Random) -> None:
    """Random portal edits: titles, managers set and removed, members added and removed,
    a group renamed, a user deleted."""
    connection = connect(load_tenant_or_raise(folder).config, read_only=False)
    graph = connection.graph
    users = [u["id"] for u in seed["users"]]
    groups = seed["groups"]
    try:
        for user_id in rng.sample(users, 6):
            graph.write("PATCH", f"/users/{user_id}", {"jobTitle": f"Edited {rng.random():.3f}"})
        for user_id in rng.sample(users, 4):
            manager = rng.choice(users)
            if manager != user_id:
                graph.write("PUT", f"/users/{user_id}/manager/$ref",
                            {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{manager}"})
        with_manager = [u["id"] for u in seed["users"] if u.get("manager")]
        for user_id in rng.sample(with_manager, 2):
            graph.write("DELETE", f"/users/{user_id}/manager/$ref")
        for group in rng.sample(groups, 5):
            outsider = next(u for u in rng.sample(users, 20) if u not in group["members"])
            graph.write("POST", f"/groups/{group['id']}/members/$ref",
                        {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{outsider}"})
            if group["members"]:
                member = rng.choice(group["members"])
                graph.write("DELETE", f"/groups/{group['id']}/members/{member}/$ref")
        graph.write("PATCH", f"/groups/{groups[0]['id']}", {"displayName": "Renamed group"})
        graph.write("DELETE", f"/users/{rng.choice(users)}")
    finally:
        connection.close()


@pytest.fixture
def tenant(tmp_path, monkeypatch):
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path / "cache"))
    folder = tmp_path / "tenant"
    return folder, build(folder)


def test_warm_plan_equals_cold_plan_after_random_out_of_band_changes(tenant, tmp_path):
    folder, seed = tenant
    warm_cache = tmp_path / "warm"
    cold_first, _, how = plan(folder, warm_cache)  # cold: fills the cache
    assert "users cold, groups cold" in how
    assert list(warm_cache.glob("delta-*.json"))
    warm, warm_requests, how = plan(folder, warm_cache)
    assert "users warm, groups warm" in how
    assert warm == cold_first
    assert warm_requests <= 10
    rng = random.Random(15)
    for round_ in range(3):
        out_of_band(folder, seed, rng)
        warm, warm_requests, how = plan(folder, warm_cache)
        assert "users warm, groups warm" in how
        cold, _, how = plan(folder, tmp_path / f"cold{round_}")
        assert "users cold" in how
        assert warm == cold, f"round {round_}"
        assert warm != cold_first
        assert warm_requests <= 12


def test_expired_delta_link_falls_back_to_a_cold_read(tenant, tmp_path):
    folder, seed = tenant
    cache = tmp_path / "c"
    plan(folder, cache)
    out_of_band(folder, seed, random.Random(3))
    (file,) = cache.glob("delta-*.json")
    data = json.loads(file.read_text())
    expired = odata.encode_token({"select": None})  # well formed, sync state gone
    for name in ("users", "groups"):
        link = data[name]["link"]
        data[name]["link"] = link.split("$deltatoken=")[0] + "$deltatoken=" + expired
    file.write_text(json.dumps(data))
    fallen_back, _, how = plan(folder, cache)
    assert "users cold, groups cold" in how
    cold, _, _ = plan(folder, tmp_path / "fresh")
    assert fallen_back == cold
    again, requests, how = plan(folder, cache)  # the fallback saved fresh links
    assert again == cold and requests <= 10 and "users warm" in how


def test_a_cache_link_to_another_host_is_never_followed(tenant, tmp_path):
    folder, _seed = tenant
    cache = tmp_path / "c"
    first, _, _ = plan(folder, cache)
    (file,) = cache.glob("delta-*.json")
    data = json.loads(file.read_text())
    data["users"]["link"] = "https://attacker.example/v1.0/users/delta?$deltatoken=x"
    data["users"]["objects"] = {}  # followed, it would plan every user as missing
    file.write_text(json.dumps(data))
    again, _, how = plan(folder, cache)
    assert again == first and "users cold, groups warm" in how


def test_an_unreadable_or_foreign_cache_is_ignored(tenant, tmp_path):
    folder, _seed = tenant
    cache = tmp_path / "c"
    first, _, _ = plan(folder, cache)
    (file,) = cache.glob("delta-*.json")
    data = json.loads(file.read_text())
    data["tenant"] = "00000000-0000-0000-0000-000000000000"
    file.write_text(json.dumps(data))
    assert plan(folder, cache)[0] == first
    file.write_text("{not json")
    assert plan(folder, cache)[0] == first


def test_a_run_that_writes_never_reads_the_delta_cache(tenant, tmp_path):
    """Whoever can write the cache directory hides a membership added in the portal: a
    plan (warm) is misled and shows no drift, but apply reads the tenant cold and removes
    it. Judged from the emulator's store."""
    from reconciler.emulator.store import Store
    from tests.tenancy import cli_run

    folder, seed = tenant
    cache = tmp_path / "cache"
    assert plan(folder, cache)[0] == []
    group = next(g for g in seed["groups"]
                 if g.get("securityEnabled") and not g.get("groupTypes")
                 and not g.get("membershipRule") and not g.get("onPremisesSyncEnabled"))
    outsider = next(u["id"] for u in seed["users"] if u["id"] not in group["members"])
    connection = connect(load_tenant_or_raise(folder).config, read_only=False)
    try:
        connection.graph.write("POST", f"/groups/{group['id']}/members/$ref",
                               {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{outsider}"})
    finally:
        connection.close()
    drift, _, _ = plan(folder, cache)  # the warm round sees the add and moves the link on
    assert [(c["op"], c["target"]) for c in drift] == [("remove", group["displayName"])]
    (file,) = cache.glob("delta-*.json")
    data = json.loads(file.read_text())
    data["groups"]["objects"][group["id"]]["members"].remove(outsider)
    file.write_text(json.dumps(data))
    assert plan(folder, cache)[0] == []  # a plan can be misled...
    applied = cli_run("apply", str(folder), "--auto-approve", env={ENVIRONMENT: str(cache)})
    assert applied.exit_code == 0, applied.output
    assert not Store(folder / "state.db").is_member(group["id"], outsider)  # ...not apply
