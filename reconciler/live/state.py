"""Live state as plain values: users, groups with members, roles, SKUs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class LiveUser:
    """One live user. `props` is the user as Graph listed it (null properties left out:
    read it with `.get`), shared with the warm-read cache rather than copied."""

    id: str
    upn: str
    props: dict[str, Any]
    manager_id: str | None = None
    licenses: dict[str, list[str]] = field(default_factory=dict)  # direct: skuId -> disabled
    inherited_licenses: frozenset[str] = frozenset()  # skuIds assigned by a group
    extension: dict[str, Any] | None = None  # our open extension (photo hash, actions run)
    has_photo: bool | None = None
    mailbox: dict[str, Any] | None = None  # Get-Mailbox output; None: no mailbox
    full_access: dict[str, bool | None] | None = None  # trustee (lower) -> automapping
    send_as: set[str] | None = None  # trustees (lower)
    calendar: list[dict[str, Any]] | None = None  # calendarPermission objects
    # calendars by name (lower): Graph's calendar plus "permissions" (named ones only)
    calendars: dict[str, dict[str, Any]] | None = None
    # Exchange AccessRights of `custom` entries: calendar name (lower, "" = primary) ->
    # user (display name or address, lower) -> rights
    folder_rights: dict[str, dict[str, list[str]]] | None = None
    replies: dict[str, Any] | None = None  # automaticRepliesSetting
    phones: dict[str, dict[str, Any]] | None = None  # phoneType -> phone method
    methods: int = 0  # authentication methods other than phones and the password
    email_method: dict[str, Any] | None = None  # the SSPR email method, if any
    authenticators: list[dict[str, Any]] = field(default_factory=list)  # Authenticator apps
    app_roles: list[dict[str, Any]] | None = None  # appRoleAssignments (incl. via groups)
    # What reads with no field of their own stored for this user, by the read's key (None
    # until one does: no dict per user for the reads that have fields).
    slots: dict[str, Any] | None = None

    @property
    def synced(self) -> bool:
        return bool(self.props.get("onPremisesSyncEnabled"))

    def slot(self, key: str) -> Any:
        """What the read `key` stored for this user (None: nothing, or not read)."""
        return None if self.slots is None else self.slots.get(key)

    def keep(self, key: str, value: Any) -> None:
        """Store a read's value for this user under the read's key."""
        if self.slots is None:
            self.slots = {}
        self.slots[key] = value


@dataclass(slots=True)
class LiveGroup:
    id: str
    display_name: str
    mail: str | None
    kind: str  # security | unified | distribution | mailEnabledSecurity | dynamic
    synced: bool
    members: set[str] = field(default_factory=set)
    role_assignable: bool = False  # isAssignableToRole: its members may hold directory roles

    @property
    def writable(self) -> bool:
        return self.kind not in ("dynamic",) and not self.synced

    @property
    def via_exchange(self) -> bool:
        return self.kind in ("distribution", "mailEnabledSecurity")


@dataclass
class LiveSku:
    sku_id: str
    part_number: str
    enabled: int
    consumed: int
    plans: dict[str, str]  # servicePlanName -> servicePlanId

    @property
    def free(self) -> int:
        return self.enabled - self.consumed


@dataclass
class LiveDevice:
    """An Intune managed device; `primary` is the primary user's id read from the `users`
    navigation (None: shared, or not read because no file and no managed user needs it)."""

    id: str
    name: str
    enrolled_by: str | None  # the flat userId: the enrolling user, not always the primary
    operating_system: str | None = None
    primary: str | None = None
    primary_read: bool = False


@dataclass
class LiveSite:
    """A SharePoint site's default groups: claims login names (lower case) per group, and
    for a group-connected site the Microsoft 365 group and its owners' ids."""

    url: str
    group_id: str | None
    members: dict[str, set[str]] = field(default_factory=dict)  # visitors|members|owners
    group_owners: set[str] = field(default_factory=set)
    error: str | None = None  # why the site could not be read


@dataclass(slots=True)
class RoleAssignment:
    id: str
    role_id: str
    principal_id: str
    scope: str


@dataclass
class LiveState:
    users: dict[str, LiveUser] = field(default_factory=dict)  # by id
    deleted_users: dict[str, str] = field(default_factory=dict)  # upn (lower) -> id
    groups: dict[str, LiveGroup] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # role definition id -> displayName
    assignments: list[RoleAssignment] = field(default_factory=list)
    skus: dict[str, LiveSku] = field(default_factory=dict)  # by skuId
    authorization_policy: dict[str, Any] | None = None  # policies/authorizationPolicy
    service_principals: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    devices: dict[str, LiveDevice] = field(default_factory=dict)  # by managed device id
    devices_error: str | None = None  # why Intune could not be read (no licence...)
    risky: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> riskyUser
    risky_error: str | None = None  # why Identity Protection could not be read
    sites: dict[str, LiveSite] = field(default_factory=dict)  # by site URL
    read: set[str] = field(default_factory=set)  # the keys of the reads made
    # What tenant-wide reads with no field of their own stored, by the read's key.
    slots: dict[str, Any] = field(default_factory=dict)
    # A file's `id` anchor whose live user has another UPN: new UPN (lower) -> id. The user
    # is found under the file's name, so the plan renames it rather than creating another.
    aliases: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_upn: dict[str, LiveUser] | None = None
        self._groups_of: dict[str, list[str]] | None = None
        self._assignments: dict[str, list[RoleAssignment]] | None = None
        self._by_mail: dict[str, LiveUser] | None = None

    def user_by_upn(self, upn: str) -> LiveUser | None:
        if self._by_upn is None:
            self._by_upn = {u.upn.lower(): u for u in self.users.values()}
        found = self._by_upn.get(upn.lower())
        if found is None and self.aliases:
            alias = self.aliases.get(upn.lower())
            return self.users.get(alias) if alias else None
        return found

    def anchor(self, anchors: dict[str, str]) -> None:
        """Record `id` anchors (file UPN -> id) whose live user goes by another UPN; a UPN
        held by another live user is no alias (the plan says so)."""
        for upn, user_id in anchors.items():
            user = self.users.get(user_id)
            if user is not None and user.upn.lower() != upn.lower() \
                    and self.user_by_upn(upn) is None:
                self.aliases[upn.lower()] = user_id

    def user_by_mail(self, address: str) -> LiveUser | None:
        """A user by UPN or primary mail address."""
        if self._by_mail is None:
            self._by_mail = {(u.props.get("mail") or "").lower(): u
                             for u in self.users.values() if u.props.get("mail")}
        return self.user_by_upn(address) or self._by_mail.get(address.lower())

    def groups_of(self, user_id: str) -> set[str]:
        """The ids of the groups `user_id` is a direct member of (a new set each call)."""
        if self._groups_of is None:
            index: dict[str, list[str]] = {}
            for group in self.groups.values():
                for member in group.members:
                    index.setdefault(member, []).append(group.id)
            self._groups_of = index  # lists: a set per user was ~700 bytes at 50,000 users
        return set(self._groups_of.get(user_id, ()))

    def assignments_of(self, principal_id: str) -> list[RoleAssignment]:
        if self._assignments is None:
            self._assignments = {}
            for assignment in self.assignments:
                self._assignments.setdefault(assignment.principal_id, []).append(assignment)
        return self._assignments.get(principal_id, [])
