"""Write bodies checked against the CSDL on every typed write route (reconciler/emulator/
bodies.py). The oracle for what a type declares, of which type and with which enum members is
the vendored CSDL itself; a refused write leaves nothing in the emulator's store."""

from __future__ import annotations

import pytest

from reconciler.emulator import csdl
from tests.conformance_client import send
from tests.emulated import emulator
from tests.seeding import Seeder

PRIMITIVE = "Cannot convert a primitive value to the expected type '{}'. See the inner " \
            "exception for more details."
NEW_USER = {"accountEnabled": True, "displayName": "Ada", "mailNickname": "ada",
            "userPrincipalName": "ada@contoso.onmicrosoft.com",
            "passwordProfile": {"password": "Xy!9aPassw0rd"}}


@pytest.fixture
def tenant():
    em = emulator()
    seed = Seeder(em)
    user = seed.mailbox_user()
    group = seed.group([], displayName="Team")
    return em, user, group


def error(reply) -> tuple[int, str, str]:
    body = reply.json()["error"]
    return reply.status_code, body["code"], body["message"]


def declared(type_name: str, name: str) -> str:
    return csdl.model().properties(type_name)[name].type


def test_an_undeclared_property_is_refused_and_nothing_is_created(tenant):
    em, *_ = tenant
    before = em.store.count_objects("user")
    assert "favouriteColour" not in csdl.model().properties("user")
    reply = send(em, "POST", "/users", {**NEW_USER, "favouriteColour": "blue"}, {})
    assert error(reply) == (400, "Request_BadRequest", "Property 'favouriteColour' does not "
                            "exist as a declared property or extension property.")
    assert em.store.count_objects("user") == before


@pytest.mark.parametrize("path,body,type_name,name", [
    ("/users/{user}", {"accountEnabled": "yes"}, "user", "accountEnabled"),
    ("/users/{user}", {"employeeHireDate": "next monday"}, "user", "employeeHireDate"),
    ("/groups/{group}", {"securityEnabled": "true"}, "group", "securityEnabled"),
    ("/users/{user}", {"passwordProfile": {"forceChangePasswordNextSignIn": "no"}},
     "passwordProfile", "forceChangePasswordNextSignIn"),
])
def test_a_value_of_another_type_is_refused(tenant, path, body, type_name, name):
    em, user, group = tenant
    expected = declared(type_name, name)
    before = em.store.get_object(user)
    reply = send(em, "PATCH", path.format(user=user, group=group), body, {})
    assert error(reply) == (400, "Request_BadRequest", PRIMITIVE.format(expected))
    assert em.store.get_object(user) == before


def test_an_app_role_assignment_needs_guids_where_the_csdl_says_guid(tenant):
    em, user, _ = tenant
    assert declared("appRoleAssignment", "principalId") == "Edm.Guid"
    reply = send(em, "POST", f"/users/{user}/appRoleAssignments",
                 {"principalId": "me", "resourceId": user, "appRoleId": user}, {})
    assert error(reply) == (400, "Request_BadRequest", PRIMITIVE.format("Edm.Guid"))


def test_an_enum_value_outside_its_members_is_refused(tenant):
    em, user, _ = tenant
    phone_type = declared("phoneAuthenticationMethod", "phoneType")
    assert "pager" not in csdl.enum_members(phone_type)
    reply = send(em, "POST", f"/users/{user}/authentication/phoneMethods",
                 {"phoneNumber": "+1 2065550100", "phoneType": "pager"}, {})
    assert error(reply) == (400, "Request_BadRequest", "Requested value 'pager' was not found.")
    assert em.store.items(user, "phoneMethod") == []


