"""What planning asks the live reader for: typed requests, declared by the areas.

A `Collection` is read once for the whole tenant; a `PerUser` read is made only for the
users that need it (batched). `Reads` gathers what every planned user's areas ask for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Collection(Enum):
    """A tenant-wide listing."""

    MANAGERS = "managers"  # users with $expand=manager
    DELETED = "deleted"  # deleted users (restorable)
    GROUPS = "groups"  # groups with members (delta)
    ROLES = "roles"  # role definitions and assignments
    SKUS = "skus"  # subscribed SKUs and their plans
    MAILBOXES = "mailboxes"  # Get-Mailbox and SendAs grants (Exchange)
    AUTHORIZATION_POLICY = "authorizationPolicy"  # the tenant's User settings (one GET)
    SERVICE_PRINCIPALS = "servicePrincipals"  # enterprise apps and their app roles
    RISKY_USERS = "riskyUsers"  # Identity Protection: users at risk (one filtered listing)
    DEVICES = "devices"  # Intune managed devices and the primary user of those that matter


class PerUser(Enum):
    """A read Graph or Exchange offers only one user at a time."""

    EXTENSION = "extension"  # our open extension io.reconciler.state
    PHOTO_PRESENCE = "photoPresence"  # whether a photo exists
    PHONES = "phones"  # authentication methods
    FULL_ACCESS = "fullAccess"  # Get-MailboxPermission (needs MAILBOXES)
    CALENDAR = "calendar"  # calendarPermissions (needs MAILBOXES)
    CALENDARS = "calendars"  # the calendar list and named calendars' permissions
    REPLIES = "replies"  # automaticRepliesSetting (needs MAILBOXES)
    APP_ROLES = "appRoles"  # appRoleAssignments (direct, and through direct groups)
    DEVICES = "devices"  # primary user of the devices this user enrolled (needs DEVICES)


@dataclass(frozen=True)
class Site:
    """A SharePoint site's three default groups (and its Microsoft 365 group, if any): read
    only for sites a file names, through SharePoint REST."""

    url: str


@dataclass(frozen=True)
class Device:
    """The primary user of the Intune devices with this deviceName or id (needs DEVICES)."""

    ref: str


Read = Collection | PerUser | Site | Device
EVERY_USER = "*"


@dataclass
class Reads:
    """Collections to list, and per-user reads with the UPNs (or EVERY_USER) they are for."""

    collections: set[Collection] = field(default_factory=set)
    per_user: dict[PerUser, set[str]] = field(default_factory=dict)
    sites: set[str] = field(default_factory=set)  # site URLs (site_root form)
    devices: set[str] = field(default_factory=set)  # device names or ids named in files

    def add(self, read: Read, upn: str) -> None:
        if isinstance(read, Collection):
            self.collections.add(read)
        elif isinstance(read, Site):
            self.sites.add(read.url)
        elif isinstance(read, Device):
            self.devices.add(read.ref)
        else:
            self.per_user.setdefault(read, set()).add(upn)

    def users(self, read: PerUser) -> set[str]:
        return self.per_user.get(read, set())
