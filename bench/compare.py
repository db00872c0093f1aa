"""Everything side by side, in one run, against a served emulator with Graph's cost model.

    python bench/compare.py                          # 10,000 users, 2,000 groups, 100,000 links
    python bench/compare.py --users 50000 --groups 10000 --memberships 500000 --sample 500

The emulator runs in its own process (`reconciler emulator serve`, its cost model on:
page caps, delta page shape, resource units, latency per request and per object); each
scenario runs in a fresh child process, so CPU and peak RSS are that scenario's own.
Requests and resource units are counted on the client (every request inside a $batch
counts; RU from Graph's `x-ms-resource-unit` header). Scenarios:

- cold plan, cache off (RECONCILER_CACHE_DIR=off): the same delta reads, nothing kept;
- cold plan: delta rounds from an empty cache (users with manager 999 a page);
- warm plan: the links the cold plan left, no drift; warm plan after edits: after
  out-of-band edits (20 titles, 20 memberships);
- apply: 1,000 group memberships and 200 profile edits added to the YAML, then plan + apply;
- per-user reader and Terraform-style refresh: measured on `--sample` users and scaled up;
- msgraph-sdk script (bench/sdk_script.py): users with managers, then each group's members,
  through Microsoft's SDK; on `--sample` users' share of the tenant, scaled up; run when
  msgraph-sdk is installed (`pip install msgraph-sdk`), else said so.

Figures only: nothing here asserts a time. Prints a table (also as Markdown with --markdown,
which is what the README's benchmark table is).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TENANT = """\
tenant: {{id: {tenant_id}, domain: contoso.onmicrosoft.com}}
graph: {{url: "{url}"}}
auth: {{method: none}}
policy:
  memberships: authoritative
  limits: {{maxChanges: 1000000, maxRemovalsPercent: 100}}
