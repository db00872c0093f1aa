"""CPU cost of loading a tenant folder (parse, schema-check, build, cross-file checks).

    python bench/load_scale.py                 # 10,000 user files in a temporary folder
    python bench/load_scale.py --users 2000 --profile

Prints CPU seconds for the whole load and for schema validation alone (compiled validator
against jsonschema's iter_errors, on the same documents). Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconciler.desired import schema as schema_module  # noqa: E402
from reconciler.desired.loader import load_tenant, user_files  # noqa: E402
from reconciler.desired.yamlsource import load_yaml  # noqa: E402

TENANT = """\
tenant: {id: 72f988bf-86f1-41af-91ab-2d7cd011db47, domain: contoso.onmicrosoft.com}
graph: {url: "emulator:state.db"}
auth: {method: none}
"""

DEPARTMENTS = ["Sales", "Finance", "Engineering", "Support", "Legal", "Marketing"]


def write_tenant(folder: Path, users: int) -> None:
    """`users` user files shaped like a real tenant's: profile, manager, groups, licenses."""
    (folder / "users").mkdir(parents=True)
    (folder / "tenant.yaml").write_text(TENANT)
    for n in range(users):
        lines = [
            f"userPrincipalName: user{n:05d}@contoso.onmicrosoft.com",
            "profile:",
            f"  displayName: User {n:05d}",
            f"  givenName: Given{n}",
            "  surname: Surname",
            f"  jobTitle: Engineer {n % 17}",
            f"  department: {DEPARTMENTS[n % len(DEPARTMENTS)]}",
            "  usageLocation: NL",
            f"  employeeId: E{n:06d}",
        ]
        if n:
            lines.append(f"manager: user{(n - 1) // 10:05d}@contoso.onmicrosoft.com")
        lines.append("groups:")
        lines += [f"  - Group {g}" for g in (n % 50, n % 7 + 50, n % 3 + 60)]
        lines += ["licenses:", "  - sku: SPE_E3", "directoryRoles: []"]
        (folder / "users" / f"{n:05d}.yaml").write_text("\n".join(lines) + "\n")


def cpu() -> float:
    return time.process_time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="print the top of a profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "tenant"
        write_tenant(folder, args.users)
        load_tenant(folder)  # warm the OS cache and the compiled schemas
        profile = cProfile.Profile() if args.profile else None
        started = cpu()
        if profile:
            profile.enable()
        result = load_tenant(folder)
        if profile:
            profile.disable()
        total = cpu() - started
        assert not result.problems, result.problems[:3]
        docs = [load_yaml(p, str(p)).data for p in user_files(folder)]
        started = cpu()
        for doc in docs:
            schema_module.validate_document("user", doc, None)  # type: ignore[arg-type]
        compiled = cpu() - started
        reference = schema_module._validator("user")
        started = cpu()
        for doc in docs:
            list(reference.iter_errors(doc))
        iterated = cpu() - started
        per_file = total / args.users * 1e6
        print(f"load:        files={result.files} cpu={total:.2f}s ({per_file:.0f} us per file)"
              f" target <= 2.00s for 10,000 files")
        print(f"validation:  compiled cpu={compiled:.2f}s  jsonschema iter_errors "
              f"cpu={iterated:.2f}s  ratio {iterated / max(compiled, 1e-9):.0f}x")
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
