"""Schema-valid YAML data -> typed model values (no checks beyond what typing needs)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from reconciler.desired import model
from reconciler.desired.dates import parse_instant, window_end, window_start
from reconciler.desired.defaults import dotted, layered, merge
from reconciler.desired.yamlsource import SourceMap

_PERMISSION_KINDS = ("fullAccess", "sendAs", "sendOnBehalf")


def build_tenant_config(
    data: dict[str, Any], folder: Path, source: SourceMap
) -> model.TenantConfig:
    policy = data.get("policy") or {}
    limits = policy.get("limits") or {}
    photo = policy.get("photo") or {}
    return model.TenantConfig(
        tenant_id=data["tenant"]["id"],
        domain=data["tenant"]["domain"],
        graph_url=(data.get("graph") or {}).get("url", model.DEFAULT_GRAPH_URL),
        exchange_url=(data.get("exchange") or {}).get("url", model.DEFAULT_EXCHANGE_URL),
        auth_method=data["auth"]["method"],
        client_id=data["auth"].get("clientId"),
        write_client_id=data["auth"].get("writeClientId"),
        policy=model.Policy(
            memberships=policy.get("memberships", "authoritative"),
            protected_users=tuple(u.lower() for u in policy.get("protectedUsers", [])),
            limits=model.Limits(
                max_changes=limits.get("maxChanges", model.DEFAULT_MAX_CHANGES),
                max_removals_percent=float(
                    limits.get("maxRemovalsPercent", model.DEFAULT_MAX_REMOVALS_PERCENT)
                ),
                removals_floor=limits.get("removalsFloor", model.DEFAULT_REMOVALS_FLOOR),
                kinds=tuple(sorted(
                    (name, model.KindLimit(own.get("maxRemovalsPercent"),
                                           own.get("removalsFloor")))
                    for name, own in (limits.get("kinds") or {}).items())),
            ),
            photo_max_bytes=photo.get("maxBytes", model.DEFAULT_PHOTO_MAX_BYTES),
            photo_formats=tuple(photo.get("formats", model.DEFAULT_PHOTO_FORMATS)),
            apply_due=bool((policy.get("scheduled") or {}).get("applyDue", False)),
            unmanaged_users=policy.get("unmanagedUsers", "ignore"),
        ),
        audit_file=folder / (data.get("audit") or {}).get("file", model.DEFAULT_AUDIT_FILE),
        folder=folder,
        source=source,
        concurrency=(data.get("graph") or {}).get("concurrency", model.DEFAULT_CONCURRENCY),
        defaults=dict(data.get("defaults") or {}),
        settings=dict(data.get("settings") or {}),
        recipients=tuple((data.get("credentials") or {}).get("recipients") or ()),
    )


def build_user(
    data: dict[str, Any], file: Path, folder: Path, source: SourceMap,
    config: model.TenantConfig | None = None,
) -> model.DesiredUser:
    """One user file, with the tenant's `defaults` (when `config` is given) merged under it.

    Long because: one constructor call naming every key of the user format, each read
    once; split, the keys would be read in several places."""
    taken: frozenset = frozenset()
    if config is not None and config.defaults:
        data, taken = merge(config.defaults, data)
        source = layered(source, config.source, taken)
    managed = set(_managed_keys(data))
    from_defaults = dotted(taken)
    defaulted = _shared(frozenset(k for k in managed if k in from_defaults
                                  or any(k.startswith(t + ".") for t in from_defaults)))
    mailbox = data.get("mailbox") or {}
    permissions = mailbox.get("permissions") or {}
    authentication = data.get("authentication") or {}
    phones = authentication.get("phoneMethods") or {}
    user = model.DesiredUser(
        upn=data["userPrincipalName"],
        state=data.get("state", "present"),
        source=source,
        file=file,
        managed=_shared(frozenset(managed)),
        profile=dict(data.get("profile") or {}),
        manager=data.get("manager"),
        extension_attributes=dict(data.get("extensionAttributes") or {}),
        photo=(folder / data["photo"]) if data.get("photo") else None,
        groups=_entries(data.get("groups"), ("groups",), ("name", "mail", "id")),
        directory_roles=_entries(data.get("directoryRoles"), ("directoryRoles",), ("name",)),
        licenses=[
            model.License(
                sku=item["sku"],
                disabled_plans=tuple(item["disabledPlans"]) if "disabledPlans" in item else None,
                window=_window(item),
                path=("licenses", index),
            )
            for index, item in enumerate(data.get("licenses") or [])
        ],
        mailbox_type=mailbox.get("type"),
        mailbox_permissions={
            kind: _entries(permissions.get(kind), ("mailbox", "permissions", kind), ("user",))
            for kind in _PERMISSION_KINDS if kind in permissions
        },
        forwarding=mailbox.get("forwarding"),
        automatic_replies=mailbox.get("automaticReplies"),
        calendar_permissions=[
            model.CalendarPermission(
                user=item["user"], role=item["role"], window=_window(item),
                path=("calendar", "permissions", index),
            )
            for index, item in enumerate((data.get("calendar") or {}).get("permissions") or [])
        ],
        mailbox_addresses=list(mailbox.get("addresses") or []),
        mailbox_quota=dict(mailbox.get("quota") or {}),
        calendars={
            name: [model.CalendarPermission(
                user=item["user"], role=item["role"], window=_window(item),
                path=("calendar", "calendars", name, index))
                for index, item in enumerate(items or [])]
            for name, items in ((data.get("calendar") or {}).get("calendars") or {}).items()
        },
        phone_methods=dict(phones),
        devices=_entries(data.get("devices"), ("devices",), ("name", "id")),
        applications=_entries(data.get("applications"), ("applications",), ("app",)),
        share_point=_entries(data.get("sharePoint"), ("sharePoint",), ("site",)),
        email_method=authentication.get("emailMethod"),
        authenticator_devices=tuple(authentication.get("authenticatorDevices") or ()),
        sign_in=_sign_in(data.get("signIn")),
        actions=[
            model.Action(
                id=item["id"], do=item["do"], force_change=item.get("forceChange", True),
                password_from=item.get("passwordFrom"), path=("actions", index),
                lifetime_minutes=item.get("lifetimeMinutes"),
                is_usable_once=item.get("isUsableOnce"),
                start_date_time=item.get("startDateTime"),
            )
            for index, item in enumerate(data.get("actions") or [])
        ],
        allow_on_protected=tuple(data.get("allowOnProtectedUser") or ()),
        defaulted=defaulted,
        id=data.get("id"),
        document=data,
    )
    return user


def _managed_keys(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted key paths present in the file, down to profile fields and mailbox parts."""
    keys = []
    for key, value in data.items():
        dotted = sys.intern(prefix + key) if prefix else key
        keys.append(dotted)
        if key in ("profile", "mailbox", "permissions", "authentication", "phoneMethods",
                   "extensionAttributes", "calendar") and isinstance(value, dict):
            keys.extend(_managed_keys(value, dotted + "."))
    return keys