"""
SKUS = {"05e9a617-0261-4cee-bb44-138d3ef5d965": "SPE_E3",
        "06ebc4ee-1bb5-47dd-8120-11324bc54e06": "SPE_E5"}


# -- the tenant ----------------------------------------------------------------------------
def build(folder: Path, users: int, groups: int, memberships: int) -> dict:
    """A seed and user files that match it exactly (no drift)."""
    from reconciler.emulator.generate import generate_seed

    seed = generate_seed(users=users, groups=groups, memberships=memberships, seed=3)
    (folder / "users").mkdir(parents=True)
    (folder / "emulator-seed.json").write_text(json.dumps(seed))
    names = {g["id"]: g["displayName"] for g in seed["groups"]}
    member_of: dict[str, list[str]] = {}
    for group in seed["groups"]:
        for member in group["members"]:
            member_of.setdefault(member, []).append(names[group["id"]])
    upns = {u["id"]: u["userPrincipalName"] for u in seed["users"]}
    for n, user in enumerate(seed["users"]):
        lines = [f"userPrincipalName: {user['userPrincipalName']}", "profile:",
                 f"  jobTitle: {user['jobTitle']}", f"  department: {user['department']}",
                 f"  usageLocation: {user['usageLocation']}"]
        if user.get("manager"):
            lines.append(f"manager: {upns[user['manager']]}")
        groups_of = sorted(member_of.get(user["id"], []))
        lines += ["groups:", *[f"  - {g}" for g in groups_of]] if groups_of else ["groups: []"]
        lines.append("licenses:")
        lines += [f"  - sku: {SKUS[lic['skuId']]}" for lic in user["assignedLicenses"]]
        if not user["assignedLicenses"]:
            lines[-1] = "licenses: []"
        lines.append("directoryRoles: []")
        (folder / "users" / f"{n:05d}.yaml").write_text("\n".join(lines) + "\n")
    return seed


def serve(folder: Path, limits: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--db",
         str(folder.parent / "state.db"), "--seed", str(folder / "emulator-seed.json"),
         "--port", "0", "--anonymous", "--limits", limits],
        stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stderr is not None
    line = process.stderr.readline()
    found = re.search(r"on (http://\S+)", line)
    if not found:
        process.kill()
        raise SystemExit(f"emulator did not start: {line}{process.stderr.read()}")
    return process, found.group(1)


# -- counting on the client ----------------------------------------------------------------
def counting(counts: Counter) -> object:
    """Wrap reconcile.connect so every client counts requests and resource units."""
    from reconciler import reconcile

    original = reconcile.connect

    def hook(response: object) -> None:
        request = response.request  # type: ignore[attr-defined]
        counts["http"] += 1
        if request.url.path.endswith("/$batch"):
            response.read()  # type: ignore[attr-defined]
            inner = (response.json() or {}).get("responses", [])  # type: ignore[attr-defined]
            counts["graph"] += len(inner)
            counts["ru"] += sum(int((r.get("headers") or {}).get("x-ms-resource-unit", 1))
                                for r in inner)
        else:
            counts["graph"] += 1
            counts["ru"] += int(response.headers.get("x-ms-resource-unit", 0))  # type: ignore

    def connect(*args: object, **kwargs: object) -> object:
        connection = original(*args, **kwargs)  # type: ignore[arg-type]
        connection.http.event_hooks["response"].append(hook)
        return connection

    reconcile.connect = connect  # type: ignore[assignment]
    return connect


# -- scenarios (each in a child process) ---------------------------------------------------
def scenario(name: str, folder: Path, sample: int) -> dict:
    counts: Counter = Counter()
    connect = counting(counts)
    from reconciler.reconcile import run_apply, run_plan

    started, cpu = time.perf_counter(), time.process_time()
    result: dict = {}
    if name in ("cold", "listing", "warm", "warm-edits"):
        run = run_plan(folder)
        result["changes"] = len(run.plan.changes)
        run.connection.close()
    elif name == "apply":
        run = run_plan(folder, writable=True)
        reads = dict(counts)
        counts.clear()
        ctx = run_apply(run)
        result["changes"] = len(run.plan.changes)
        result["plan_graph"] = reads["graph"]
        result["floor"] = coalesced_minimum(run.plan.changes)
        del ctx
        run.connection.close()
    elif name == "sdk":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import sdk_script

        from reconciler.desired.loader import load_tenant_or_raise

        seed = json.loads((folder / "emulator-seed.json").read_text())
        url = load_tenant_or_raise(folder).config.graph_url
        result["scale"] = sdk_script.run(url, seed, sample, counts)
    elif name in ("per-user", "terraform"):
        from reconciler.desired.loader import load_tenant_or_raise

        seed = json.loads((folder / "emulator-seed.json").read_text())
        connection = connect(load_tenant_or_raise(folder).config, read_only=True)  # type: ignore
        graph = connection.graph
        users = seed["users"][:sample]
        for user in users:
            uid = user["id"]
            graph.get(f"/users/{uid}", {"$select": "id,jobTitle,department,usageLocation"})
            graph.get_or_none(f"/users/{uid}/manager", {"$select": "id"})
            if name == "per-user":
                graph.list(f"/users/{uid}/memberOf", {"$select": "id,displayName"})
                graph.list(f"/users/{uid}/licenseDetails")
                graph.list("/roleManagement/directory/roleAssignments",
                           {"$filter": f"principalId eq '{uid}'"})
        if name == "terraform":  # one read per resource: users (above), groups, memberships
            share = sample / len(seed["users"])
            groups = seed["groups"][:max(1, round(len(seed["groups"]) * share))]
            links = [(g["id"], m) for g in seed["groups"] for m in g["members"]]
            for group in groups:
                graph.get(f"/groups/{group['id']}", {"$select": "id,displayName"})
            for group_id, member in links[:max(1, round(len(links) * share))]:
                graph.list(f"/groups/{group_id}/members",
                           {"$filter": f"id eq '{member}'", "$select": "id"})
        result["scale"] = len(seed["users"]) / len(users)
        connection.close()
    result.update(counts)
    result["wall"] = time.perf_counter() - started
    result["cpu"] = time.process_time() - cpu
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def child(name: str, folder: Path, cache: Path | str, sample: int) -> dict:
    env = {**os.environ, "RECONCILER_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, __file__, "--child", name, "--folder", str(folder),
                           "--sample", str(sample)], env=env, capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def edit(folder: Path, seed: dict, titles: int, memberships: int, tag: str) -> None:
    """Add `memberships` group memberships and change `titles` job titles in the YAML."""
    names = [g["displayName"] for g in seed["groups"]]
    files = sorted((folder / "users").glob("*.yaml"))
    added = 0
    for n, path in enumerate(files):
        text = path.read_text()
        if n < titles:
            text = re.sub(r"  jobTitle: .*", f"  jobTitle: {tag} {n}", text, count=1)
        if added < memberships:
            current = set(re.findall(r"^  - (.*)$", text, re.M))
            extra = next(g for g in names[(n * 7) % len(names):] + names if g not in current)
            text = text.replace("groups: []", "groups:")
            text = text.replace("groups:\n", f"groups:\n  - {extra}\n", 1)
            added += 1
        path.write_text(text)


def out_of_band(folder: Path, seed: dict, count: int) -> None:
    """Portal edits: `count` titles and `count` memberships, through Graph."""
    from reconciler.desired.loader import load_tenant_or_raise
    from reconciler.graph.connect import connect

    connection = connect(load_tenant_or_raise(folder).config, read_only=False)
    try:
        for user in seed["users"][-count:]:
            connection.graph.write("PATCH", f"/users/{user['id']}", {"jobTitle": "Portal"})
        for n, group in enumerate(seed["groups"][:count]):
            member = seed["users"][-(n + 1) - count]["id"]
            if member not in group["members"]:
                connection.graph.write(
                    "POST", f"/groups/{group['id']}/members/$ref",
                    {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{member}"})
    finally:
        connection.close()


# -- the model's minimum -------------------------------------------------------------------
def minimum_plan(seed: dict, page_max: int, per_entry: int, others: int) -> int:
    """Users (with manager) as a delta round of `page_max` a page; groups with members as a
    delta round (`page_max` groups a page, a new page after `per_entry` members of one
    group); one page for each other collection the plan reads."""
    users = math.ceil(len(seed["users"]) / page_max)
    groups = math.ceil(len(seed["groups"]) / page_max) + sum(
        max(0, math.ceil(len(g["members"]) / per_entry) - 1) for g in seed["groups"])
    return users + groups + others


def coalesced_minimum(changes: list, per_patch: int = 20) -> int:
    """The fewest Graph requests that carry out `changes`: group adds through Graph 20
    members per PATCH per group, one PATCH per user for all profile fields, one request
    for anything else (Exchange-managed group members: one cmdlet each)."""
    adds: Counter = Counter()
    profiles: set[str] = set()
    other = 0
    for change in changes:
        if change.kind == "group" and change.op == "add" and change.apply.get("via") == "graph":
            adds[change.apply["group"]] += 1
        elif change.kind == "profile":
            profiles.add(change.user)
        else:
            other += 1
    return sum(math.ceil(n / per_patch) for n in adds.values()) + len(profiles) + other


# -- main ----------------------------------------------------------------------------------
def row(name: str, r: dict, model: str = "") -> list[str]:
    scale = r.get("scale", 1)
    ext = " *" if scale != 1 else ""
    return [name, f"{r['graph'] * scale:,.0f}{ext}", f"{r['http'] * scale:,.0f}",
            f"{r['ru'] * scale:,.0f}", f"{r['wall'] * scale:.1f}", f"{r['cpu'] * scale:.1f}",
            f"{r['rss_mb']:.0f}", model]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=2_000)
    parser.add_argument("--memberships", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--limits", default="", help="emulator cost model overrides")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="plans only (cold, warm): for 50,000 users")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(scenario(args.child, args.folder, args.sample)))
        return
    from reconciler.emulator.limits import Limits

    model = Limits.parse(args.limits)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "tenant"
        seed = build(folder, args.users, args.groups, args.memberships)
        started = time.perf_counter()
        emulator, url = serve(folder, args.limits)
        try:
            print(f"emulator seeded and serving in {time.perf_counter() - started:.1f}s: "
                  f"{url}", flush=True)
            (folder / "tenant.yaml").write_text(TENANT.format(
                tenant_id=seed["tenant"]["id"], url=url))
            cache = Path(temp) / "cache"
            results = {"listing": child("listing", folder, "off", args.sample)}
            print(f"listing: {results['listing']}", flush=True)
            for name in ("cold", "warm"):
                results[name] = child(name, folder, cache, args.sample)
                print(f"{name}: {results[name]}", flush=True)
            if args.quick:
                return report(results, seed, model, args)
            out_of_band(folder, seed, 20)
            results["warm-edits"] = child("warm-edits", folder, cache, args.sample)
            print(f"warm-edits: {results['warm-edits']}", flush=True)
            edit(folder, seed, 200, 1000, "Edited")
            results["apply"] = child("apply", folder, cache, args.sample)
            print(f"apply: {results['apply']}", flush=True)
            for name in ("per-user", "terraform", "sdk"):
                if name == "sdk" and not _has_sdk():
                    continue
                results[name] = child(name, folder, cache, args.sample)
                print(f"{name}: {results[name]}", flush=True)
        finally:
            emulator.terminate()
            emulator.wait()
    report(results, seed, model, args)


def report(results: dict, seed: dict, model: object, args: argparse.Namespace) -> None:
    """The table; scenarios not run (--quick) are left out."""
    others = 5  # deleted users, users at risk, role definitions, role assignments, SKUs
    floor = minimum_plan(seed, model.page_max, model.delta_members_per_entry, others)
    cold, warm = results["cold"], results["warm"]
    lines = [["scenario", "Graph requests", "HTTP", "RU", "wall s", "CPU s", "peak RSS MB",
              "model"]]
    lines.append(row("cold plan", cold, f"minimum {floor}: {cold['graph'] / floor:.2f}x "
                                        "(target <= 1.1x)"))
    listing = results["listing"]
    lines.append(row("cold plan, cache off", listing,
                     f"{listing['graph'] / floor:.2f}x the minimum"))
    lines.append(row("warm plan, no drift", warm, "target <= 10 requests"))
    if "apply" in results:
        apply = results["apply"]
        lines.append(row("warm plan, 40 portal edits", results["warm-edits"], ""))
        lines.append(row("apply 1,000 memberships + 200 edits", apply,
                         f"writes; coalesced minimum {apply['floor']}: "
                         f"{apply['graph'] / apply['floor']:.2f}x (target <= 1.05x)"))
        for name, label in (("per-user", "per-user reader"),
                            ("terraform", "Terraform-style")):
            r = results[name]
            lines.append(row(label, r, f"{r['graph'] * r['scale'] / cold['graph']:.0f}x "
                                       "the cold plan's requests"))
        if "sdk" in results:
            r = results["sdk"]
            lines.append(row("msgraph-sdk script", r,
                             f"{r['graph'] * r['scale'] / cold['graph']:.0f}x "
                             "the cold plan's requests"))
        else:
            lines.append(["msgraph-sdk script", "-", "-", "-", "-", "-", "-",
                          "not run: msgraph-sdk is not installed"])
    print(f"\ntenant: {args.users:,} users, {args.groups:,} groups, {args.memberships:,} "
          f"memberships; model: page_max={model.page_max} "
          f"expand_page_max={model.expand_page_max} delta_page={model.delta_page} "
          f"delta_members_per_entry={model.delta_members_per_entry} batch_max={model.batch_max} "
          f"latency={model.latency * 1000:.0f}ms+{model.latency_per_object * 1000:.1f}ms/object "
          f"tenant_size={model.tenant_size}; the emulator in its own process; "
          "* = measured on --sample users and scaled up")
    if args.markdown:
        print("| " + " | ".join(lines[0]) + " |")
        print("|" + "---|" * len(lines[0]))
        for line in lines[1:]:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
        for line in lines:
            print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


def _has_sdk() -> bool:
    try:
        import msgraph  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
