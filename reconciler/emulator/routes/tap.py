"""Emulated Temporary Access Pass: the authentication-method policy's TemporaryAccessPass
configuration and a user's temporaryAccessPassMethods (Graph v1.0).

Rules, as documented (temporaryaccesspassauthenticationmethodconfiguration,
authentication-post-temporaryaccesspassmethods, temporaryaccesspassauthenticationmethod):
- a pass is created only when the policy's `state` is `enabled` and the user is in its
  `includeTargets` (a group, or `all_users`) and not in its `excludeTargets`; otherwise 400
  "Converged UserCredentialPolicy does not allow creating or updating this authentication
  method. AuthMethodType [TemporaryAccessPass]." (graph-contract 24.3);
- `lifetimeInMinutes` (default: the policy's `defaultLifetimeInMinutes`) must lie within the
  policy's minimum and maximum, themselves within 10 and 43200; a multi-use pass
  (`isUsableOnce: false`) is refused when the policy makes every pass single-use;
- a user has at most one pass: creating one while one exists deletes the old one;
- the pass itself (`defaultLength` characters) is returned only in the 201 reply; every
  later read shows `temporaryAccessPass: null`. The emulator keeps a salted hash of it (an
  item no route serves) so tests can check a delivered pass is the one issued.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator.routes.common import V1, find_user, user_target
from reconciler.emulator.wire import GraphError, Request, Response, Router, bad_request

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
CONFIGURATION = "TemporaryAccessPass"
KIND = "temporaryAccessPassMethod"
# A new tenant's configuration (the portal's defaults): off until an administrator enables it
DEFAULT_POLICY: dict[str, Any] = {
    "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
    "id": CONFIGURATION, "state": "disabled",
    "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired":
                        False}],
    "excludeTargets": [], "defaultLifetimeInMinutes": 60, "defaultLength": 8,
    "minimumLifetimeInMinutes": 60, "maximumLifetimeInMinutes": 480, "isUsableOnce": False}
NOT_ALLOWED = ("Converged UserCredentialPolicy does not allow creating or updating this "
               "authentication method. AuthMethodType [TemporaryAccessPass].")
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#$%&*+=?"
WRITABLE = {"lifetimeInMinutes", "isUsableOnce", "startDateTime"}


def policy(em: Emulator) -> dict[str, Any]:
    return em.store.item("tenant", "authMethodConfiguration", CONFIGURATION) or \
        dict(DEFAULT_POLICY)


@router.route("GET", V1 + "/policies/authenticationMethodsPolicy/"
                          "authenticationMethodConfigurations/{name}")
def get_configuration(em: Emulator, request: Request, name: str) -> Response:
    if name.lower() != CONFIGURATION.lower():
        raise GraphError(404, "NotFound", f"Authentication method configuration '{name}' "
                                          "not found.")
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#"
                                  "authenticationMethodConfigurations/$entity",
                                  **odata.select(policy(em), odata.select_fields(request),
                                                 None)})


def _targeted(em: Emulator, rules: dict[str, Any], user_id: str) -> bool:
    def hit(targets: list[dict[str, Any]]) -> bool:
        return any(t.get("id") == "all_users" or em.store.is_member(str(t.get("id")), user_id)
                   for t in targets or [])

    return hit(rules.get("includeTargets")) and not hit(rules.get("excludeTargets"))


def _instant(text: Any, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_request(f"Invalid value specified for property '{name}' of resource "
                          "'TemporaryAccessPassAuthenticationMethod'.") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _lifetime(rules: dict[str, Any], body: dict[str, Any]) -> int:
    lifetime = body.get("lifetimeInMinutes", rules["defaultLifetimeInMinutes"])
    low = max(10, int(rules["minimumLifetimeInMinutes"]))
    high = min(43200, int(rules["maximumLifetimeInMinutes"]))
    if not isinstance(lifetime, int) or isinstance(lifetime, bool) or \
            not low <= lifetime <= high:
        raise bad_request(f"The lifetime of a Temporary Access Pass must be between {low} and "
                          f"{high} minutes under the tenant's policy.")
    return lifetime


def _shown(method: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A stored pass as a read serves it: the pass hidden, its usability as of now."""
    start = _instant(method["startDateTime"], "startDateTime")
    end = start + timedelta(minutes=method["lifetimeInMinutes"])
    reason = "NotYetValid" if now < start else "Expired" if now >= end else "EnabledByPolicy"
    shown = {k: v for k, v in method.items() if k != "passHash"}
    return {"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
            **shown, "temporaryAccessPass": None, "isUsable": reason == "EnabledByPolicy",
            "methodUsabilityReason": reason}


