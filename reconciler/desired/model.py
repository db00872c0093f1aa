"""Typed values of a tenant folder: what the YAML says, with where it says it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reconciler.desired.yamlsource import SourceMap

# Safety defaults, used when tenant.yaml does not set them.
DEFAULT_MAX_CHANGES = 500
DEFAULT_MAX_REMOVALS_PERCENT = 10.0
DEFAULT_REMOVALS_FLOOR = 5
DEFAULT_PHOTO_MAX_BYTES = 819_200
DEFAULT_PHOTO_FORMATS = ("jpeg", "png", "gif")
DEFAULT_GRAPH_URL = "https://graph.microsoft.com"
DEFAULT_EXCHANGE_URL = "https://outlook.office365.com"
DEFAULT_AUDIT_FILE = ".reconciler/audit.jsonl"
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class Window:
    """When a list entry is in force: [start, end). None is unbounded."""

    start: datetime | None = None
    end: datetime | None = None
    start_text: str | None = None
    end_text: str | None = None

    def active(self, now: datetime) -> bool:
        return (self.start is None or self.start <= now) and (self.end is None or now < self.end)

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None


@dataclass(frozen=True, slots=True)
class Entry:
    """One list entry (group, role, trustee...): its reference text and schedule.

    `by` says how the reference names its target: `name`, `mail`, `id` or `user`;
    a plain string entry is `ref` (resolved later by trying each form).
    """

    ref: str
    by: str
    window: Window
    path: tuple
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class License:
    sku: str
    disabled_plans: tuple[str, ...] | None
    window: Window
    path: tuple


@dataclass(frozen=True, slots=True)
class CalendarPermission:
    user: str
    role: str
    window: Window
    path: tuple


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    do: str
    force_change: bool
    password_from: str | None
    path: tuple
    lifetime_minutes: int | None = None  # issueTemporaryAccessPass (None: policy default)
    is_usable_once: bool | None = None
    start_date_time: str | None = None


@dataclass(frozen=True)
class SignIn:
    block_at: datetime
    block_at_text: str
    remove_groups: bool
    remove_directory_roles: bool
    remove_licenses: bool


@dataclass(slots=True)
class DesiredUser:
    """One user file. A key absent from `managed` is not managed; None values clear.
    (Slots: 50,000 of them are held through a whole run.)"""

    upn: str
    state: str
    source: SourceMap
    file: Path
    managed: frozenset[str]
    profile: dict[str, Any]
    manager: str | None = None
    extension_attributes: dict[str, str | None] = field(default_factory=dict)
    photo: Path | None = None
    groups: list[Entry] = field(default_factory=list)
    directory_roles: list[Entry] = field(default_factory=list)
    licenses: list[License] = field(default_factory=list)
    mailbox_type: str | None = None
    mailbox_permissions: dict[str, list[Entry]] = field(default_factory=dict)
    forwarding: dict[str, Any] | None = None
    automatic_replies: dict[str, Any] | None = None
    calendar_permissions: list[CalendarPermission] = field(default_factory=list)
    mailbox_addresses: list[str] = field(default_factory=list)  # secondary smtp: entries
    mailbox_quota: dict[str, str] = field(default_factory=dict)  # issueWarning... -> size
    calendars: dict[str, list[CalendarPermission]] = field(default_factory=dict)  # by name
    phone_methods: dict[str, str | None] = field(default_factory=dict)
    devices: list[Entry] = field(default_factory=list)  # by `name` (deviceName) or `id`
    applications: list[Entry] = field(default_factory=list)  # `app`; extra: `role`
    share_point: list[Entry] = field(default_factory=list)  # `site`; extra: `group`
    email_method: str | None = None
    authenticator_devices: tuple[str, ...] = ()
    sign_in: SignIn | None = None
    actions: list[Action] = field(default_factory=list)
    allow_on_protected: tuple[str, ...] = ()  # allowOnProtectedUser
    defaulted: frozenset[str] = frozenset()  # managed keys whose value came from `defaults`
    id: str | None = None  # the directory object this file anchors to (`id`)
    # The whole document (defaults merged, validated): a new area reads its own key here
    # (`user.document.get("sponsors")`) without a field of its own in this model.
    document: dict[str, Any] = field(default_factory=dict)

    def manages(self, key: str) -> bool:
        """`groups`, `mailbox.forwarding`, `profile.jobTitle`... in the file or `defaults`?"""
        return key in self.managed

    def only_defaulted(self, key: str) -> bool:
        """Whether every managed key at or under `key` came from tenant.yaml's `defaults`
        (a default that cannot apply to this user is then satisfied, not an error)."""
        under = [k for k in self.managed if k == key or k.startswith(key + ".")]
        return bool(under) and all(k in self.defaulted for k in under)


@dataclass(frozen=True)
class KindLimit:
    """`policy.limits.kinds.<name>`: one kind's own thresholds (None: the tenant-wide one)."""

    max_removals_percent: float | None = None
    removals_floor: int | None = None


@dataclass(frozen=True)
class Limits:
    max_changes: int = DEFAULT_MAX_CHANGES
    max_removals_percent: float = DEFAULT_MAX_REMOVALS_PERCENT
    removals_floor: int = DEFAULT_REMOVALS_FLOOR
    kinds: tuple[tuple[str, KindLimit], ...] = ()  # (name in policy.limits.kinds, limit)

    def of_kind(self, name: str) -> tuple[float, int]:
        """(max removals percent, floor) for one kind: its own, else the tenant-wide ones."""
        own = dict(self.kinds).get(name, KindLimit())
        percent = own.max_removals_percent
        floor = own.removals_floor
        return (self.max_removals_percent if percent is None else percent,
                self.removals_floor if floor is None else floor)


@dataclass(frozen=True)
class Policy:
    memberships: str = "authoritative"
    protected_users: tuple[str, ...] = ()
    limits: Limits = Limits()
    photo_max_bytes: int = DEFAULT_PHOTO_MAX_BYTES
    photo_formats: tuple[str, ...] = DEFAULT_PHOTO_FORMATS
    apply_due: bool = False
    unmanaged_users: str = "ignore"  # report | ignore: users without a file (import: report)


@dataclass(frozen=True)
class TenantConfig:
    tenant_id: str
    domain: str
    graph_url: str
    exchange_url: str
    auth_method: str
    client_id: str | None
    policy: Policy
    audit_file: Path
    folder: Path
    source: SourceMap
    concurrency: int = DEFAULT_CONCURRENCY
    defaults: dict[str, Any] = field(default_factory=dict)  # merged under every user file
    settings: dict[str, Any] = field(default_factory=dict)  # tenant-wide (settings area)
    write_client_id: str | None = None  # the write app (apply); None: client_id does both
    recipients: tuple[str, ...] = ()  # credentials.recipients: age recipients of secrets


@dataclass
class DesiredTenant:
    config: TenantConfig
    users: list[DesiredUser]

    def user(self, upn: str) -> DesiredUser | None:
        index = self.__dict__.get("_by_upn")
        if index is None or len(index) != len(self.users):
            index = {u.upn.lower(): u for u in self.users}
            self.__dict__["_by_upn"] = index
        return index.get(upn.lower())
