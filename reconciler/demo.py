"""`make demo`: plan, apply and plan again against the demo tenant's embedded emulator."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from reconciler.cli import cli

DEMO_TENANT = Path(__file__).resolve().parents[1] / "tenants" / "demo"
STATE = DEMO_TENANT / ".reconciler"


def _run(*args: str) -> int:
    print(f"\n$ reconciler {' '.join(args)}", flush=True)
    return cli.main(list(args), standalone_mode=False) or 0


def run() -> int:
    """Start from the seeded tenant each time, so the demo always shows the same story."""
    shutil.rmtree(STATE, ignore_errors=True)
    tenant = str(DEMO_TENANT)
    steps = [
        ("validate", tenant),
        ("plan", tenant, "--out", str(STATE / "plan.json")),
        ("apply", tenant, "--plan", str(STATE / "plan.json"),
         "--password-out", str(STATE / "passwords.tsv")),
        ("plan", tenant, "--detailed-exitcode"),
    ]
    STATE.mkdir(parents=True, exist_ok=True)
    for step in steps:
        code = _run(*step)
        if code != 0:
            print(f"\ndemo: `reconciler {step[0]}` exited {code}", file=sys.stderr)
            return code
    print("\ndemo: the second plan shows no changes: the tenant matches tenants/demo.")
    return 0


if __name__ == "__main__":
    sys.exit(run())
