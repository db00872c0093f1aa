"""One documented example replayed against a fresh emulator: arranged, sent, compared.

The few examples that cannot be replayed, and the few documented keys that are the doc's
own abbreviations or misspellings, are named here with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.emulator.app import Emulator
from tests.conformance_client import send
from tests.conformance_compare import compare
from tests.conformance_examples import Example, addressed, walk
from tests.conformance_harness import prepare
from tests.emulated import emulator

NOT_REPLAYABLE: dict[str, str] = {}
# Examples replayed only in part, with the reason.
ENVELOPE_ONLY = {
    "json-batching#1": "its inner requests address OneDrive, Planner and group events, which "
                       "the emulator does not serve; only the batch envelope is compared",
}
# Documented keys that are the doc's abbreviation or misspelling, not Graph's reply.
DOC_DIFFERENCES = {
    # The advanced-queries page: ConsistencyLevel does not change the default projection;
    # these examples list properties outside it (the doc abbreviates its responses).
    "user-list#4": {k: "outside the default projection of user"
                    for k in ("mailNickname", "otherMails", "proxyAddresses")},
    "user-list#6": {"mailNickname": "outside the default projection of user"},
    "user-assignlicense#1": {
        "assignedPlans": "the doc lists the removed SKU's id as an assigned service plan; "
                         "Graph lists the plans of the licences the user holds"},
    "calendar-post-calendarpermissions#1": {
        "isInsideOrganization": "the doc's request claims an adatum.onmicrosoft.com address "
                                "is inside a contoso organisation; Graph derives it from the "
                                "address (its allowedRoles in the same reply, without write "
                                "or delegate roles, are an outside user's)"},
    "authentication-post-phonemethods#1": {
        "smsSignInState": "depends on the tenant's SMS sign-in policy, which the example "
                          "does not show (the emulated tenant has it off, Graph's default)"},
}


def status_problems(example: Example, status: int, steps_end: str) -> list[str]:
    """The corpus README: a documented 200 for a create (POST to a collection) or a stream
    upload (PUT .../$value) is informative only; any 2xx conforms."""
    informative = example.status == 200 and (
        (example.method == "POST" and steps_end == "collection") or
        (example.method == "PUT" and example.path.endswith("/$value")))
    if informative:
        return [] if 200 <= status < 300 else [f"status {status}, documented 2xx"]
    return [] if status == example.status else [f"status {status}, documented "
                                                  f"{example.status}"]


def _all_pages(em: Any, ours: Any, headers: dict[str, str]) -> Any:
    """A doc that shows no next link shows items from anywhere in the collection (it
    truncates): the items of every page are candidates for them."""
    pages = 0
    while isinstance(ours, dict) and "@odata.nextLink" in ours and pages < 30:
        link = ours.pop("@odata.nextLink")
        following = send(em, "GET", link.split("/v1.0", 1)[1], None, headers).json()
        ours["value"] = ours.get("value", []) + following.get("value", [])
        for key in ("@odata.nextLink", "@odata.deltaLink"):
            if key in following:
                ours[key] = following[key]
        pages += 1
    return ours


def replay(example: Example, before_send: Callable[[Emulator], None] | None = None) -> list[str]:
    """What departs from the documented example (empty when the emulator conforms).
    `before_send` may change the arranged tenant (the harness's own tests use it)."""
    em = emulator()
    request = prepare(example, em)
    if before_send is not None:
        before_send(em)
    reply = send(em, request.method, request.path, request.body, request.headers,
                 request.content)
    steps = walk(example.path)
    end = "collection" if steps and steps[addressed(steps)].collection else "entity"
    problems = status_problems(example, reply.status_code, end)
    if problems:
        return problems + [reply.text[:300]]
    doc = example.response
    if doc is None:
        return []
    ours: Any
    if reply.headers.get("content-type", "").startswith("text/plain"):
        ours = int(reply.text)
    else:
        ours = reply.json()
    if isinstance(doc, dict) and "@odata.nextLink" not in doc:
        ours = _all_pages(em, ours, request.headers)
    if example.id in ENVELOPE_ONLY:
        doc = {"responses": [{"id": "1", "status": 200}]}
    request.context.skip = set(DOC_DIFFERENCES.get(example.id, {}))
    if isinstance(doc, dict) and isinstance(doc.get("value"), list):
        request.context.item_type = request.type
        return compare(doc, ours, None, request.context)
    return compare(doc, ours, request.type, request.context)
