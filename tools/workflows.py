"""Write this repository's .github/workflows/ from templates/workflows/.

The templates are what users copy: they call the published action
(`uses: reconciler/reconciler@v1`). Here the tool is this repository, so each job checks
out the trusted commit (the pull request's base, or the pushed commit on main) into
.reconciler-tool and uses that: a pull request's own code never runs with a token.

    python tools/workflows.py          # rewrite .github/workflows/{plan,apply,drift}.yml
    python tools/workflows.py --check  # exit 1 when they differ (the tests run this)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates" / "workflows"
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ("plan.yml", "apply.yml", "drift.yml")
PUBLISHED = """\
      - name: Install reconciler
        uses: reconciler/reconciler@v1
"""
LOCAL = """\
      - name: Check out the reconciler to run (the base branch's, never a pull request's)
        uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          ref: ${{ github.event.pull_request.base.sha || github.sha }}
          path: .reconciler-tool
          persist-credentials: false
      - name: Install reconciler
        uses: ./.reconciler-tool
"""
HEADER = ("# Generated from templates/workflows/{name} by tools/workflows.py: edit the "
          "template.\n")


def local(name: str) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    if PUBLISHED not in text:
        raise SystemExit(f"{name}: no install step to replace")
    return HEADER.format(name=name) + text.replace(PUBLISHED, LOCAL)


def main(argv: list[str]) -> int:
    stale = []
    for name in NAMES:
        wanted = local(name)
        target = WORKFLOWS / name
        if "--check" in argv:
            if not target.is_file() or target.read_text(encoding="utf-8") != wanted:
                stale.append(name)
        else:
            target.write_text(wanted, encoding="utf-8")
    if stale:
        print(f"out of date: {', '.join(stale)} (run python tools/workflows.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
