"""Every Graph request the product sends, built in one place so each can be checked
against Microsoft's documented examples (tests/test_conformance.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.graph.urls import fill, odata_string, segment, with_query

GRAPH_OBJECT = "https://graph.microsoft.com/v1.0/directoryObjects/"

USER_SELECT = (
    "id,userPrincipalName,displayName,givenName,surname,mailNickname,mail,otherMails,userType,"
    "jobTitle,department,companyName,employeeId,employeeType,employeeHireDate,"
    "employeeLeaveDateTime,employeeOrgData,officeLocation,streetAddress,city,state,postalCode,"
    "country,businessPhones,mobilePhone,faxNumber,ageGroup,consentProvidedForMinor,"
    "usageLocation,preferredLanguage,showInAddressList,accountEnabled,assignedLicenses,"
    "licenseAssignmentStates,onPremisesSyncEnabled,onPremisesImmutableId,"
    "onPremisesExtensionAttributes,creationType,externalUserState"
)


@dataclass(frozen=True)
class ApiRequest:
    """A Graph request: method, path relative to /v1.0 (with its query), JSON body."""

    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


@dataclass(frozen=True)
class Operation:
    """A catalogue entry: how to build the request, a sample of it, and where it is documented.

    `property_bag` names the Graph type whose properties a body may carry (PATCH of a user);
    `undocumented` says why no documented example can match (and what the request follows).
    """

    name: str
    build: Callable[..., ApiRequest]
    sample: tuple[Any, ...]
    property_bag: str | None = None
    undocumented: str | None = None


CATALOGUE: dict[str, Operation] = {}


def operation(*sample: Any, property_bag: str | None = None,
              undocumented: str | None = None) -> Callable[[Callable[..., ApiRequest]],
                                                           Callable[..., ApiRequest]]:
    def register(build: Callable[..., ApiRequest]) -> Callable[..., ApiRequest]:
        CATALOGUE[build.__name__] = Operation(build.__name__, build, sample, property_bag,
                                              undocumented)
        return build

    return register


_POLICY_DOCS = ("the shared example corpus has no authorizationPolicy pair; follows Graph v1.0 "
                "authorizationpolicy-get and -update (a singleton, PATCH answers 204)")
_CALENDAR_DOCS = ("the shared example corpus has no pair for named calendars; follows Graph "
                  "v1.0 user-list-calendars, user-post-calendars and the calendarPermission "
                  "pages")
_U = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
_G = "02bd9fd6-8f93-4758-87c3-1fb73740a315"


# reads -----------------------------------------------------------------------------------------
@operation(True)
def list_users(with_manager: bool = False) -> ApiRequest:
    """All users, with the manager's id folded into the same listing when it is needed."""
    params = {"$select": USER_SELECT}
    if with_manager:
        params["$expand"] = "manager($select=id)"
    return ApiRequest("GET", with_query("/users", {**params, "$top": "999"}))


@operation("a@contoso.com")
def find_user(upn: str) -> ApiRequest:
    return ApiRequest("GET", with_query("/users", {
        "$filter": f"userPrincipalName eq {odata_string(upn)}", "$select": "id"}))


@operation(_U, "jobTitle,assignedLicenses")
def get_user(user_id: str, select: str = USER_SELECT) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/users/{}", user_id), {"$select": select}))


@operation(_U, undocumented="the corpus shows the manager only through $expand "
                            "(user-list-manager#2); GET .../manager follows graph-contract.md "
                            "section 2")