def test_complex_values_are_checked_inside(tenant):
    em, user, _ = tenant
    shape = send(em, "PATCH", f"/users/{user}", {"passwordProfile": "secret"}, {})
    assert shape.status_code == 400 and "'StartObject' node was expected" in error(shape)[2]
    nested = send(em, "PATCH", f"/users/{user}",
                  {"onPremisesExtensionAttributes": {"extensionAttribute99": "x"}}, {})
    assert error(nested)[2] == ("Property 'extensionAttribute99' does not exist as a declared "
                                "property or extension property.")
    collection = send(em, "PATCH", f"/users/{user}", {"businessPhones": "+1 555"}, {})
    assert "'StartArray' node was expected" in error(collection)[2]


def test_annotations_are_allowed_but_must_name_declared_properties(tenant):
    em, user, _ = tenant
    good = send(em, "POST", "/groups", {
        "displayName": "Bound", "mailEnabled": False, "mailNickname": "bound",
        "securityEnabled": True, "@odata.type": "#microsoft.graph.group",
        "members@odata.bind": [f"https://graph.microsoft.com/v1.0/directoryObjects/{user}"]},
        {})
    assert good.status_code == 201, good.text
    assert em.store.is_member(good.json()["id"], user)
    bad = send(em, "POST", "/groups", {
        "displayName": "Bad", "mailEnabled": False, "mailNickname": "bad",
        "securityEnabled": True, "friends@odata.bind": []}, {})
    assert error(bad)[2] == ("Property 'friends' does not exist as a declared property or "
                             "extension property.")


def test_an_odata_type_must_derive_from_the_declared_type(tenant):
    em, *_ = tenant
    wrong = send(em, "POST", "/users", {**NEW_USER, "@odata.type": "#microsoft.graph.group"},
                 {})
    assert error(wrong)[:2] == (400, "Request_BadRequest")
    assert "not compatible" in error(wrong)[2]
    unknown = send(em, "POST", "/users", {**NEW_USER, "@odata.type": "#microsoft.graph.nope"},
                   {})
    assert "could not be resolved by the model" in error(unknown)[2]


def test_open_extensions_take_any_property(tenant):
    em, user, _ = tenant
    assert csdl.model().type("openTypeExtension").open
    reply = send(em, "POST", f"/users/{user}/extensions", {
        "@odata.type": "microsoft.graph.openTypeExtension", "extensionName": "com.contoso.x",
        "anything": {"nested": [1, 2]}, "flag": True}, {})
    assert reply.status_code == 201, reply.text
    assert em.store.item(user, "extension", "com.contoso.x")["anything"] == {"nested": [1, 2]}


def test_a_directory_extension_needs_registering_first(tenant):
    em, user, _ = tenant
    name = "extension_0123456789abcdef0123456789abcdef_costCentre"
    reply = send(em, "PATCH", f"/users/{user}", {name: "42"}, {})
    assert error(reply) == (400, "Request_BadRequest", "The following extension properties "
                            f"are not available: {name}.")


def test_outlook_bodies_answer_with_outlooks_code(tenant):
    em, user, _ = tenant
    assert declared("calendar", "name") == "Edm.String"
    reply = send(em, "POST", f"/users/{user}/calendars", {"name": 5}, {})
    assert error(reply) == (400, "ErrorInvalidRequest", PRIMITIVE.format("Edm.String"))


def test_a_guest_invitation_body_is_typed_too(tenant):
    em, *_ = tenant
    reply = send(em, "POST", "/invitations", {
        "invitedUserEmailAddress": "guest@fabrikam.com",
        "inviteRedirectUrl": "https://myapps.microsoft.com", "sendInvitationMessage": "yes"}, {})
    assert error(reply) == (400, "Request_BadRequest", PRIMITIVE.format(
        declared("invitation", "sendInvitationMessage")))


@pytest.mark.parametrize("name,value", [("mail", "x@contoso.com"), ("createdDateTime",
                                         "2024-01-01T00:00:00Z"), ("proxyAddresses", [])])
