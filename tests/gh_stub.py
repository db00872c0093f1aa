#!/usr/bin/env python3
"""A stand-in for the GitHub command line `gh`, at the process boundary: the calls the
workflows' `reconciler ci` steps make, answered from a state folder ($GH_STUB) that the
test fills (pull requests, workflow runs, artifacts) and reads back (comments)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

STATE = Path(__import__("os").environ["GH_STUB"])


def load(name: str, default: object) -> object:
    path = STATE / name
    return json.loads(path.read_text()) if path.is_file() else default


def store(name: str, value: object) -> None:
    (STATE / name).write_text(json.dumps(value, indent=2))


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def body(args: list[str]) -> str:
    field = option(args, "-F") or ""
    return Path(field.removeprefix("body=@")).read_text()


def main(args: list[str]) -> int:
    with (STATE / "calls.log").open("a") as log:
        log.write(json.dumps(args) + "\n")
    if args[:2] == ["run", "list"]:
        runs = load("runs.json", {})
        print(json.dumps(runs.get(option(args, "--commit"), [])))
        return 0
    if args[:2] == ["run", "download"]:
        source = STATE / "artifacts" / args[2] / option(args, "--name")
        if not source.is_dir():
            print("no valid artifacts found to download", file=sys.stderr)
            return 1
        shutil.copytree(source, option(args, "--dir"), dirs_exist_ok=True)
        return 0
    if args[0] != "api":
        print(f"gh stub: unexpected call {args}", file=sys.stderr)
        return 2
    method = option(args, "-X") or "GET"
    path = next(a for a in args[1:] if a.startswith("repos/"))
    parts = path.split("/")
    if parts[3] == "commits" and parts[-1] == "pulls":
        print(json.dumps(load("pulls.json", {}).get(parts[4], [])))
        return 0
    if parts[3] == "commits" and parts[-1] == "comments":
        comments = load("commit_comments.json", {})
        comments.setdefault(parts[4], []).append(body(args))
        store("commit_comments.json", comments)
        return 0
    comments = load("comments.json", {})
    if parts[3] == "issues" and parts[4] == "comments" and method == "PATCH":
        for thread in comments.values():
            for comment in thread:
                if str(comment["id"]) == parts[5]:
                    comment["body"] = body(args)
        store("comments.json", comments)
        return 0
    thread = comments.setdefault(parts[4], [])
    if method == "POST":
        thread.append({"id": 1000 + sum(len(t) for t in comments.values()), "body": body(args)})
        store("comments.json", comments)
        return 0
    print(json.dumps([thread]))  # --paginate --slurp: a list of pages
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
