"""Outcome bookkeeping cost at apply time: recording and looking up each change's outcome.

    python bench/outcomes.py                 # 50,000 user creations
    python bench/outcomes.py --users 4000

Cost model: one dict insert per recorded outcome and one dict lookup per question, keyed by
change id, so linear in the number of changes. The old bookkeeping (a list searched with
`change in changes`, dataclass equality field by field) was quadratic; its figure is printed
for comparison at a size it can finish (--old-users). Figures only: nothing here asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconciler.apply.context import APPLIED, ApplyContext  # noqa: E402
from reconciler.live.state import LiveState  # noqa: E402
from reconciler.plan.change import Change  # noqa: E402


def changes(n: int) -> list[Change]:
    return [Change(f"user{i:06d}@contoso.com", "user", "add", f"user{i:06d}@contoso.com",
                   apply={"body": {"displayName": f"User {i}"}}) for i in range(n)]


def keyed(n: int) -> float:
    created = changes(n)
    ctx = ApplyContext(None, None, LiveState(), Path("."))  # type: ignore[arg-type]
    started = time.perf_counter()
    for change in created:
        ctx.record(change, APPLIED)
    failed = [c for c in created if ctx.outcome_of(c).status != APPLIED]  # type: ignore[union-attr]
    assert not failed and len(ctx.outcomes) == n
    return time.perf_counter() - started


def listed(n: int) -> float:
    created = changes(n)
    outcomes: list[tuple[Change, str]] = []
    started = time.perf_counter()
    for change in created:
        outcomes.append((change, APPLIED))
    failed = [c for c, status in outcomes if c in created and status != APPLIED]
    assert not failed
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--old-users", type=int, default=4_000)
    args = parser.parse_args()
    print(f"keyed by change id: {args.users} outcomes recorded and looked up in "
          f"{keyed(args.users):.3f}s")
    print(f"keyed by change id: {args.old_users} outcomes in {keyed(args.old_users):.3f}s")
    print(f"old list membership: {args.old_users} outcomes in {listed(args.old_users):.3f}s "
          "(quadratic)")


if __name__ == "__main__":
    main()
