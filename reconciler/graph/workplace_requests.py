"""Requests for enterprise applications, Intune devices, the email and Authenticator
methods, group owners and Identity Protection (graph-contract sections 21, 22 and 24), in the
same catalogue as every other request the product sends (graph/requests.py)."""

from __future__ import annotations

from reconciler.graph.requests import GRAPH_OBJECT, ApiRequest, operation
from reconciler.graph.urls import fill, segment, with_query

_U = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
_G = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
BETA = "https://graph.microsoft.com/beta"  # the few writes Graph offers only on beta


_SP = "8e881353-1735-45af-af21-ee1344582a4d"
_ROLE = "ef7437e6-4f94-4a0a-a110-a439eb2aa8f7"
_DEVICE = "c0ffee00-0001-4a4a-8b8b-000000000042"
EMAIL_METHOD_ID = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f"  # the one email method's fixed id
GRAPH_BETA_USER = "https://graph.microsoft.com/beta/users/"


@operation(undocumented="the corpus has no servicePrincipal list example; the request follows "
                        "graph-contract.md section 22.2 ($select of the documented properties)")
def list_service_principals() -> ApiRequest:
    return ApiRequest("GET", "/servicePrincipals?$select=id,appId,displayName,appRoles,"
                             "appRoleAssignmentRequired,accountEnabled&$top=999")


@operation(_U, undocumented="the corpus has no appRoleAssignments example; the request follows "
                            "graph-contract.md section 22.1 (user-list-approleassignments)")
def list_app_role_assignments(user_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/users/{}/appRoleAssignments", user_id), {
        "$select": "id,appRoleId,principalId,principalType,principalDisplayName,resourceId,"
                   "resourceDisplayName,createdDateTime"}))


@operation(_U, _SP, _ROLE, undocumented="the corpus has no appRoleAssignments example; the "
                                        "request follows user-post-approleassignments")
def assign_app_role(user_id: str, resource_id: str, app_role_id: str) -> ApiRequest:
    return ApiRequest("POST", fill("/users/{}/appRoleAssignments", user_id),
                      {"principalId": user_id, "resourceId": resource_id,
                       "appRoleId": app_role_id})


@operation(_U, "41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE",
           undocumented="the corpus has no appRoleAssignments example; the request follows "
                        "user-delete-approleassignments")
def remove_app_role_assignment(user_id: str, assignment_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/users/{}/appRoleAssignments/{}", user_id,
                                      assignment_id))


@operation(undocumented="Intune is not in the corpus; the request follows graph-contract.md "
                        "section 21.1 (managedDevices list with $select)")
def list_managed_devices() -> ApiRequest:
    return ApiRequest("GET", "/deviceManagement/managedDevices?$select=id,deviceName,userId,"
                             "userPrincipalName,operatingSystem")


@operation(_DEVICE, undocumented="Intune is not in the corpus; the request follows graph-"
                                 "contract.md section 21.2 (the users navigation on v1.0)")
def device_primary_user(device_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/deviceManagement/managedDevices/{}/users",
                                              device_id), {"$select": "id"}))


@operation(_DEVICE, _U, undocumented="undocumented call (graph-contract.md section 21.2): the "
                                     "Intune portal's and public scripts' beta users/$ref")
def set_device_primary_user(device_id: str, user_id: str) -> ApiRequest:
    return ApiRequest("POST", BETA + fill("/deviceManagement/managedDevices/{}/users/$ref",
                                          device_id),
                      {"@odata.id": GRAPH_BETA_USER + segment(user_id)})


@operation(_DEVICE, undocumented="undocumented call (graph-contract.md section 21.2): the beta "
                                 "users/$ref DELETE that makes a device shared")
def clear_device_primary_user(device_id: str) -> ApiRequest:
    return ApiRequest("DELETE", BETA + fill(
        "/deviceManagement/managedDevices/{}/users/$ref", device_id))


@operation(_U, "kim@contoso.com")
def add_email_method(user_id: str, address: str) -> ApiRequest:
    return ApiRequest("POST", fill("/users/{}/authentication/emailMethods", user_id),
                      {"emailAddress": address})