@router.route("POST", V1 + "/users/{key}/authentication/temporaryAccessPassMethods")
def create_pass(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    body = request.json() or {}
    unknown = sorted(set(body) - WRITABLE - {"@odata.type"})
    if unknown:
        raise bad_request(f"Invalid property '{unknown[0]}' for "
                          "'TemporaryAccessPassAuthenticationMethod'.")
    rules = policy(em)
    if rules.get("state") != "enabled" or not _targeted(em, rules, user["id"]):
        raise bad_request(NOT_ALLOWED)
    lifetime = _lifetime(rules, body)
    once = body.get("isUsableOnce", bool(rules.get("isUsableOnce")))
    if not isinstance(once, bool) or (rules.get("isUsableOnce") and not once):
        raise bad_request("A multi-use Temporary Access Pass is not allowed: the tenant's "
                          "policy makes every pass usable once.")
    now = datetime.now(UTC)
    start = _instant(body["startDateTime"], "startDateTime") if body.get("startDateTime") \
        else now
    length = int(rules.get("defaultLength") or 8)
    secret = "".join(secrets.choice(ALPHABET) for _ in range(length))
    salt = secrets.token_hex(8)
    method = {"id": str(uuid.uuid4()), "createdDateTime": em.now_text(),
              "startDateTime": start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
              "lifetimeInMinutes": lifetime, "isUsableOnce": once,
              "passHash": {"salt": salt, "sha256": hashlib.sha256(
                  (salt + secret).encode()).hexdigest()}}
    for old in em.store.items(user["id"], KIND):  # one pass per user: the new one replaces
        em.store.delete_item(user["id"], KIND, old["id"])
    em.store.put_item(user["id"], KIND, method["id"], method)
    em.audit(request, "Admin registered temporary access pass method for user",
             user_target(user), {"LifetimeInMinutes": (None, lifetime)})
    reply = {**_shown(method, now), "temporaryAccessPass": secret}
    return Response.of_json(201, {"@odata.context": f"{request.origin}/v1.0/$metadata#users('"
                                  f"{user['id']}')/authentication/temporaryAccessPassMethods/"
                                  "$entity", **reply})


@router.route("GET", V1 + "/users/{key}/authentication/temporaryAccessPassMethods")
def list_passes(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    now = datetime.now(UTC)
    fields = odata.select_fields(request)
    shown = [odata.select(_shown(m, now), fields, None) for m in em.store.items(user["id"],
                                                                               KIND)]
    return odata.page_response(request, shown, None, f"users('{user['id']}')/authentication/"
                                                     "temporaryAccessPassMethods")


@router.route("GET", V1 + "/users/{key}/authentication/temporaryAccessPassMethods/{method}")
def get_pass(em: Emulator, request: Request, key: str, method: str) -> Response:
    user = find_user(em, key)
    found = em.store.item(user["id"], KIND, method)
    if found is None:
        raise GraphError(404, "NotFound", f"Temporary Access Pass '{method}' not found.")
    return Response.of_json(200, _shown(found, datetime.now(UTC)))


@router.route("DELETE", V1 + "/users/{key}/authentication/temporaryAccessPassMethods/{method}")
def delete_pass(em: Emulator, request: Request, key: str, method: str) -> Response:
    user = find_user(em, key)
    if not em.store.delete_item(user["id"], KIND, method):
        raise GraphError(404, "NotFound", f"Temporary Access Pass '{method}' not found.")
    em.audit(request, "Admin deleted temporary access pass method for user",
             user_target(user))
    return Response.empty()