# Shared by every entry without a schedule or extra keys, and every entry's key path is
# one tuple per position (`("groups", 3)`): 50,000 files repeat them (frozen, read-only).
_ALWAYS = model.Window()
_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})
_PATHS: dict[tuple, list[tuple]] = {}
_MANAGED: dict[frozenset[str], frozenset[str]] = {}


def _indexed(path: tuple, count: int) -> list[tuple]:
    """`[(*path, 0), ..., (*path, count - 1)]`, the same tuples for every file."""
    paths = _PATHS.setdefault(path, [])
    paths.extend((*path, index) for index in range(len(paths), count))
    return paths


def _shared(keys: frozenset[str]) -> frozenset[str]:
    """One frozenset per distinct set of managed keys (most files manage the same keys)."""
    if len(_MANAGED) >= 10_000:
        return keys
    return _MANAGED.setdefault(keys, keys)


def _window(item: dict[str, Any]) -> model.Window:
    start_text, end_text = item.get("from"), item.get("until")
    if start_text is None and end_text is None:
        return _ALWAYS
    return model.Window(
        start=window_start(start_text) if start_text else None,
        end=window_end(end_text) if end_text else None,
        start_text=start_text,
        end_text=end_text,
    )


def _entries(items: list | None, path: tuple, forms: tuple[str, ...]) -> list[model.Entry]:
    if not items:
        return []
    entries = []
    for item, at in zip(items, _indexed(path, len(items)), strict=False):
        if isinstance(item, str):
            entries.append(model.Entry(item, "ref", _ALWAYS, at, _NO_EXTRA))
            continue
        by = next(form for form in forms if form in item)
        extra = {k: v for k, v in item.items() if k not in (*forms, "from", "until")}
        entries.append(model.Entry(item[by], by, _window(item), at, extra or _NO_EXTRA))
    return entries


def _sign_in(data: dict[str, Any] | None) -> model.SignIn | None:
    if not data:
        return None
    on_block = data.get("onBlock") or {}
    block_at = parse_instant(data["blockAt"])
    assert block_at is not None  # the schema checked the format
    return model.SignIn(
        block_at=block_at,
        block_at_text=data["blockAt"],
        remove_groups=on_block.get("removeGroups", False),
        remove_directory_roles=on_block.get("removeDirectoryRoles", False),
        remove_licenses=on_block.get("removeLicenses", False),
    )
