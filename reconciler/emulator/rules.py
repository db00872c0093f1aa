"""Graph's documented rules for the objects the emulator serves, kept here so the emulator
never borrows the product's tables (a rule wrong in both would pass every test).

Sources: Microsoft Graph v1.0 reference pages "user resource type" (default properties),
"Update user" (writable properties, on-premises mastered properties), "Create user" (required
properties), "Update group", "groups overview" (group kinds), "Update profilePhoto" (JPEG,
PNG, GIF) and the Entra password policy page (complexity). Which properties a type has, and of
what type, comes from the CSDL (csdl.py), not from here.
"""

from __future__ import annotations

import re
from functools import cache

from reconciler.emulator import csdl

# "user resource type": properties returned by default (GET /users, GET /users/{id}).
USER_DEFAULT_SELECT = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
)

# "Update user": properties an application may write.
USER_WRITABLE = frozenset({
    "accountEnabled", "ageGroup", "businessPhones", "city", "companyName",
    "consentProvidedForMinor", "country", "department", "displayName", "employeeHireDate",
    "employeeId", "employeeLeaveDateTime", "employeeOrgData", "employeeType", "faxNumber",
    "givenName", "identities", "jobTitle", "mail", "mailNickname", "mobilePhone",
    "officeLocation", "onPremisesExtensionAttributes", "onPremisesImmutableId", "otherMails",
    "passwordPolicies", "passwordProfile", "postalCode", "preferredDataLocation",
    "preferredLanguage", "showInAddressList", "state", "streetAddress", "surname",
    "usageLocation", "userPrincipalName", "userType",
})


@cache
def user_properties() -> frozenset[str]:
    """Every property and navigation property of microsoft.graph.user (the CSDL)."""
    model = csdl.model()
    return frozenset(model.properties("user")) | frozenset(model.navigations("user"))


@cache
def user_read_only() -> frozenset[str]:
    """Declared properties of a user that are not writable ("Update user")."""
    return frozenset(csdl.model().properties("user")) - USER_WRITABLE


# "group resource type" ("Returned by default") and the "Create group" reply: the properties
# Graph returns for a group without $select, each null or [] until it has a value.
GROUP_DEFAULT_SELECT = (
    "deletedDateTime", "classification", "createdDateTime", "creationOptions", "description",
    "displayName", "expirationDateTime", "groupTypes", "isAssignableToRole", "mail",
    "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState",
    "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesNetBiosName",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
    "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime",
    "resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled",
    "securityIdentifier", "theme", "visibility", "onPremisesProvisioningErrors",
    "serviceProvisioningErrors",
)


@cache
def _group_blank() -> tuple[tuple[str, bool], ...]:
    declared = csdl.model().properties("group")
    return tuple((name, declared[name].collection) for name in GROUP_DEFAULT_SELECT
                 if name in declared)


def blank_group() -> dict:
    """A group's default properties before it has values: null, or [] for collections."""
    return {name: [] if collection else None for name, collection in _group_blank()}


@cache
def group_properties() -> frozenset[str]:
    model = csdl.model()
    return frozenset(model.properties("group")) | frozenset(model.navigations("group"))


# "group resource type": the properties it marks read-only (computed by the directory or
# mastered on-premises); a create or update naming one is refused.
GROUP_READ_ONLY = frozenset({
    "id", "createdDateTime", "deletedDateTime", "expirationDateTime", "renewedDateTime",
    "mail", "proxyAddresses", "securityIdentifier", "onPremisesDomainName",
    "onPremisesLastSyncDateTime", "onPremisesNetBiosName", "onPremisesProvisioningErrors",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
    "assignedLicenses", "hasMembersWithLicenseErrors", "licenseProcessingState",
})
READ_ONLY_MESSAGE = "Property '{}' is read-only and cannot be set."

# "Update user", remarks: properties an on-premises synchronised user masters in AD.
SYNC_MASTERED = frozenset({
    "accountEnabled", "businessPhones", "city", "companyName", "country", "department",
    "displayName", "employeeHireDate", "employeeId", "employeeOrgData", "employeeType",
    "faxNumber", "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone",
    "officeLocation", "onPremisesExtensionAttributes", "passwordProfile", "postalCode",
    "state", "streetAddress", "surname", "userPrincipalName",
})
SYNC_MASTERED_MESSAGE = (
    "Unable to update the specified properties for on-premises mastered Directory Sync "
    "objects or objects currently undergoing migration."
)

# "Create user": required properties.
USER_REQUIRED_ON_CREATE = ("accountEnabled", "displayName", "mailNickname",
                           "userPrincipalName", "passwordProfile")
# "Create group": required properties.
GROUP_REQUIRED_ON_CREATE = ("displayName", "mailEnabled", "mailNickname", "securityEnabled")

EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{n}" for n in range(1, 16))


def blank_user() -> dict:
    """A new user's stored properties before the request's values are applied."""
    user: dict = {name: None for name in USER_WRITABLE}
    user.update({
        "businessPhones": [], "otherMails": [], "identities": [], "proxyAddresses": [],
        "userType": "Member", "onPremisesSyncEnabled": None, "creationType": None,
        "externalUserState": None, "onPremisesExtensionAttributes":
            {name: None for name in EXTENSION_ATTRIBUTES},
        "showInAddressList": None, "licenseAssignmentStates": [],
    })
    return user


def password_meets_complexity(password: str) -> bool:
    """Entra's rule: 8 to 256 characters, three of lower, upper, digit, symbol."""
    if not 8 <= len(password) <= 256:
        return False
    kinds = [r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"]
    return sum(bool(re.search(k, password)) for k in kinds) >= 3


def group_kind(group: dict) -> str:
    """unified, security, distribution, mailEnabledSecurity or dynamic ("groups overview")."""
    types = group.get("groupTypes") or []
    if "DynamicMembership" in types:
        return "dynamic"
    if "Unified" in types:
        return "unified"
    if group.get("mailEnabled"):
        return "mailEnabledSecurity" if group.get("securityEnabled") else "distribution"
    return "security"


_IMAGE_SIGNATURES = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"),
                     (b"GIF87a", "gif"), (b"GIF89a", "gif"))


def image_format(head: bytes) -> str | None:
    """`jpeg`, `png`, `gif` (what profilePhoto accepts), or None."""
    return next((name for magic, name in _IMAGE_SIGNATURES if head.startswith(magic)), None)