@operation(_U, "kim@contoso.com", undocumented="the corpus has no emailMethods PATCH example; "
                                               "the request follows graph-contract.md 24.1")
def update_email_method(user_id: str, address: str) -> ApiRequest:
    return ApiRequest("PATCH", fill("/users/{}/authentication/emailMethods/{}", user_id,
                                     EMAIL_METHOD_ID),
                      {"emailAddress": address})


@operation(_U, undocumented="the corpus has no emailMethods DELETE example; the request "
                            "follows graph-contract.md section 24.1")
def remove_email_method(user_id: str) -> ApiRequest:
    return ApiRequest("DELETE",
                      fill("/users/{}/authentication/emailMethods/{}", user_id,
                            EMAIL_METHOD_ID))


@operation(_U, "_jpuR-TGZtk6aQCLF3BQjA2")
def remove_authenticator(user_id: str, method_id: str) -> ApiRequest:
    return ApiRequest("DELETE",
                      fill("/users/{}/authentication/microsoftAuthenticatorMethods/{}",
                            user_id, method_id))


_TAP_DOCS = ("the corpus has no Temporary Access Pass pair; follows Graph v1.0 "
             "authentication-post-temporaryaccesspassmethods (graph-contract.md 24.3)")


@operation(_U, {"lifetimeInMinutes": 60, "isUsableOnce": True}, undocumented=_TAP_DOCS)
def issue_temporary_access_pass(user_id: str, body: dict) -> ApiRequest:
    """POST a pass: the service generates it and returns it in this reply only; a pass the
    user already has is replaced (UserAuthMethod-TAP.ReadWrite.All)."""
    return ApiRequest("POST", fill("/users/{}/authentication/temporaryAccessPassMethods",
                                   user_id), body)


@operation(_U, undocumented=_TAP_DOCS)
def list_temporary_access_passes(user_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill(
        "/users/{}/authentication/temporaryAccessPassMethods", user_id),
        {"$select": "id,createdDateTime"}))


@operation(undocumented="the corpus has no authentication-method policy pair; follows Graph "
                        "v1.0 temporaryaccesspassauthenticationmethodconfiguration-get")
def temporary_access_pass_policy() -> ApiRequest:
    """The tenant's TAP policy (Policy.Read.AuthenticationMethod)."""
    return ApiRequest("GET", with_query(
        "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/"
        "TemporaryAccessPass", {"$select": "id,state,includeTargets,excludeTargets,"
                                           "defaultLifetimeInMinutes,minimumLifetimeInMinutes,"
                                           "maximumLifetimeInMinutes,isUsableOnce"}))


@operation(_G, undocumented="the corpus has no group owners example; the request follows the "
                            "group-list-owners reference page")
def list_group_owners(group_id: str) -> ApiRequest:
    return ApiRequest("GET", with_query(fill("/groups/{}/owners", group_id), {"$select": "id"}))


@operation(_G, _U, undocumented="the corpus has no group owners example; the request follows "
                                "the group-post-owners reference page")
def add_group_owner(group_id: str, user_id: str) -> ApiRequest:
    return ApiRequest("POST", fill("/groups/{}/owners/$ref", group_id),
                      {"@odata.id": GRAPH_OBJECT + segment(user_id)})


@operation(_G, _U, undocumented="the corpus has no group owners example; the request follows "
                                "the group-delete-owners reference page")
def remove_group_owner(group_id: str, user_id: str) -> ApiRequest:
    return ApiRequest("DELETE", fill("/groups/{}/owners/{}/$ref", group_id, user_id))


@operation(undocumented="Identity Protection is not in the corpus; the request follows the "
                        "riskyusers-list reference page ($filter on riskState)")
def list_risky_users() -> ApiRequest:
    return ApiRequest("GET", with_query("/identityProtection/riskyUsers", {
        "$filter": "riskState eq 'atRisk' or riskState eq 'confirmedCompromised'",
        "$select": "id,userPrincipalName,riskLevel,riskState,riskLastUpdatedDateTime"}))