def get_manager(user_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/users/{}/manager", user_id), {"$select": "id"}))


@operation(_U)
def member_of(user_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/users/{}/memberOf", user_id), {"$select": "id"}))


@operation(_U)
def role_assignments_of(principal_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query("/roleManagement/directory/roleAssignments", {
        "$select": "id,roleDefinitionId,principalId",
        "$filter": f"principalId eq {odata_string(principal_id)}"}))


@operation(undocumented="the corpus documents deletedItems cast to groups "
                        "(directory-deleteditems-list#1); the user cast follows "
                        "graph-contract.md section 1.6")
def deleted_users() -> ApiRequest:
    return ApiRequest("GET", "/directory/deletedItems/microsoft.graph.user?$select=id,"
                             "userPrincipalName,deletedDateTime")


@operation()
def users_delta() -> ApiRequest:
    """Users with their manager as a delta round (the warm-read cache resumes it)."""
    return ApiRequest("GET", f"/users/delta?$select={USER_SELECT},manager")


@operation()
def groups_delta() -> ApiRequest:
    return ApiRequest("GET", "/groups/delta?$select=id,displayName,mail,mailEnabled,"
                             "securityEnabled,groupTypes,onPremisesSyncEnabled,"
                             "isAssignableToRole,members")


@operation(_G)
def list_group_members(group_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/groups/{}/members", group_id),
                                        {"$select": "id", "$top": "999"}))


@operation()
def list_role_definitions() -> ApiRequest:
    return ApiRequest("GET", "/roleManagement/directory/roleDefinitions?$select=id,displayName,"
                             "templateId,isBuiltIn")


@operation()
def list_role_assignments() -> ApiRequest:
    return ApiRequest("GET", "/roleManagement/directory/roleAssignments?$select=id,"
                             "roleDefinitionId,principalId,directoryScopeId")


@operation()
def list_skus() -> ApiRequest:
    return ApiRequest("GET", "/subscribedSkus?$select=skuId,skuPartNumber,consumedUnits,"
                             "prepaidUnits,servicePlans,capabilityStatus")


@operation(_U)
def list_calendar_permissions(user_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(
        fill("/users/{}/calendar/calendarPermissions", user_id),
        {"$select": "id,emailAddress,role,isRemovable,isInsideOrganization,allowedRoles"}))


@operation(undocumented=_POLICY_DOCS)
def get_authorization_policy() -> ApiRequest:
    """The tenant's User settings (a v1.0 singleton)."""
    return ApiRequest("GET", "/policies/authorizationPolicy?$select=id,allowInvitesFrom,"
                             "guestUserRoleId,defaultUserRolePermissions")


@operation(_U, undocumented=_CALENDAR_DOCS)
def list_calendars(user_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/users/{}/calendars", user_id),
                                        {"$select": "id,name,isDefaultCalendar"}))


@operation(_U, "AAMkAGI2TG93AAA=", undocumented=_CALENDAR_DOCS)
def list_named_calendar_permissions(user_id: str, calendar_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(
        fill("/users/{}/calendars/{}/calendarPermissions", user_id, calendar_id),
        {"$select": "id,emailAddress,role,isRemovable,isInsideOrganization,allowedRoles"}))


@operation(_U)
def get_automatic_replies(user_id: str) -> ApiRequest:
    return ApiRequest("GET", fill("/users/{}/mailboxSettings/automaticRepliesSetting",
                                    user_id))


@operation(_U)
def list_auth_methods(user_id: str) -> ApiRequest:
    """Every method: phones, the SSPR email, Authenticator registrations (with their names
    and registration times), so no $select (the collection is polymorphic and small)."""
    return ApiRequest("GET", fill("/users/{}/authentication/methods", user_id))


@operation("2026-10-23T00:00:00Z")
def list_audits(since: str) -> ApiRequest:
    return ApiRequest("GET", with_query("/auditLogs/directoryAudits", {
        "$select": "id,activityDisplayName,activityDateTime,initiatedBy,targetResources",
        "$filter": f"activityDateTime ge {since}"}))


# writes ----------------------------------------------------------------------------------------
@operation({"accountEnabled": True, "displayName": "A", "mailNickname": "a",
            "userPrincipalName": "a@contoso.com",
            "passwordProfile": {"password": "(generated)", "forceChangePasswordNextSignIn": True},
            "usageLocation": "US"}, property_bag="user")
