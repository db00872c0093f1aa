"""Cold-plan cost on a large emulated tenant, against a reader that asks per user per area.

    python bench/plan_scale.py                      # 10,000 users, 2,000 groups, 100,000 links
    python bench/plan_scale.py --users 2000 --groups 400 --memberships 20000

Prints, for one cold `plan`: Graph requests (each request inside a $batch counts),
HTTP requests, resource units, wall time and peak memory; then the same for a per-user
reader (GET user, memberOf, manager, licenseDetails, role assignments for each user), the
way per-resource tools refresh. Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconciler.emulator.app import Emulator  # noqa: E402
from reconciler.emulator.generate import generate_seed  # noqa: E402
from reconciler.graph.connect import connect  # noqa: E402
from reconciler.reconcile import run_plan  # noqa: E402

TENANT = """\
tenant: {{id: {tenant_id}, domain: contoso.onmicrosoft.com}}
graph: {{url: "emulator:state.db"}}
auth: {{method: none}}
policy:
  memberships: authoritative
  limits: {{maxChanges: 1000000, maxRemovalsPercent: 100}}
"""


def build(folder: Path, users: int, groups: int, memberships: int) -> dict:
    seed = generate_seed(users=users, groups=groups, memberships=memberships, seed=3)
    (folder / "users").mkdir(parents=True)
    (folder / "tenant.yaml").write_text(TENANT.format(tenant_id=seed["tenant"]["id"]))
    (folder / "emulator-seed.json").write_text(json.dumps(seed))
    names = {g["id"]: g["displayName"] for g in seed["groups"]}
    member_of: dict[str, list[str]] = {}
    for group in seed["groups"]:
        for member in group["members"]:
            member_of.setdefault(member, []).append(names[group["id"]])
    upns = {u["id"]: u["userPrincipalName"] for u in seed["users"]}
    sku = {"05e9a617-0261-4cee-bb44-138d3ef5d965": "SPE_E3",
           "06ebc4ee-1bb5-47dd-8120-11324bc54e06": "SPE_E5"}
    for n, user in enumerate(seed["users"]):
        title = user["jobTitle"] if n % 10 else "Principal " + user["jobTitle"]  # 10% drift
        lines = [f"userPrincipalName: {user['userPrincipalName']}",
                 "profile:", f"  jobTitle: {title}", f"  department: {user['department']}",
                 f"  usageLocation: {user['usageLocation']}"]
        if user.get("manager"):
            lines.append(f"manager: {upns[user['manager']]}")
        lines.append("groups:")
        lines += [f"  - {name}" for name in sorted(member_of.get(user["id"], []))] or []
        if not member_of.get(user["id"]):
            lines[-1] = "groups: []"
        lines.append("licenses:")
        lines += [f"  - sku: {sku[lic['skuId']]}" for lic in user["assignedLicenses"]]
        lines.append("directoryRoles: []")
        (folder / "users" / f"{n:05d}.yaml").write_text("\n".join(lines) + "\n")
    Emulator(folder / "state.db", seed=seed, anonymous=True)  # seeded before timing
    return seed


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cold_plan(folder: Path) -> dict:
    started = time.perf_counter()
    run = run_plan(folder)
    elapsed = time.perf_counter() - started
    stats = run.connection.emulator.stats
    result = {"graph": stats["graph"], "http": stats["http"], "ru": stats["ru"],
              "seconds": elapsed, "changes": len(run.plan.changes),
              "errors": len(run.plan.errors)}
    run.connection.close()
    return result


def per_user_reader(folder: Path, seed: dict, sample: int | None) -> dict:
    """Refresh the way per-resource tools do: every area asked for every user."""
    from reconciler.desired.loader import load_tenant_or_raise

    config = load_tenant_or_raise(folder).config
    connection = connect(config, read_only=True)
    graph, emulator = connection.graph, connection.emulator
    before = dict(emulator.stats)
    users = seed["users"] if sample is None else seed["users"][:sample]
    started = time.perf_counter()
    for user in users:
        user_id = user["id"]
        graph.get(f"/users/{user_id}", {"$select": "id,jobTitle,department,usageLocation"})
        graph.list(f"/users/{user_id}/memberOf", {"$select": "id,displayName"})
        graph.get_or_none(f"/users/{user_id}/manager", {"$select": "id"})
        graph.list(f"/users/{user_id}/licenseDetails")
        graph.list("/roleManagement/directory/roleAssignments",
                   {"$filter": f"principalId eq '{user_id}'"})
    elapsed = time.perf_counter() - started
    scale = len(seed["users"]) / len(users)
    result = {key: (emulator.stats[key] - before.get(key, 0)) * scale
              for key in ("graph", "http", "ru")}
    result["seconds"] = elapsed * scale
    result["extrapolated"] = scale != 1
    connection.close()
    return result


def minimum_requests(users: int, groups: int) -> int:
    """The floor the issue sets: a page of 999 users each, one member page per group, the
    group list, role definitions, role assignments and SKUs."""
    return math.ceil(users / 999) + groups + math.ceil(groups / 999) + 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=2_000)
    parser.add_argument("--memberships", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=None,
                        help="measure the per-user reader on this many users and scale up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "tenant"
        started = time.perf_counter()
        seed = build(folder, args.users, args.groups, args.memberships)
        print(f"built: users={args.users} groups={args.groups} "
              f"memberships={args.memberships} in {time.perf_counter() - started:.1f}s",
              flush=True)
        plan = cold_plan(folder)
        memory = peak_mb()
        floor = minimum_requests(args.users, args.groups)
        print(f"cold plan:      graph_requests={plan['graph']} http_requests={plan['http']} "
              f"resource_units={plan['ru']} wall={plan['seconds']:.1f}s "
              f"peak_rss={memory:.0f}MB changes={plan['changes']} errors={plan['errors']}")
        print(f"minimum:        graph_requests={floor} -> plan uses "
              f"{plan['graph'] / floor:.2f}x (target <= 1.1x)")
        per_user = per_user_reader(folder, seed, args.sample)
        note = " (extrapolated from a sample)" if per_user["extrapolated"] else ""
        print(f"per-user read:  graph_requests={per_user['graph']:.0f} "
              f"http_requests={per_user['http']:.0f} resource_units={per_user['ru']:.0f} "
              f"wall={per_user['seconds']:.1f}s{note}")
        print(f"ratio:          {per_user['graph'] / plan['graph']:.0f}x fewer Graph requests "
              f"than per user (target >= 50x)")


if __name__ == "__main__":
    main()
