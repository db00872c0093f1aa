"""Emulated account routes: phone methods, sessions, invitations, open extensions."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator import open_extensions as extensions
from reconciler.emulator.routes.common import V1, find_user, no_me, user_target
from reconciler.emulator.rules import blank_user
from reconciler.emulator.wire import GraphError, Request, Response, Router, bad_request

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
PHONE_METHOD_IDS = {
    "mobile": "3179e48a-750b-4051-897c-87b9720928f7",
    "alternateMobile": "b6332ec1-7057-4abe-9331-3d72feddfe41",
    "office": "e37fc753-ff3b-4958-9484-eaa9425c82bc",
}
EMAIL_METHOD_ID = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f"
_PHONE = re.compile(r"^\+\d{1,3} \d{4,}(x\d+)?$")


@router.route("GET", V1 + "/me/authentication/methods")
@router.route("POST", V1 + "/me/authentication/phoneMethods")
@router.route("GET", V1 + "/me/authentication/phoneMethods")
def me_only(em: Emulator, request: Request) -> Response:
    raise no_me(request)


def _method_error(message: str, status: int = 400) -> GraphError:
    return GraphError(status, "badRequest" if status == 400 else "notFound", message)


def _phones(em: Emulator, user_id: str) -> dict[str, dict[str, Any]]:
    return {p["phoneType"]: p for p in em.store.items(user_id, "phoneMethod")}


@router.route("GET", V1 + "/users/{key}/authentication/phoneMethods")
def list_phone_methods(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    return odata.page_response(request, list(_phones(em, user["id"]).values()), None,
                               f"users('{user['id']}')/authentication/phoneMethods")


@router.route("GET", V1 + "/users/{key}/authentication/methods")
def list_methods(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    methods = em.store.items(user["id"], "authMethod")  # seeded methods of other kinds
    methods += [{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
                "id": "28c10230-6103-485e-b985-444c60001490", "password": None,
                "createdDateTime": user.get("createdDateTime")}]
    methods += [{"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", **p}
                for p in _phones(em, user["id"]).values()]
    methods += [{"@odata.type": "#microsoft.graph.emailAuthenticationMethod", **e}
                for e in em.store.items(user["id"], "emailMethod")]
    methods += [{"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
                 **m} for m in em.store.items(user["id"], "authenticatorMethod")]
    return odata.page_response(request, methods, None,
                               f"users('{user['id']}')/authentication/methods")


@router.route("POST", V1 + "/users/{key}/authentication/phoneMethods")
def add_phone_method(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    body = request.json() or {}
    kind, number = body.get("phoneType"), body.get("phoneNumber", "")
    if kind not in PHONE_METHOD_IDS:
        raise _method_error(f"Invalid phoneType '{kind}'.")
    if not _PHONE.match(number or ""):
        raise _method_error("Invalid phone number format. Phone numbers must be in the format "
                            "'+{country code} {number}x{extension}'.")
    phones = _phones(em, user["id"])
    if kind in phones:
        raise _method_error(f"The user already has a {kind} phone method.")
    if kind == "alternateMobile" and "mobile" not in phones:
        raise _method_error("An alternateMobile phone method requires a mobile phone method.")
    method = {"id": PHONE_METHOD_IDS[kind], "phoneNumber": number, "phoneType": kind,
              "smsSignInState": "notAllowedByPolicy"}
    em.store.put_item(user["id"], "phoneMethod", method["id"], method)
    em.audit(request, "User registered security info", user_target(user),
             {kind: (None, number)}, category="UserManagement")
    return Response.of_json(201, method)


@router.route("GET", V1 + "/users/{key}/authentication/phoneMethods/{method}")
def get_phone_method(em: Emulator, request: Request, key: str, method: str) -> Response:
    user = find_user(em, key)
    found = em.store.item(user["id"], "phoneMethod", method)
    if found is None:
        raise _method_error(f"Phone method '{method}' not found.", 404)
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#users('"
                                  f"{user['id']}')/authentication/phoneMethods/$entity",
                                  **found})


@router.route("PATCH", V1 + "/users/{key}/authentication/phoneMethods/{method}")
def update_phone_method(em: Emulator, request: Request, key: str, method: str) -> Response:
    user = find_user(em, key)
    body = request.json() or {}
    found = em.store.item(user["id"], "phoneMethod", method)
    if found is None:
        raise _method_error(f"Phone method '{method}' not found.", 404)
    if "phoneType" in body and body["phoneType"] != found["phoneType"]:
        raise _method_error("The phoneType of a phone method cannot be changed; add a method of "
                            "the new type and delete this one.")
    if not _PHONE.match(body.get("phoneNumber", "")):
        raise _method_error("Invalid phone number format. Phone numbers must be in the format "
                            "'+{country code} {number}x{extension}'.")
    old = found["phoneNumber"]
    found["phoneNumber"] = body["phoneNumber"]
    em.store.put_item(user["id"], "phoneMethod", method, found)
    em.audit(request, "User changed default security info", user_target(user),
             {found["phoneType"]: (old, found["phoneNumber"])})
    return Response.empty()


@router.route("DELETE", V1 + "/users/{key}/authentication/phoneMethods/{method}")
def delete_phone_method(em: Emulator, request: Request, key: str, method: str) -> Response:
    user = find_user(em, key)
    found = em.store.item(user["id"], "phoneMethod", method)
    if found is None:
        raise _method_error(f"Phone method '{method}' not found.", 404)
    if found["phoneType"] == "mobile" and "alternateMobile" in _phones(em, user["id"]):
        raise _method_error("The mobile phone method cannot be deleted while an alternateMobile "
                            "method exists.")
    em.store.delete_item(user["id"], "phoneMethod", method)
    em.audit(request, "User deleted security info", user_target(user),
             {found["phoneType"]: (found["phoneNumber"], None)})
    return Response.empty()


@router.route("POST", V1 + "/users/{key}/authentication/emailMethods")
def add_email_method(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    address = (request.json() or {}).get("emailAddress")
    if em.store.items(user["id"], "emailMethod"):
        raise _method_error("The user already has an email method.")
    method = {"id": EMAIL_METHOD_ID, "emailAddress": address}
    em.store.put_item(user["id"], "emailMethod", EMAIL_METHOD_ID, method)
    em.audit(request, "User registered security info", user_target(user),
             {"email": (None, address)})
    return Response.of_json(201, method)


@router.route("GET", V1 + "/users/{key}/authentication/microsoftAuthenticatorMethods")
def list_authenticator_methods(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    methods = [{"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
                **m} for m in em.store.items(user["id"], "authenticatorMethod")]
    return odata.page_response(request, methods, None, "authenticatorMethods")


@router.route("DELETE", V1 + "/users/{key}/authentication/microsoftAuthenticatorMethods/{m}")
def delete_authenticator_method(em: Emulator, request: Request, key: str, m: str) -> Response:
    user = find_user(em, key)
    if not em.store.delete_item(user["id"], "authenticatorMethod", m):
        raise _method_error(f"Authenticator method '{m}' not found.", 404)
    em.audit(request, "User deleted security info", user_target(user))
    return Response.empty()


@router.route("POST", V1 + "/users/{key}/revokeSignInSessions")
def revoke_sessions(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    user["signInSessionsValidFromDateTime"] = em.now_text()
    em.store.put_object("user", user)
    em.audit(request, "Invalidate all refresh tokens for user", user_target(user))
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#"
                                  "Edm.Boolean", "value": True})


@router.route("POST", V1 + "/invitations")
def invite(em: Emulator, request: Request) -> Response:
    body = request.json() or {}
    email = body.get("invitedUserEmailAddress") or ""
    if "@" not in email or not body.get("inviteRedirectUrl"):
        raise bad_request("The invitedUserEmailAddress and inviteRedirectUrl are required.",
                          code="BadRequest")
    invited = (body.get("invitedUser") or {}).get("id")
    guest = None
    if invited:
        guest = find_user(em, invited)
    else:
        guest = next((u for u in em.store.all_objects("user")
                      if (u.get("mail") or "").lower() == email.lower()), None)
    if body.get("resetRedemption") and guest is None:
        raise bad_request("resetRedemption needs invitedUser.id of an existing guest.",
                          code="BadRequest")
    if guest is None:
        guest = blank_user()
        domain = em.store.get_meta("domain")
        guest.update({
            "id": str(uuid.uuid4()), "userType": "Guest", "mail": email,
            "displayName": body.get("invitedUserDisplayName") or email.split("@")[0],
            "userPrincipalName": f"{email.replace('@', '_')}#EXT#@{domain}",
            "accountEnabled": True, "creationType": "Invitation",
            "otherMails": [email], "createdDateTime": em.now_text(),
            "mailNickname": email.replace("@", "_"),
        })
        activity = "Invite external user"
    else:
        activity = "Reset redemption" if body.get("resetRedemption") else "Resend invitation"
    if body.get("resetRedemption") and (guest.get("mail") or "").lower() != email.lower():
        guest["mail"] = email
    guest["externalUserState"] = "PendingAcceptance"
    guest["externalUserStateChangeDateTime"] = em.now_text()
    em.store.put_object("user", guest)
    em.audit(request, activity, user_target(guest), {"InvitedEmail": (None, email)})
    invitation_id = str(uuid.uuid4())
    return Response.of_json(201, {
        "@odata.context": f"{request.origin}/v1.0/$metadata#invitations/$entity",
        "id": invitation_id,
        "inviteRedeemUrl": f"https://login.microsoftonline.com/redeem?rd=https%3a%2f%2f"
                           f"invitations.microsoft.com%2fredeem%2f%3ftenant%3d{em.tenant_id}"
                           f"%26user%3d{invitation_id}",
        "invitedUserDisplayName": guest["displayName"],
        "invitedUserEmailAddress": email,
        "invitedUserType": "Guest",
        "sendInvitationMessage": bool(body.get("sendInvitationMessage", False)),
        "resetRedemption": bool(body.get("resetRedemption", False)),
        "invitedUserMessageInfo": body.get("invitedUserMessageInfo") or {
            "messageLanguage": None, "ccRecipients": [{"emailAddress": {"name": None,
                                                                        "address": None}}],
            "customizedMessageBody": None},
        "inviteRedirectUrl": body["inviteRedirectUrl"],
        "status": "PendingAcceptance",
        "invitedUser": {"id": guest["id"]},
    })


# open extensions -------------------------------------------------------------------------------
@router.route("GET", V1 + "/users/{key}/extensions")
def list_extensions(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    return odata.page_response(request, em.store.items(user["id"], "extension"), None,
                               f"users('{user['id']}')/extensions")


@router.route("POST", V1 + "/users/{key}/extensions")
def add_extension(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    extension = extensions.create(em, user["id"], request.json() or {})
    em.audit(request, "Update user", user_target(user),
             {f"extension:{extension['id']}": (None, "set")})
    return Response.of_json(201, extension)


@router.route("GET", V1 + "/users/{key}/extensions/{name}")
def get_extension(em: Emulator, request: Request, key: str, name: str) -> Response:
    return Response.of_json(200, extensions.get(em, find_user(em, key)["id"], name))


@router.route("PATCH", V1 + "/users/{key}/extensions/{name}")
def update_extension(em: Emulator, request: Request, key: str, name: str) -> Response:
    user = find_user(em, key)
    extensions.update(em, user["id"], name, request.json() or {})
    em.audit(request, "Update user", user_target(user), {f"extension:{name}": ("set", "set")})
    return Response.empty()


@router.route("DELETE", V1 + "/users/{key}/extensions/{name}")
def delete_extension(em: Emulator, request: Request, key: str, name: str) -> Response:
    user = find_user(em, key)
    extensions.delete(em, user["id"], name)
    em.audit(request, "Update user", user_target(user), {f"extension:{name}": ("set", None)})
    return Response.empty()
