"""Emulated Graph `policies/authorizationPolicy` (v1.0): the tenant's "User settings".

v1.0 serves it as a singleton whose id is `authorizationPolicy`. PATCH takes only the members
that change (nested `defaultUserRolePermissions` members are merged into the stored value) and
answers 204; an unknown member, a wrong type, an enum value outside `allowInvitesFrom`'s or a
`guestUserRoleId` outside the three role templates Microsoft documents is 400
Request_BadRequest, and nothing is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.emulator.routes.common import V1
from reconciler.emulator.wire import Request, Response, Router, bad_request

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
POLICY_ID = "authorizationPolicy"
GUEST_ROLES = {"a0b1b346-4d3e-4e8b-98f8-753987be4970": "User",
               "10dae51f-b6af-4016-8d66-8c2a99b929b3": "Guest User",
               "2af84b1e-32c8-42b7-82bc-daa82404023b": "Restricted Guest User"}
INVITES = ("none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone")
BOOLEANS = ("allowedToSignUpEmailBasedSubscriptions", "allowedToUseSSPR",
            "allowEmailVerifiedUsersToJoinOrganization", "blockMsolPowerShell")
NULLABLE_BOOLEANS = ("allowUserConsentForRiskyApps",)
USER_BOOLEANS = ("allowedToCreateApps", "allowedToCreateSecurityGroups", "allowedToCreateTenants",
                 "allowedToReadBitlockerKeysForOwnedDevice", "allowedToReadOtherUsers")
DEFAULT = {
    "id": POLICY_ID, "displayName": "Authorization Policy",
    "description": "Used to manage authorization related settings across the company.",
    "allowInvitesFrom": "everyone", "allowedToSignUpEmailBasedSubscriptions": True,
    "allowedToUseSSPR": True, "allowEmailVerifiedUsersToJoinOrganization": False,
    "allowUserConsentForRiskyApps": None, "blockMsolPowerShell": False,
    "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
    "defaultUserRolePermissions": {
        "allowedToCreateApps": True, "allowedToCreateSecurityGroups": True,
        "allowedToCreateTenants": True, "allowedToReadBitlockerKeysForOwnedDevice": True,
        "allowedToReadOtherUsers": True,
        "permissionGrantPoliciesAssigned": [
            "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"]},
}


def policy(em: Emulator) -> dict[str, Any]:
    stored = em.store.item("tenant", "authorizationPolicy", POLICY_ID)
    return stored or {**DEFAULT, "defaultUserRolePermissions":
                      dict(DEFAULT["defaultUserRolePermissions"])}


@router.route("GET", V1 + "/policies/authorizationPolicy")
def get_policy(em: Emulator, request: Request) -> Response:
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#policies/"
                                  "authorizationPolicy/$entity", **policy(em)})


def _invalid(name: str, value: Any) -> Exception:
    return bad_request(f"Invalid value specified for property '{name}' of resource "
                       f"'AuthorizationPolicy': {value!r}.")


def _checked(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    for name, value in body.items():
        if name.startswith("@odata."):
            continue
        if name == "allowInvitesFrom":
            if value not in INVITES:
                raise _invalid(name, value)
        elif name == "guestUserRoleId":
            if str(value).lower() not in GUEST_ROLES:
                raise _invalid(name, value)
            value = str(value).lower()
        elif name in BOOLEANS:
            if not isinstance(value, bool):
                raise _invalid(name, value)
        elif name in NULLABLE_BOOLEANS:
            if value is not None and not isinstance(value, bool):
                raise _invalid(name, value)
        elif name in ("displayName", "description"):
            if not isinstance(value, str):
                raise _invalid(name, value)
        elif name == "defaultUserRolePermissions":
            value = _user_permissions(value, current[name])
        else:
            raise bad_request(f"Property '{name}' does not exist on type "
                              "'microsoft.graph.authorizationPolicy'.")
        out[name] = value
    return out


def _user_permissions(value: Any, current: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid("defaultUserRolePermissions", value)
    out = dict(current)
    for name, member in value.items():
        if name.startswith("@odata."):
            continue
        if name in USER_BOOLEANS:
            if not isinstance(member, bool):
                raise _invalid(name, member)
        elif name == "permissionGrantPoliciesAssigned":
            if not isinstance(member, list) or not all(isinstance(m, str) for m in member):
                raise _invalid(name, member)
        else:
            raise bad_request(f"Property '{name}' does not exist on type "
                              "'microsoft.graph.defaultUserRolePermissions'.")
        out[name] = member
    return out


@router.route("PATCH", V1 + "/policies/authorizationPolicy")
def update_policy(em: Emulator, request: Request) -> Response:
    body = request.json()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    current = policy(em)
    updated = _checked(body, current)
    em.store.put_item("tenant", "authorizationPolicy", POLICY_ID, updated)
    changed = {}
    for name in sorted(set(updated)):
        if name == "defaultUserRolePermissions":
            for member, value in updated[name].items():
                if current[name].get(member) != value:
                    changed[f"{name}.{member}"] = (current[name].get(member), value)
        elif current.get(name) != updated[name]:
            changed[name] = (current.get(name), updated[name])
    em.audit(request, "Update authorization policy",
             {"id": POLICY_ID, "displayName": "Authorization Policy", "type": "Policy"},
             changed, category="Policy")
    return Response.empty()
