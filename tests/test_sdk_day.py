"""Microsoft's own Python SDK (msgraph-sdk) and azure-identity, unchanged, against a served
emulator that requires bearer tokens: a day of an administrator's calls, in the SDK's own URL
forms. Only the network is redirected (Microsoft's hosts to the loopback origin), as the
product does; every object the emulator returns on the way is checked against the CSDL."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import pytest

pytest.importorskip("msgraph")
pytest.importorskip("azure.identity")

import requests  # noqa: E402 - azure-core's transport, installed with azure-identity
from azure.core.pipeline.transport import RequestsTransport  # noqa: E402
from azure.identity import ClientSecretCredential  # noqa: E402
from kiota_abstractions.base_request_configuration import RequestConfiguration  # noqa: E402
from kiota_authentication_azure.azure_identity_authentication_provider import (  # noqa: E402
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient  # noqa: E402
from msgraph.generated.models.assigned_license import AssignedLicense  # noqa: E402
from msgraph.generated.models.authentication_phone_type import (  # noqa: E402
    AuthenticationPhoneType,
)
from msgraph.generated.models.group import Group  # noqa: E402
from msgraph.generated.models.invitation import Invitation  # noqa: E402
from msgraph.generated.models.mailbox_settings import MailboxSettings  # noqa: E402
from msgraph.generated.models.o_data_errors.o_data_error import ODataError  # noqa: E402
from msgraph.generated.models.password_profile import PasswordProfile  # noqa: E402
from msgraph.generated.models.phone_authentication_method import (  # noqa: E402
    PhoneAuthenticationMethod,
)
from msgraph.generated.models.reference_create import ReferenceCreate  # noqa: E402
from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment  # noqa: E402
from msgraph.generated.models.user import User  # noqa: E402
from msgraph.generated.models.working_hours import WorkingHours  # noqa: E402
from msgraph.generated.users.item.assign_license.assign_license_post_request_body import (  # noqa: E402,E501
    AssignLicensePostRequestBody,
)
from msgraph.generated.users.users_request_builder import UsersRequestBuilder  # noqa: E402
from msgraph_core import GraphClientFactory, PageIterator  # noqa: E402

from reconciler.emulator import csdl  # noqa: E402
from reconciler.emulator.server import serve_in_background  # noqa: E402
from tests.emulated import TENANT_ID, emulator  # noqa: E402

HOSTS = ("login.microsoftonline.com", "graph.microsoft.com")
SKU = "6fd2c87f-b296-42f0-b197-1e91e994b900"
EXCHANGE_PLAN = "efb87545-963c-4e0d-99df-69c6916d9eb0"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"  # User Administrator template
SEED = {"subscribedSkus": [{
    "id": SKU, "skuId": SKU, "skuPartNumber": "ENTERPRISEPACK", "capabilityStatus": "Enabled",
    "appliesTo": "User", "consumedUnits": 0,
    "prepaidUnits": {"enabled": 25, "suspended": 0, "warning": 0},
    "servicePlans": [{"servicePlanId": EXCHANGE_PLAN, "servicePlanName": "EXCHANGE_S_ENTERPRISE",
                      "provisioningStatus": "Success", "appliesTo": "User"}]}]}


class _Wire:
    """What went over the wire: each Graph reply body, for the CSDL check."""

    def __init__(self) -> None:
        self.replies: list[tuple[str, str, dict]] = []


class _AsyncRedirect(httpx.AsyncBaseTransport):
    def __init__(self, origin: str, wire: _Wire) -> None:
        self.origin = httpx.URL(origin)
        self.inner = httpx.AsyncHTTPTransport()
        self.wire = wire

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in HOSTS:
            request.headers["X-Forwarded-Proto"] = request.url.scheme
            request.headers["Host"] = request.url.host
            request.url = request.url.copy_with(scheme=self.origin.scheme, host=self.origin.host,
                                                port=self.origin.port)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if "json" in response.headers.get("content-type", "") and response.content:
            self.wire.replies.append((request.method, request.url.path, json.loads(
                response.content)))
        return response


class _RequestsRedirect(requests.adapters.HTTPAdapter):
    def __init__(self, origin: str) -> None:
        super().__init__()
        self.origin = origin

    def send(self, request, **kwargs):  # noqa: ANN001, ANN201 - requests' signature
        parts = urlsplit(request.url)
        if parts.hostname in HOSTS:
            request.headers["Host"] = parts.hostname
            request.headers["X-Forwarded-Proto"] = "https"
            request.url = self.origin + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def served():
    em = emulator(SEED, anonymous=False)
    origin, server = serve_in_background(em)
    yield em, origin
    server.shutdown()
    server.server_close()


def sdk_client(origin: str, wire: _Wire) -> GraphServiceClient:
    session = requests.Session()
    session.mount("https://", _RequestsRedirect(origin))
    credential = ClientSecretCredential(TENANT_ID, "11111111-0000-4000-8000-000000000001",
                                        "any-secret", transport=RequestsTransport(
                                            session=session, session_owner=False))
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=["https://graph.microsoft.com/.default"])
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(transport=_AsyncRedirect(origin, wire)))
    return GraphServiceClient(request_adapter=GraphRequestAdapter(auth, client=http))


def eventual(**query: object) -> RequestConfiguration:
    config = RequestConfiguration(
        query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(**query))
    config.headers.add("ConsistencyLevel", "eventual")
    return config


async def administrators_day(client: GraphServiceClient, em) -> dict:  # noqa: ANN001
    seen: dict = {}
    domain = "contoso.onmicrosoft.com"
    # users and a group created
    made = []
    for n in range(3):
        user = await client.users.post(User(
            account_enabled=True, display_name=f"Day User {n}", mail_nickname=f"day{n}",
            user_principal_name=f"day{n}@{domain}", usage_location="NL",
            job_title="Engineer" if n else "Manager",
            password_profile=PasswordProfile(password="Xy-12345678!",
                                             force_change_password_next_sign_in=True)))
        made.append(user.id)
    group = await client.groups.post(Group(display_name="Day Team", mail_enabled=False,
                                           mail_nickname="dayteam", security_enabled=True))
    seen["group"] = group.id
    # read with $select, $filter, $count (and the advanced-query header)
    picked = await client.users.by_user_id(made[0]).get(
        request_configuration=RequestConfiguration(
            query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
                select=["displayName", "jobTitle"])))
    seen["select"] = (picked.display_name, picked.job_title)
    filtered = await client.users.get(request_configuration=eventual(
        filter="jobTitle eq 'Engineer'", count=True, select=["id", "jobTitle"]))
    seen["filter"] = (sorted(u.id for u in filtered.value), filtered.odata_count)
    negated = await client.users.get(request_configuration=eventual(
        filter="jobTitle ne 'Engineer'", count=True))
    seen["ne"] = sorted(u.id for u in negated.value)
    counted = await client.users.count.get(request_configuration=eventual())
    seen["count"] = counted
    # paged with the SDK's PageIterator
    first = await client.users.get(request_configuration=RequestConfiguration(
        query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            top=1, select=["id"])))
    paged: list[str] = []
    iterator = PageIterator(first, client.request_adapter)
    await iterator.iterate(lambda user: paged.append(user.id) or True)
    seen["paged"] = paged
    # delta, in the SDK's own URL form (delta())
    delta = await client.users.delta.get()
    pages = 1
    while delta.odata_next_link:
        delta = await client.users.delta.with_url(delta.odata_next_link).get()
        pages += 1
    seen["delta"] = (pages, bool(delta.odata_delta_link))
    group_delta = await client.groups.delta.get()
    seen["group_delta"] = [g.id for g in group_delta.value]
    # members added (twice: Graph's 400), listed, cast, counted, removed
    members = client.groups.by_group_id(group.id).members
    for user_id in made[:2]:
        await members.ref.post(ReferenceCreate(
            odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{user_id}"))
    try:
        await members.ref.post(ReferenceCreate(
            odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{made[0]}"))
        seen["twice"] = None
    except ODataError as error:
        seen["twice"] = (error.response_status_code, error.error.message)
    listed = await members.graph_user.get()
    seen["members"] = sorted(u.id for u in listed.value)
    seen["member_count"] = await members.count.get(request_configuration=eventual())
    await members.by_directory_object_id(made[1]).ref.delete()
    member_of = await client.users.by_user_id(made[0]).member_of.get()
    seen["member_of"] = [o.odata_type for o in member_of.value]
    cast = await client.users.by_user_id(made[0]).member_of.graph_group.get()
    seen["member_of_cast"] = [g.display_name for g in cast.value]
    # a role assigned
    await client.role_management.directory.role_assignments.post(UnifiedRoleAssignment(
        role_definition_id=USER_ADMIN, principal_id=made[0], directory_scope_id="/"))
    role = await client.directory_roles_with_role_template_id(USER_ADMIN).get()
    role_members = await client.directory_roles.by_directory_role_id(role.id).members.get()
    seen["role"] = (role.id != USER_ADMIN, [m.id for m in role_members.value])
    # a license assigned; then the mailbox settings read and patched
    await client.users.by_user_id(made[0]).assign_license.post(AssignLicensePostRequestBody(
        add_licenses=[AssignedLicense(sku_id=SKU, disabled_plans=[])], remove_licenses=[]))
    settings = await client.users.by_user_id(made[0]).mailbox_settings.get()
    seen["time_zone"] = settings.time_zone
    await client.users.by_user_id(made[0]).mailbox_settings.patch(MailboxSettings(
        time_zone="W. Europe Standard Time",
        working_hours=WorkingHours(start_time=None, end_time=None)))
    after = await client.users.by_user_id(made[0]).mailbox_settings.get()
    seen["patched"] = (after.time_zone, after.working_hours.days_of_week)
    # phone methods added, read by id, deleted
    phones = client.users.by_user_id(made[1]).authentication.phone_methods
    phone = await phones.post(PhoneAuthenticationMethod(
        phone_number="+31 612345678", phone_type=AuthenticationPhoneType.Mobile))
    read = await phones.by_phone_authentication_method_id(phone.id).get()
    await phones.by_phone_authentication_method_id(phone.id).delete()
    seen["phone"] = (read.phone_number, len((await phones.get()).value))
    # sessions revoked, a guest invited
    revoked = await client.users.by_user_id(made[1]).revoke_sign_in_sessions.post()
    seen["revoked"] = revoked.value
    invited = await client.invitations.post(Invitation(
        invited_user_email_address="partner@fabrikam.example",
        invite_redirect_url="https://myapps.microsoft.com", send_invitation_message=False))
    seen["guest"] = invited.invited_user.id is not None
    # a user deleted, listed among deleted items, restored, deleted again and purged
    await client.users.by_user_id(made[2]).delete()
    deleted = await client.directory.deleted_items.graph_user.get()
    seen["deleted"] = [u.id for u in deleted.value]
    await client.directory.deleted_items.by_directory_object_id(made[2]).restore.post()
    seen["restored"] = (await client.users.by_user_id(made[2]).get()).id
    await client.users.by_user_id(made[2]).delete()
    await client.directory.deleted_items.by_directory_object_id(made[2]).delete()
    seen["purged"] = [u.id for u in (await client.directory.deleted_items.graph_user.get()
                                     ).value]
    await client.groups.by_group_id(group.id).delete()
    seen["made"] = made
    return seen


def test_the_sdk_completes_an_administrators_day(served):
    em, origin = served
    wire = _Wire()
    seen = asyncio.run(administrators_day(sdk_client(origin, wire), em))
    made = seen["made"]
    assert seen["select"] == ("Day User 0", "Manager")
    assert seen["filter"] == (sorted(made[1:]), 2)
    assert seen["ne"] == [made[0]]
    assert seen["count"] == 3
    assert sorted(seen["paged"]) == sorted(made)
    assert seen["delta"] == (1, True)
    assert seen["group"] in seen["group_delta"]
    assert seen["twice"] == (400, "One or more added object references already exist for the "
                                  "following modified properties: 'members'.")
    assert seen["members"] == sorted(made[:2]) and seen["member_count"] == 2
    assert seen["member_of"] == ["#microsoft.graph.group"]
    assert seen["member_of_cast"] == ["Day Team"]
    assert seen["role"] == (True, [made[0]])
    assert seen["time_zone"] == "UTC"
    assert seen["patched"][0] == "W. Europe Standard Time" and seen["patched"][1]
    assert seen["phone"] == ("+31 612345678", 0)
    assert seen["revoked"] is True and seen["guest"]
    assert seen["deleted"] == [made[2]] and seen["restored"] == made[2]
    assert seen["purged"] == []
    # the emulator's own record: what the day wrote
    activities = [a["activityDisplayName"] for a in em.store.audits()]
    for activity in ("Add user", "Add group", "Add member to group", "Remove member from group",
                     "Add member to role", "Change user license", "Delete user",
                     "Hard Delete user", "Delete group"):
        assert activity in activities, activity
    # every object returned on the way validates against the CSDL
    checked = [r for r in wire.replies if reply_type(r[1])]
    assert len(checked) >= 25
    problems = []
    for method, path, body in wire.replies:
        problems += [f"{method} {path}: {p}" for p in csdl_problems(path, body)]
    assert problems == []


def csdl_problems(path: str, body: dict) -> list[str]:
    """Check a Graph reply against the type its URL names (via the CSDL)."""
    declared = reply_type(path)
    if declared is None or "error" in body:
        return []
    items = body["value"] if isinstance(body.get("value"), list) else [body]
    out = []
    for item in items:
        if isinstance(item, dict):
            out += csdl.problems(item, declared)
    return out


def reply_type(path: str) -> str | None:
    """The entity type a Graph path answers with, walking the CSDL (None when unknown)."""
    model = csdl.model()
    segments = [s for s in path.removeprefix("/v1.0/").split("/") if s]
    if not segments or segments[0] not in model.entity_sets:
        return None
    current, collection = model.entity_sets[segments[0]], segments[0] not in model.singletons
    for segment in segments[1:]:
        if segment in ("$ref", "$count", "$value"):
            return None
        bare = csdl.function_segment(segment)
        if bare in model.functions_bound_to(current, collection):
            return current if bare == "delta" else None
        if csdl.cast_name(segment):
            current = csdl.cast_name(segment)
            continue
        nav = model.navigations(current).get(segment)
        prop = model.properties(current).get(segment)
        if not collection and nav is not None:
            current, collection = nav.type, nav.collection
        elif not collection and prop is not None and prop.type in model.types:
            current, collection = prop.type, prop.collection
        elif collection:
            collection = False
        else:
            return None
    return current


def test_the_csdl_check_sees_a_property_or_value_graph_does_not_have():
    assert csdl_problems("/v1.0/users/x", {"id": "x", "displayName": "A"}) == []
    assert csdl_problems("/v1.0/users/x", {"id": "x", "nickname": "A"})
    assert csdl_problems("/v1.0/users/x", {"id": "x", "accountEnabled": "yes"})
    assert csdl_problems("/v1.0/users/x/mailboxSettings", {
        "workingHours": {"daysOfWeek": ["funday"]}})
    assert csdl_problems("/v1.0/groups/g/members", {"value": [
        {"@odata.type": "#microsoft.graph.user", "id": "u", "businessPhones": None}]})
