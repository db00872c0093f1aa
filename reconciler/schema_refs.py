"""Where editors find the schemas: the `$schema` comment at the top of each YAML file.

The schemas are published as raw files at the release tag of the package version
(`$id` of each schema names that URL): a user's own repository points its files there, and
a file in a repository that carries its own `schemas/` folder (this one) points at that.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPOSITORY = "reconciler/reconciler"
SCHEMA_URL = "https://raw.githubusercontent.com/{repository}/v{version}/schemas/{kind}.schema.json"


def package_version() -> str:
    try:
        return version("reconciler")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"


def schema_url(kind: str, release: str | None = None) -> str:
    """The published URL of the `kind` schema (user, tenant) at a release tag."""
    return SCHEMA_URL.format(repository=REPOSITORY, version=release or package_version(),
                             kind=kind)


def schema_reference(kind: str, file: Path) -> str:
    """What the `$schema` comment of `file` should say: the path to the `schemas/` folder of
    the repository holding `file`, relative to it, when there is one; otherwise the URL."""
    name = f"{kind}.schema.json"
    for parent in file.resolve().parents:
        candidate = parent / "schemas" / name
        if candidate.is_file():
            return os.path.relpath(candidate, file.resolve().parent)
        if (parent / ".git").exists():
            break
    return schema_url(kind)


def comment(kind: str, file: Path) -> str:
    return f"# yaml-language-server: $schema={schema_reference(kind, file)}\n"
