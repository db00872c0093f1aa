"""Reading a tenant folder: every file parsed, checked, and turned into typed values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.bulk import collector_paused
from reconciler.desired.build import build_tenant_config, build_user
from reconciler.desired.checks import check_tenant_config, check_users
from reconciler.desired.confine import Confinement, inside
from reconciler.desired.model import DesiredTenant, DesiredUser, TenantConfig
from reconciler.desired.parsed import ParsedFiles, cache_dir
from reconciler.desired.problems import InputError, Problem
from reconciler.desired.schema import validate_document
from reconciler.desired.secrets import find_secrets
from reconciler.desired.yamlsource import LoadedYaml, format_path, load_yaml

TENANT_FILE = "tenant.yaml"
USERS_FOLDER = "users"


@dataclass
class LoadResult:
    tenant: DesiredTenant | None
    problems: list[Problem] = field(default_factory=list)
    files: int = 0


def user_files(folder: Path) -> list[Path]:
    """Every user file under `users/` (.yaml or .yml; subfolders too, not through a
    symlinked folder), in a stable order: Path order (by parts)."""
    users = folder / USERS_FOLDER
    if not users.is_dir():
        return []
    found: list[Path] = []
    _walk(users, found)
    return sorted(found, key=lambda p: p.parts)


def _walk(directory: Path, found: list[Path]) -> None:
    try:
        with os.scandir(directory) as listing:
            entries = list(listing)
    except PermissionError:
        return  # as Path.rglob does
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _walk(directory / entry.name, found)
            continue
        dot = entry.name.rfind(".")  # Path.suffix: a name like `.yaml` has none
        if 0 < dot and entry.name[dot:] in (".yaml", ".yml") and entry.is_file():
            found.append(directory / entry.name)


@collector_paused()
def load_tenant(folder: Path, *, reuse: bool = True) -> LoadResult:
    """Parse, validate and build the whole folder; problems are collected, never raised.

    `reuse` False: every file is parsed from its YAML, and the parsed-files cache is
    neither read nor written. Whatever writes to the tenant loads this way, so a cache
    entry swapped by someone who can write the cache directory (a valid document under
    another file's digest) can at worst mislead a plan, which apply then refuses: apply
    re-judges against a plan made from the files themselves."""
    result = LoadResult(tenant=None)
    config = _load_config(folder, result)
    users: list[DesiredUser] = []
    parsed = ParsedFiles(cache_dir(folder, config.graph_url) if config and reuse else None,
                         config.tenant_id if config else "")
    confined = Confinement(folder)
    for path in user_files(folder):
        result.files += 1
        display = str(path)  # user_files' paths are built under `folder`: see _display
        if not confined(path):  # a symlink (or a link in the way) out of the folder
            result.problems.append(Problem(display, 1, 1, "(document)",
                                           "resolves outside the tenant folder (a symlink?); "
                                           "user files must lie inside it: not read"))
            continue
        loaded = _load_user(path, display, result, parsed)
        if loaded is not None:
            users.append(build_user(loaded.data, path, folder, loaded.source, config))
    result.problems += check_users(users, config)
    if config is not None:
        result.tenant = DesiredTenant(config=config, users=users)
    result.problems.sort()
    if not result.problems:
        parsed.save()
    return result


def load_tenant_or_raise(folder: Path, *, reuse: bool = True) -> DesiredTenant:
    """The folder's desired state, or InputError listing everything wrong with it
    (`reuse`: as in `load_tenant`)."""
    result = load_tenant(folder, reuse=reuse)
    if result.problems or result.tenant is None:
        raise InputError(result.problems)
    return result.tenant


def load_config(folder: Path) -> TenantConfig:
    """tenant.yaml alone (import and other commands that need no user files)."""
    result = LoadResult(tenant=None)
    config = _load_config(folder, result)
    if result.problems or config is None:
        raise InputError(sorted(result.problems))
    return config


def _load_config(folder: Path, result: LoadResult) -> TenantConfig | None:
    path = folder / TENANT_FILE
    display = _display(folder, path)
    if path.is_file() and not inside(folder, path):
        result.problems.append(Problem(display, 1, 1, "(document)",
                                       "resolves outside the tenant folder (a symlink?): "
                                       "not read"))
        return None
    if not path.is_file():
        result.problems.append(Problem(
            display, 1, 1, "(document)",
            "missing (a tenant folder holds tenant.yaml and users/*.yaml)",
        ))
        return None
    result.files += 1
    loaded = _load_checked(path, display, "tenant", result)
    if loaded is None:
        return None
    config = build_tenant_config(loaded.data, folder, loaded.source)
    result.problems += check_tenant_config(config)
    return config


def _load_user(path: Path, display: str, result: LoadResult,
               parsed: ParsedFiles) -> LoadedYaml | None:
    """One user file: as the last run parsed it when its bytes are the same, else parsed
    and checked (and kept for the next run when usable)."""
    try:
        digest, text = parsed.read(path)
    except OSError:
        return _load_checked(path, display, "user", result)  # says what is wrong, as ever
    known = parsed.lookup(digest, path, display)
    if known is not None:
        return known
    loaded = _load_checked(path, display, "user", result, text)
    if loaded is not None:
        parsed.keep(digest, loaded.data)
    return loaded


def _load_checked(path: Path, display: str, schema: str, result: LoadResult,
                  text: str | None = None) -> LoadedYaml | None:
    """Parse and schema-check one file; None (with problems recorded) when it is not usable."""
    loaded = load_yaml(path, display, located=schema != "user",  # positions: when needed
                       text=text)
    problems = list(loaded.problems)
    if loaded.data is None and not problems:
        problems.append(Problem(display, 1, 1, "(document)", "the file is empty"))
    if not problems:
        secrets = list(find_secrets(loaded.data))
        problems += [loaded.source.problem(p, why) for p, why in secrets]
        secret_paths = {p for p, _ in secrets}
        problems += [
            p for p in validate_document(schema, loaded.data, loaded.source)
            if not any(p.path.startswith(format_path(sp)) for sp in secret_paths)
        ]
    result.problems += problems
    return None if problems else loaded


def _display(folder: Path, path: Path) -> str:
    return str(folder / path.relative_to(folder))
