"""What Graph's users and groups are made of: property sets, synced fields, group kinds."""

from __future__ import annotations

import re

USER_DEFAULT_SELECT = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
)

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

USER_READ_ONLY = frozenset({
    "id", "createdDateTime", "creationType", "externalUserState",
    "externalUserStateChangeDateTime", "legalAgeGroupClassification", "proxyAddresses",
    "onPremisesSyncEnabled", "onPremisesDistinguishedName", "onPremisesDomainName",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesUserPrincipalName",
    "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors", "securityIdentifier",
    "signInSessionsValidFromDateTime", "lastPasswordChangeDateTime", "assignedLicenses",
    "assignedPlans", "provisionedPlans", "licenseAssignmentStates", "mySite",
    "deletedDateTime", "isResourceAccount",
})

USER_PROPERTIES = USER_WRITABLE | USER_READ_ONLY | {"manager", "memberOf"}

# Properties that AD Connect flows: read-only in the cloud for a synced user.
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

USER_REQUIRED_ON_CREATE = ("accountEnabled", "displayName", "mailNickname",
                           "userPrincipalName", "passwordProfile")

GROUP_PROPERTIES = frozenset({
    "id", "displayName", "description", "mail", "mailEnabled", "mailNickname",
    "securityEnabled", "groupTypes", "membershipRule", "membershipRuleProcessingState",
    "onPremisesSyncEnabled", "isAssignableToRole", "visibility", "createdDateTime",
    "classification", "proxyAddresses", "members", "deletedDateTime", "expirationDateTime",
    "renewedDateTime", "securityIdentifier", "theme", "preferredLanguage",
    "hasMembersWithLicenseErrors", "onPremisesLastSyncDateTime",
})

EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{n}" for n in range(1, 16))


def blank_user() -> dict:
    """Every property a new user carries before the request's values are applied."""
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
    """unified, security, distribution, mailEnabledSecurity, or dynamic."""
    types = group.get("groupTypes") or []
    if "DynamicMembership" in types:
        return "dynamic"
    if "Unified" in types:
        return "unified"
    if group.get("mailEnabled"):
        return "mailEnabledSecurity" if group.get("securityEnabled") else "distribution"
    return "security"
