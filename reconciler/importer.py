"""`reconciler import`: one YAML file per live user, so a tenant comes under management.

Only what differs from a new user's defaults is written, references are by name, and a
plan right after an import shows no changes."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from reconciler.areas.phones import TYPES as PHONE_TYPES
from reconciler.desired.loader import USERS_FOLDER, load_config, user_files
from reconciler.desired.schema import load_schema, schema_dir
from reconciler.desired.yamlsource import load_yaml
from reconciler.graph.connect import connect
from reconciler.graph.properties import PROFILE_ORDER
from reconciler.live.reader import read_live
from reconciler.live.state import LiveState, LiveUser

ENUMS = {"ageGroup": ("minor", "notAdult", "adult"),
         "consentProvidedForMinor": ("granted", "denied", "notRequired")}
DEFAULTS = {"accountEnabled": True, "userType": "Member", "showInAddressList": None}
DATE_FIELDS = ("employeeHireDate", "employeeLeaveDateTime")


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key (as people write them)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def import_users(folder: Path, only: tuple[str, ...] = (),
                 progress: Callable[[str], None] = lambda _m: None) -> tuple[list[Path], list[str]]:
    """Write files for live users (all, or `only`); returns (written, skipped UPNs)."""
    config = load_config(folder)
    connection = connect(config, read_only=True)
    wanted = set(only) or {"*"}
    try:
        per_user = {"phones": wanted, "calendar": wanted, "fullAccess": wanted}
        state = read_live(connection.graph, {"managers", "groups", "roles", "skus",
                                             "mailboxes"}, per_user,
                          exchange=connection.exchange, progress=progress)
    finally:
        connection.close()
    chosen = {o.lower() for o in only}
    upns = {u.upn for u in state.users.values() if not chosen or u.upn.lower() in chosen}
    existing = _existing_upns(folder)
    written, skipped = [], []
    target = folder / USERS_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for user in sorted(state.users.values(), key=lambda u: u.upn.lower()):
        if user.upn not in upns:
            continue
        if user.upn.lower() in existing:
            skipped.append(user.upn)
            continue
        path = _free_name(target, user.upn)
        header = "# yaml-language-server: $schema=" + os.path.relpath(
            schema_dir() / "user.schema.json", path.parent) + "\n"
        body = yaml.dump(user_document(user, state), Dumper=_Dumper, sort_keys=False,
                         allow_unicode=True, default_flow_style=False, width=100)
        path.write_text(header + body, encoding="utf-8")
        written.append(path)
    return written, skipped


def user_document(user: LiveUser, state: LiveState) -> dict[str, Any]:
    """A live user as its YAML file would say it."""
    doc: dict[str, Any] = {"userPrincipalName": user.upn}
    profile = {}
    fields = load_schema("user")["$defs"]["profile"]["properties"]
    for name in PROFILE_ORDER:
        if name not in fields:
            continue
        value = _yaml_value(name, user.props.get(name))
        if value in (None, "", [], {}) or DEFAULTS.get(name, object()) == value:
            continue
        profile[name] = value
    if profile:
        doc["profile"] = profile
    manager = state.users.get(user.manager_id) if user.manager_id else None
    if manager is not None:
        doc["manager"] = manager.upn
    extensions = {k: v for k, v in (user.props.get("onPremisesExtensionAttributes") or {})
                  .items() if v}
    if extensions and not (user.synced or user.props.get("onPremisesImmutableId")):
        doc["extensionAttributes"] = dict(sorted(extensions.items(),
                                                 key=lambda kv: int(kv[0][18:])))
    groups = _groups(user, state)
    if groups:
        doc["groups"] = groups
    roles = sorted(state.roles.get(a.role_id, a.role_id) for a in state.assignments_of(user.id)
                   if a.scope == "/")
    if roles:
        doc["directoryRoles"] = roles
    licenses = _licenses(user, state)
    if licenses:
        doc["licenses"] = licenses
    mailbox = _mailbox(user, state)
    if mailbox:
        doc["mailbox"] = mailbox
    calendar = [{"user": e["emailAddress"]["address"], "role": e["role"]}
                for e in user.calendar or [] if e.get("isRemovable", True)
                and (e.get("emailAddress") or {}).get("address")]
    if calendar:
        doc["calendar"] = {"permissions": sorted(calendar, key=lambda p: p["user"])}
    phones = {t: m["phoneNumber"] for t, m in (user.phones or {}).items() if t in PHONE_TYPES}
    if phones:
        doc["authentication"] = {"phoneMethods": {t: phones[t] for t in PHONE_TYPES
                                                  if t in phones}}
    return doc


def _yaml_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in ENUMS:
        return next((e for e in ENUMS[name] if e.lower() == str(value).lower()), value)
    if name in DATE_FIELDS and isinstance(value, str):
        return value[:10] if value.endswith(("T00:00:00Z", "T00:00:00.0000000Z")) or \
            re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00(\.0+)?Z", value) else value
    return value


def _groups(user: LiveUser, state: LiveState) -> list[Any]:
    names: dict[str, int] = {}
    for group in state.groups.values():
        names[group.display_name.lower()] = names.get(group.display_name.lower(), 0) + 1
    out: list[Any] = []
    for group_id in state.groups_of(user.id):
        group = state.groups[group_id]
        if not group.writable:
            continue  # dynamic and synced groups are not managed from a file
        if names[group.display_name.lower()] == 1:
            out.append(group.display_name)
        elif group.mail:
            out.append(group.mail)
        else:
            out.append({"id": group.id})
    return sorted(out, key=lambda g: str(g).lower() if not isinstance(g, dict) else g["id"])


def _licenses(user: LiveUser, state: LiveState) -> list[dict[str, Any]]:
    out = []
    for sku_id, disabled in sorted(user.licenses.items()):
        sku = state.skus.get(sku_id)
        if sku is None:
            continue
        entry: dict[str, Any] = {"sku": sku.part_number}
        names = {plan_id: name for name, plan_id in sku.plans.items()}
        if disabled:
            entry["disabledPlans"] = sorted(names.get(p, p) for p in disabled)
        out.append(entry)
    return sorted(out, key=lambda e: e["sku"])


def _mailbox(user: LiveUser, state: LiveState) -> dict[str, Any]:
    box = user.mailbox
    if box is None:
        return {}
    out: dict[str, Any] = {}
    if box.get("RecipientTypeDetails") == "SharedMailbox":
        out["type"] = "shared"
    forward = str(box.get("ForwardingSmtpAddress") or "").removeprefix("smtp:")
    if forward:
        out["forwarding"] = {"address": forward,
                             "keepCopy": bool(box.get("DeliverToMailboxAndForward"))}
    permissions = {
        "fullAccess": sorted(user.full_access or {}),
        "sendAs": sorted(user.send_as or ()),
        "sendOnBehalf": sorted(str(t).lower() for t in box.get("GrantSendOnBehalfTo") or []),
    }
    permissions = {k: v for k, v in permissions.items() if v}
    if permissions:
        out["permissions"] = permissions
    return out


def _existing_upns(folder: Path) -> set[str]:
    upns = set()
    for path in user_files(folder):
        loaded = load_yaml(path, str(path))
        if isinstance(loaded.data, dict) and isinstance(loaded.data.get("userPrincipalName"),
                                                        str):
            upns.add(loaded.data["userPrincipalName"].lower())
    return upns


def _free_name(folder: Path, upn: str) -> Path:
    local, _, domain = upn.partition("@")
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", local)
    path = folder / f"{stem}.yaml"
    if path.exists():
        path = folder / f"{stem}@{re.sub(r'[^A-Za-z0-9.-]', '_', domain)}.yaml"
    return path

