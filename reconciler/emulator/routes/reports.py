"""Emulated sign-in logs and Identity Protection's risky users (read-only, seeded).

Sign-ins cannot happen in an emulated tenant, so they come from the seed (`signIns`, Graph's
signIn shape) and are listed newest first with `$filter` and `$top`; `riskyUsers` likewise
(`identityProtection/riskyUsers/{id}` is a 404 for a user who was never at risk).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.emulator import odata
from reconciler.emulator.routes.common import V1
from reconciler.emulator.wire import GraphError, Request, Response, Router

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()


@router.route("GET", V1 + "/auditLogs/signIns")
def sign_ins(em: Emulator, request: Request) -> Response:
    records = sorted(em.store.items("tenant", "signIn"),
                     key=lambda r: str(r.get("createdDateTime")), reverse=True)
    if "$filter" in request.query:
        records = odata.refine(records, request)
    page, more, _ = odata.offset_page(request, records, odata.page_size(request, 1000, 1000))
    return odata.page_response(request, page, more, "auditLogs/signIns")


@router.route("GET", V1 + "/identityProtection/riskyUsers")
def risky_users(em: Emulator, request: Request) -> Response:
    records = odata.refine(em.store.items("tenant", "riskyUser"), request)
    page, more, _ = odata.offset_page(request, records, odata.page_size(request, 500, 500))
    return odata.page_response(request, page, more, "identityProtection/riskyUsers")


@router.route("GET", V1 + "/identityProtection/riskyUsers/{user}")
def risky_user(em: Emulator, request: Request, user: str) -> Response:
    found = em.store.item("tenant", "riskyUser", user)
    if found is None:
        raise GraphError(404, "ResourceNotFound", f"The risky user '{user}' was not found.")
    return Response.of_json(200, {"@odata.type": "#microsoft.graph.riskyUser", **found})
