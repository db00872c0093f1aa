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


class PerUser(Enum):
    """A read Graph or Exchange offers only one user at a time."""

    EXTENSION = "extension"  # our open extension io.reconciler.state
    PHOTO_PRESENCE = "photoPresence"  # whether a photo exists
    PHONES = "phones"  # authentication methods
    FULL_ACCESS = "fullAccess"  # Get-MailboxPermission (needs MAILBOXES)
    CALENDAR = "calendar"  # calendarPermissions (needs MAILBOXES)
    REPLIES = "replies"  # automaticRepliesSetting (needs MAILBOXES)


Read = Collection | PerUser
EVERY_USER = "*"


@dataclass
class Reads:
    """Collections to list, and per-user reads with the UPNs (or EVERY_USER) they are for."""

    collections: set[Collection] = field(default_factory=set)
    per_user: dict[PerUser, set[str]] = field(default_factory=dict)

    def add(self, read: Read, upn: str) -> None:
        if isinstance(read, Collection):
            self.collections.add(read)
        else:
            self.per_user.setdefault(read, set()).add(upn)

    def users(self, read: PerUser) -> set[str]:
        return self.per_user.get(read, set())
