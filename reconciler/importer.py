"""`reconciler import`: one YAML file per live user, so a tenant comes under management.

Only what differs from a new user's defaults is written, references are by name, and a
plan right after an import shows no changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from reconciler import clock, schema_refs
from reconciler.areas import Nothing, registry
from reconciler.desired.build import build_user
from reconciler.desired.loader import TENANT_FILE, USERS_FOLDER, load_config, user_files
from reconciler.desired.model import DesiredTenant, TenantConfig
from reconciler.desired.schema import load_schema
from reconciler.desired.yamlsource import SourceMap, load_yaml
from reconciler.graph.connect import connect
from reconciler.live.reader import read_live
from reconciler.live.reads import EVERY_USER, Reads
from reconciler.live.state import LiveState, LiveUser
from reconciler.plan.planner import make_plan


def import_reads(upns: set[str], documents: list[Any] | None = None) -> Reads:
    """Everything an import writes from: each area's `import_reads` (per-user ones for
    `upns`), and what each area's `import_hints` finds named in the folder's files
    (`documents`: SharePoint sites, which no API lists per user)."""
    reads = Reads()
    for area in registry.AREAS:
        for read in area.import_reads:
            reads.add(read)
            for upn in upns:
                reads.add(read, upn)
        if area.import_hints is not None:
            reads.update(area.import_hints(documents or []))
    return reads


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key (as people write them)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def import_users(folder: Path, only: tuple[str, ...] = (),
                 progress: Callable[[str], None] = lambda _m: None) -> tuple[list[Path], list[str]]:
    """Write files for live users (all, or `only`); returns (written, skipped UPNs)."""
    config = load_config(folder)
    connection = connect(config, read_only=True)
    wanted = set(only) or {EVERY_USER}
    try:
        state = read_live(connection.graph, import_reads(wanted, _documents(folder)),
                          exchange=connection.exchange, sharepoint=connection.sharepoint,
                          progress=progress)
    finally:
        connection.close()
    chosen = {o.lower() for o in only}
    upns = {u.upn for u in state.users.values() if not chosen or u.upn.lower() in chosen}
    existing = _existing_upns(folder)
    written, skipped = [], []
    target = folder / USERS_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    docs: dict[str, dict[str, Any]] = {}
    for user in sorted(state.users.values(), key=lambda u: u.upn.lower()):
        if user.upn not in upns:
            continue
        if user.upn.lower() in existing:
            skipped.append(user.upn)
            continue
        docs[user.upn] = user_document(user, state)
    explicit_defaults(docs, state, config)
    for upn, doc in docs.items():
        path = _free_name(target, upn)
        header = schema_refs.comment("user", path)
        body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False,
                         allow_unicode=True, default_flow_style=False, width=100)
        path.write_text(header + body, encoding="utf-8")
        written.append(path)
    if written:
        report_unmanaged(folder, progress)
    return written, skipped


# The YAML key each change kind comes from (the target completes it where it names a field).
_KIND_KEYS = {
    "group": "groups", "directoryRole": "directoryRoles", "license": "licenses",
    "forwarding": "mailbox.forwarding", "mailboxType": "mailbox.type",
    "automaticReplies": "mailbox.automaticReplies", "calendarPermission": "calendar.permissions",
    "profile": "profile.{target}", "extensionAttribute": "extensionAttributes.{target}",
    "phoneMethod": "authentication.phoneMethods.{target}",
    "mailboxPermission": "mailbox.permissions.{right}",
}


def explicit_defaults(docs: dict[str, dict[str, Any]], state: LiveState,
                      config: TenantConfig) -> None:
    """Write into each document what the tenant's `defaults` would otherwise change: the
    user's live value (an empty list, null), so a plan right after the import is clean and
    a later change to that key is drift."""
    if not config.defaults or not docs:
        return
    users = [build_user(doc, config.folder / USERS_FOLDER / f"{upn}.yaml", config.folder,
                        SourceMap(upn), config) for upn, doc in docs.items()]
    plan = make_plan(DesiredTenant(config, users), state, clock.now(), users, tenant=False)
    by_upn = {u.upn: u for u in users}
    for change in plan.changes:
        desired = by_upn.get(change.user)
        template = _KIND_KEYS.get(change.kind)
        if desired is None or template is None:
            continue
        key = template.format(target=change.target,
                              right=str(change.apply.get("right") or ""))
        if key not in desired.defaulted:
            continue
        live = state.user_by_upn(change.user)
        _set(docs[change.user], key.split("."), _live_value(key, live))


def _live_value(key: str, live: LiveUser | None) -> Any:
    """What the file must say to keep the live value: lists and settings that import
    leaves out when empty are empty; a profile field is its live value."""
    parts = key.split(".")
    if parts[0] in ("groups", "directoryRoles", "licenses") or parts[-1] in (
            "fullAccess", "sendAs", "sendOnBehalf", "permissions"):
        return []
    if parts[0] == "profile" and live is not None:
        value = live.props.get(parts[1])
        return value if isinstance(value, str | bool | int | float | list) or value is None \
            else str(value)
    if key == "mailbox.type" and live is not None:
        return "shared" if (live.mailbox or {}).get("RecipientTypeDetails") == \
            "SharedMailbox" else "user"
    if key == "mailbox.automaticReplies":
        return {"status": "disabled"}
    return None


def _set(doc: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        child = doc.get(part)
        if not isinstance(child, dict):
            child = doc[part] = {}
        doc = child
    doc[path[-1]] = value


def report_unmanaged(folder: Path, progress: Callable[[str], None]) -> None:
    """A tenant brought under management by import lists users without a file
    (`policy.unmanagedUsers: report`) unless tenant.yaml already says otherwise."""
    path = folder / TENANT_FILE
    text = path.read_text(encoding="utf-8")
    if re.search(r"^\s+unmanagedUsers\s*:", text, re.M):
        return
    line = "  unmanagedUsers: report     # users without a file: listed, never changed\n"
    match = re.search(r"^policy:[ \t]*(#.*)?\n", text, re.M)
    if match and "{" not in text[match.start():match.end()]:
        text = text[:match.end()] + line + text[match.end():]
    elif re.search(r"^policy:", text, re.M):
        progress("import: add `unmanagedUsers: report` under policy in tenant.yaml to list "
                 "users without a file")
        return
    else:
        text = text.rstrip("\n") + "\npolicy:\n" + line
    path.write_text(text, encoding="utf-8")
    progress("import: tenant.yaml now reports users without a file "
             "(policy.unmanagedUsers: report)")


def user_document(user: LiveUser, state: LiveState) -> dict[str, Any]:
    """A live user as its YAML file would say it: each area's part, in the order the
    user schema lists its keys."""
    doc: dict[str, Any] = {}
    for area in registry.AREAS:
        if not isinstance(area.import_user, Nothing):
            for key, value in area.import_user(user, state).items():
                if isinstance(value, dict) and isinstance(doc.get(key), dict):
                    doc[key] = {**doc[key], **value}  # two areas share a key (mailbox)
                else:
                    doc[key] = value
    order = list(load_schema("user")["properties"])
    return dict(sorted(doc.items(), key=lambda kv: order.index(kv[0])
                       if kv[0] in order else len(order)))


def _existing_upns(folder: Path) -> set[str]:
    upns = set()
    for path in user_files(folder):
        loaded = load_yaml(path, str(path))
        if isinstance(loaded.data, dict) and isinstance(loaded.data.get("userPrincipalName"),
                                                        str):
            upns.add(loaded.data["userPrincipalName"].lower())
    return upns


def _documents(folder: Path) -> list[Any]:
    """The folder's user files as parsed YAML, unvalidated (validate and plan report the
    bad ones; an import only looks for hints in them)."""
    return [load_yaml(path, str(path)).data for path in user_files(folder)]


def _free_name(folder: Path, upn: str) -> Path:
    local, _, domain = upn.partition("@")
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", local)
    path = folder / f"{stem}.yaml"
    if path.exists():
        path = folder / f"{stem}@{re.sub(r'[^A-Za-z0-9.-]', '_', domain)}.yaml"
    return path

