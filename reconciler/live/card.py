"""One user's card, as an MSP console shows it: the tenant's side, read with one call or one
listing per source (the sign-in and audit reports allow 5 requests per 10 s per app, so each
is read once, filtered to the user, newest first).

Every source that the tenant cannot serve (no Intune licence, no Entra ID P2 for risk, a
missing permission) is reported in `unavailable` with the reason instead of failing the card.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.graph.client import GraphClient
from reconciler.graph.errors import GraphError
from reconciler.graph.urls import segment
from reconciler.live.audits import who

CARD_SELECT = ("id,userPrincipalName,displayName,mail,jobTitle,department,accountEnabled,"
               "userType,createdDateTime,usageLocation,assignedLicenses,onPremisesSyncEnabled,"
               "employeeLeaveDateTime,externalUserState")
SIGN_INS = 10
AUDITS = 50
LICENSE_ACTIVITIES = ("change user license", "update user")


def _guid(text: str) -> str:
    """An object id checked before it goes into an OData filter (never a hostile string)."""
    allowed = set("0123456789abcdefABCDEF-")
    if not text or not set(text) <= allowed:
        raise ValueError(f"not an object id: {text!r}")
    return text


def read_card(graph: GraphClient, upn: str) -> dict[str, Any]:
    """The tenant's side of one user's card (raises GraphError 404 for an unknown user)."""
    user = graph.get(f"/users/{segment(upn)}",
                     {"$select": CARD_SELECT, "$expand": "manager($select=id,userPrincipalName,"
                                                         "displayName)"})
    user_id = _guid(user["id"])
    unavailable: dict[str, str] = {}

    def optional(name: str, read: Callable[[], Any], empty: Any) -> Any:
        try:
            return read()
        except GraphError as error:
            if error.status == 404 and name == "risk":
                return None  # never at risk
            unavailable[name] = f"{error.status} {error.code}: {error.message}"
            return empty

    member_of = graph.list(f"/users/{user_id}/memberOf",
                           {"$select": "id,displayName,roleTemplateId,isAssignableToRole"})
    skus = {s["skuId"]: s.get("skuPartNumber") for s in graph.list("/subscribedSkus")}
    audits = optional("audits", lambda: graph.list(
        "/auditLogs/directoryAudits",
        {"$filter": f"targetResources/any(t:t/id eq '{user_id}')", "$top": str(AUDITS)}), [])
    return {
        "user": {k: v for k, v in user.items() if not k.startswith("@") and k != "manager"},
        "manager": (user.get("manager") or {}).get("userPrincipalName"),
        "groups": sorted(m.get("displayName") or m["id"] for m in member_of
                         if m.get("@odata.type") == "#microsoft.graph.group"),
        "directoryRoles": sorted(m.get("displayName") or m["id"] for m in member_of
                                 if m.get("@odata.type") == "#microsoft.graph.directoryRole"),
        "licenses": sorted(skus.get(a["skuId"], a["skuId"])
                           for a in user.get("assignedLicenses") or []),
        "authenticationMethods": optional("authenticationMethods", lambda: [
            _method(m) for m in graph.list(f"/users/{user_id}/authentication/methods")], []),
        "applications": optional("applications", lambda: [
            {"app": a.get("resourceDisplayName"), "through": a.get("principalType"),
             "principal": a.get("principalDisplayName")}
            for a in graph.list(f"/users/{user_id}/appRoleAssignments")], []),
        "devices": optional("devices", lambda: [
            {"deviceName": d.get("deviceName"), "operatingSystem": d.get("operatingSystem"),
             "complianceState": d.get("complianceState"),
             "lastSyncDateTime": d.get("lastSyncDateTime")}
            for d in graph.list("/deviceManagement/managedDevices",
                                {"$filter": f"userId eq '{user_id}'"})
            if d.get("userId") == user_id], []),  # Intune filters fail open: check each row
        "signIns": optional("signIns", lambda: [
            {"when": s.get("createdDateTime"), "app": s.get("appDisplayName"),
             "ip": s.get("ipAddress"), "result": (s.get("status") or {}).get("errorCode")}
            for s in graph.get("/auditLogs/signIns", {"$filter": f"userId eq '{user_id}'",
                                                      "$top": str(SIGN_INS)}).get("value", [])],
            []),
        "audits": [_audit(a) for a in audits],
        "licenseChanges": [_audit(a) for a in audits if _is_license_change(a)],
        "risk": optional("risk", lambda: _risk(graph.get(
            f"/identityProtection/riskyUsers/{user_id}")), None),
        "unavailable": unavailable,
    }


def _method(method: dict[str, Any]) -> dict[str, Any]:
    kind = str(method.get("@odata.type", "")).rsplit(".", 1)[-1].replace("AuthenticationMethod",
                                                                           "")
    detail = method.get("displayName") or method.get("phoneNumber") or \
        method.get("emailAddress") or ""
    return {"type": kind or "method", "detail": detail,
            "registered": method.get("createdDateTime")}


def _audit(record: dict[str, Any]) -> dict[str, Any]:
    changed = sorted({str(p.get("displayName")) for t in record.get("targetResources") or []
                      for p in t.get("modifiedProperties") or []})
    return {"when": record.get("activityDateTime"), "activity": record.get("activityDisplayName"),
            "by": who(record), "changed": changed}


def _is_license_change(record: dict[str, Any]) -> bool:
    activity = str(record.get("activityDisplayName") or "").lower()
    if activity == "change user license":
        return True
    names = {str(p.get("displayName") or "").lower() for t in record.get("targetResources") or []
             for p in t.get("modifiedProperties") or []}
    return activity in LICENSE_ACTIVITIES and bool(names & {"assignedlicense",
                                                            "assignedlicenses"})


def _risk(record: dict[str, Any]) -> dict[str, Any]:
    return {"riskLevel": record.get("riskLevel"), "riskState": record.get("riskState"),
            "updated": record.get("riskLastUpdatedDateTime")}