def test_a_groups_read_only_properties_are_refused(tenant, name, value):
    """"group resource type" marks these read-only; the CSDL declares them (so the refusal
    is the route's rule, not an unknown property)."""
    em, _, group = tenant
    assert name in csdl.model().properties("group")
    before = em.store.get_object(group)
    reply = send(em, "PATCH", f"/groups/{group}", {name: value}, {})
    assert error(reply) == (400, "Request_BadRequest",
                            f"Property '{name}' is read-only and cannot be set.")
    assert em.store.get_object(group) == before


@pytest.mark.parametrize("segment", ["assignLicense", "microsoft.graph.assignLicense"])
def test_an_actions_body_holds_only_its_declared_parameters(tenant, segment):
    em, user, _ = tenant
    parameters = csdl.model().action("user", False, "assignLicense")
    assert set(parameters) == {"addLicenses", "removeLicenses"}
    licences_before = em.store.licenses_of([user])[user]
    extra = send(em, "POST", f"/users/{user}/{segment}",
                 {"addLicenses": [], "removeLicenses": [], "keepOthers": True}, {})
    assert error(extra) == (400, "Request_BadRequest", "The parameter 'keepOthers' in the "
                            "request payload is not a valid parameter for the operation "
                            "'assignLicense'.")
    assert parameters["removeLicenses"].type == "Edm.Guid"
    not_guid = send(em, "POST", f"/users/{user}/{segment}",
                    {"addLicenses": [], "removeLicenses": ["E5"]}, {})
    assert error(not_guid) == (400, "Request_BadRequest", PRIMITIVE.format("Edm.Guid"))
    not_list = send(em, "POST", f"/users/{user}/{segment}",
                    {"addLicenses": {"skuId": user}, "removeLicenses": []}, {})
    assert "'StartArray' node was expected" in error(not_list)[2]
    assert em.store.licenses_of([user])[user] == licences_before


def test_every_body_the_product_sends_is_one_the_csdl_accepts():
    """Each write in the product's request catalogue (its documented sample) passes the same
    check: a body Graph would refuse is a product bug, caught here before a tenant sees it."""
    import json

    import reconciler.graph.workplace_requests  # noqa: F401 - registers its operations
    from reconciler.emulator import bodies, paths
    from reconciler.emulator.wire import GraphError, Request
    from reconciler.graph.requests import CATALOGUE

    checked, refused = 0, []
    for name, operation in sorted(CATALOGUE.items()):
        sent = operation.build(*operation.sample)
        if sent.method not in ("POST", "PATCH", "PUT") or sent.body is None or \
                sent.path.startswith("http"):
            continue
        request = Request(sent.method, "https://graph.microsoft.com/v1.0" + sent.path,
                          {"content-type": "application/json"}, json.dumps(sent.body).encode())
        paths.normalise(request)
        checked += bool(bodies.body_type(request) or request.action)
        try:
            bodies.check(request)
        except GraphError as refusal:
            refused.append(f"{name}: {refusal.message}")
    assert refused == [] and checked >= 20


def test_properties_the_csdl_marks_computed_or_immutable_cannot_be_written():
    """Core.Computed: never written by a client; Core.Immutable: set on create only."""
    from reconciler.emulator import bodies

    model = csdl.model()
    assert "microsoft.graph.servicePrincipal/createdByAppId" in model.immutable
    read_only = "Property 'createdByAppId' is read-only and cannot be set."
    assert bodies.problem({"createdByAppId": "x"}, "microsoft.graph.servicePrincipal",
                          update=True) == read_only
    assert bodies.problem({"createdByAppId": "x"}, "microsoft.graph.servicePrincipal") is None
    assert "microsoft.graph.changeTrackedEntity/createdDateTime" in model.computed
    derived = next(name for name in model.types if name != "microsoft.graph.changeTrackedEntity"
                   and model.is_a(name, "changeTrackedEntity"))
    assert bodies.problem({"createdDateTime": "2024-01-01T00:00:00Z"}, derived) == \
        "Property 'createdDateTime' is read-only and cannot be set."
