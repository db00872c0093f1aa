"""`make demo`: the demo tenant, end to end, with nothing to set up."""

from __future__ import annotations

import sys
from pathlib import Path

from reconciler.cli import cli

DEMO_TENANT = Path(__file__).resolve().parents[1] / "tenants" / "demo"


def run() -> int:
    """Validate the demo tenant (plan and apply join here as they land)."""
    print(f"$ reconciler validate {DEMO_TENANT}", flush=True)
    return cli.main(["validate", str(DEMO_TENANT)], standalone_mode=False) or 0


if __name__ == "__main__":
    sys.exit(run())