def create_user(body: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", "/users", body)


@operation(_U, {"jobTitle": "Engineer", "accountEnabled": False}, property_bag="user")
def update_user(user_id: str, changes: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PATCH", fill("/users/{}", user_id), changes)


@operation(_U, "(generated)", True)
def reset_password(user_id: str, password: str, force_change: bool) -> ApiRequest:
    return ApiRequest("PATCH", fill("/users/{}", user_id), {"passwordProfile": {
        "password": password, "forceChangePasswordNextSignIn": force_change}})


@operation(_U)
def expire_password(user_id: str) -> ApiRequest:
    return ApiRequest("PATCH", fill("/users/{}", user_id),
                      {"passwordProfile": {"forceChangePasswordNextSignIn": True}})


@operation(_U)
def delete_user(user_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/users/{}", user_id))


@operation(_U)
def restore_user(object_id: str) -> ApiRequest:
    return ApiRequest("POST", fill("/directory/deletedItems/{}/restore", object_id))


@operation(_U, _G)
def set_manager(user_id: str, manager_id: str) -> ApiRequest:
    return ApiRequest("PUT", fill("/users/{}/manager/$ref", user_id),
                      {"@odata.id": "https://graph.microsoft.com/v1.0" +
                       fill("/users/{}", manager_id)})


@operation(_U)
def remove_manager(user_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/users/{}/manager/$ref", user_id))


@operation(_U, b"\xff\xd8\xff", "image/jpeg")
def put_photo(user_id: str, content: bytes, content_type: str) -> ApiRequest:
    return ApiRequest("PUT", fill("/users/{}/photo/$value", user_id),
                      headers={"Content-Type": content_type}, content=content)


@operation(_G, [_U])
def add_members(group_id: str, member_ids: list[str]) -> ApiRequest:
    """Up to 20 members in one all-or-nothing PATCH (members@odata.bind)."""
    return ApiRequest("PATCH", fill("/groups/{}", group_id),
                      {"members@odata.bind": [GRAPH_OBJECT + segment(m) for m in member_ids]})


@operation(_G, _U)
def remove_member(group_id: str, member_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/groups/{}/members/{}/$ref", group_id, member_id))


@operation("62e90394-69f5-4237-9190-012177145e10", _U)
def assign_role(role_definition_id: str, principal_id: str) -> ApiRequest:
    return ApiRequest("POST", "/roleManagement/directory/roleAssignments", {
        "@odata.type": "#microsoft.graph.unifiedRoleAssignment",
        "roleDefinitionId": role_definition_id, "principalId": principal_id,
        "directoryScopeId": "/"})


@operation("lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1")
def remove_role_assignment(assignment_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/roleManagement/directory/roleAssignments/{}",
                                         assignment_id))


@operation(_U, [{"skuId": _G, "disabledPlans": []}], [])
def assign_license(user_id: str, add: list[dict[str, Any]], remove: list[str]) -> ApiRequest:
    return ApiRequest("POST", fill("/users/{}/assignLicense", user_id),
                      {"addLicenses": add, "removeLicenses": remove})


@operation(_U, "Chris Green", "chris@contoso.com", "write")
def add_calendar_permission(user_id: str, name: str, address: str, role: str) -> ApiRequest:
    return ApiRequest("POST", fill("/users/{}/calendar/calendarPermissions", user_id), {
        "emailAddress": {"name": name, "address": address}, "isInsideOrganization": True,
        "isRemovable": True, "role": role})


@operation({"defaultUserRolePermissions": {"allowedToCreateApps": False}},
           undocumented=_POLICY_DOCS)
def update_authorization_policy(body: dict[str, Any]) -> ApiRequest:
    """Only the members that change (a nested object is sent whole, as read)."""
    return ApiRequest("PATCH", "/policies/authorizationPolicy", body)


@operation(_U, {"name": "Team Rota"}, undocumented=_CALENDAR_DOCS)
def create_calendar(user_id: str, body: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", fill("/users/{}/calendars", user_id), body)


@operation(_U, "AAMkAGI2TG93AAA=", "Ann", "ann@contoso.com", "read",
           undocumented=_CALENDAR_DOCS)
def add_named_calendar_permission(user_id: str, calendar_id: str, name: str, address: str,
                                  role: str) -> ApiRequest:
    return ApiRequest("POST", fill("/users/{}/calendars/{}/calendarPermissions", user_id,
                                    calendar_id),
                      {"emailAddress": {"name": name, "address": address},
                       "isInsideOrganization": True, "isRemovable": True, "role": role})


@operation(_U, "AAMkAGI2TG93AAA=", "RGVmYXVsdA==", "read", undocumented=_CALENDAR_DOCS)
def update_named_calendar_permission(user_id: str, calendar_id: str, permission_id: str,
                                     role: str) -> ApiRequest:
    return ApiRequest("PATCH", fill("/users/{}/calendars/{}/calendarPermissions/{}", user_id,
                                     calendar_id, permission_id), {"role": role})


@operation(_U, "AAMkAGI2TG93AAA=", "RGVmYXVsdA==", undocumented=_CALENDAR_DOCS)
def remove_named_calendar_permission(user_id: str, calendar_id: str,
                                     permission_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/users/{}/calendars/{}/calendarPermissions/{}",
                                      user_id, calendar_id, permission_id))


@operation(_U, "RGVmYXVsdA==", "read")
def update_calendar_permission(user_id: str, permission_id: str, role: str) -> ApiRequest:
    return ApiRequest("PATCH", fill("/users/{}/calendar/calendarPermissions/{}", user_id,
                                     permission_id),
                      {"role": role})


@operation(_U, "RGVmYXVsdA==")
def remove_calendar_permission(user_id: str, permission_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/users/{}/calendar/calendarPermissions/{}", user_id,
                                      permission_id))


@operation(_U, {"status": "scheduled", "externalAudience": "all",
                "scheduledStartDateTime": {"dateTime": "2026-12-20T17:00:00", "timeZone": "UTC"},
                "scheduledEndDateTime": {"dateTime": "2027-01-04T08:00:00", "timeZone": "UTC"}})
def set_automatic_replies(user_id: str, setting: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PATCH", fill("/users/{}/mailboxSettings", user_id),
                      {"automaticRepliesSetting": setting})


@operation(_U, "mobile", "+1 4255550101")
def add_phone_method(user_id: str, phone_type: str, number: str) -> ApiRequest:
    return ApiRequest("POST", fill("/users/{}/authentication/phoneMethods", user_id),
                      {"phoneNumber": number, "phoneType": phone_type})


@operation(_U, "3179e48a-750b-4051-897c-87b9720928f7", "+1 4255550102",
           undocumented="the corpus leaves out phoneauthenticationmethod-update#1 (its JSON does "
                        "not parse); the request follows graph-contract.md section 9.1")
def update_phone_method(user_id: str, method_id: str, number: str) -> ApiRequest:
    return ApiRequest("PATCH", fill("/users/{}/authentication/phoneMethods/{}", user_id,
                                     method_id),
                      {"phoneNumber": number})


@operation(_U, "3179e48a-750b-4051-897c-87b9720928f7",
           undocumented="the corpus has no phoneMethods DELETE example; the request follows "
                        "graph-contract.md section 9.1 and the documented authenticator DELETE")
def remove_phone_method(user_id: str, method_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/users/{}/authentication/phoneMethods/{}", user_id,
                                      method_id))


@operation(_U)
def revoke_sessions(user_id: str) -> ApiRequest:
    return ApiRequest("POST", fill("/users/{}/revokeSignInSessions", user_id))


@operation("guest@fabrikam.com", "https://myapps.microsoft.com", "Guest", None,
           property_bag="invitation")
def invite_guest(email: str, redirect: str, display_name: str | None = None,
                 user_id: str | None = None) -> ApiRequest:
    """A new invitation, or (with the guest's id) the same one sent again."""
    body: dict[str, Any] = {"invitedUserEmailAddress": email, "inviteRedirectUrl": redirect,
                            "sendInvitationMessage": True}
    if display_name:
        body["invitedUserDisplayName"] = display_name
    if user_id:
        body["invitedUser"] = {"id": user_id}
    return ApiRequest("POST", "/invitations", body)


@operation(_U, "io.reconciler.state",
           undocumented="open extensions are not in the corpus; the request follows the "
                        "opentypeextension-get reference page")
def get_extension(user_id: str, name: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/users/{}/extensions/{}", user_id, name),
                                        {"$select": "id,photoSha256,actionsDone"}))


@operation(_U, undocumented="the corpus has no photo GET example; the request follows "
                            "graph-contract.md section 3")
def get_photo_metadata(user_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/users/{}/photo", user_id), {"$select": "id"}))


@operation(_U, undocumented="the corpus has no photo $value GET example; the request follows "
                            "the profilephoto-get reference page (the image's bytes)")
def get_photo(user_id: str) -> ApiRequest:
    return ApiRequest("GET", fill("/users/{}/photo/$value", user_id))


@operation(_U, undocumented="the corpus has no photo DELETE example; the request follows the "
                            "profilephoto-delete reference page")
def delete_photo(user_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/users/{}/photo/$value", user_id))


@operation(_U, {"@odata.type": "microsoft.graph.openTypeExtension",
                "extensionName": "io.reconciler.actions", "done": "[]"},
           undocumented="open extensions are not in the corpus; the request follows the "
                        "opentypeextension-post-opentypeextension reference page")
def add_extension(user_id: str, body: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", fill("/users/{}/extensions", user_id), body)


@operation(_U, "io.reconciler.actions", {"done": "[]"},
           undocumented="open extensions are not in the corpus; the request follows the "
                        "opentypeextension-update reference page")
def update_extension(user_id: str, name: str, body: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PATCH", fill("/users/{}/extensions/{}", user_id, name), body)
