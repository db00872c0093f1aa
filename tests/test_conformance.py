"""Conformance with Microsoft's documented Graph examples, both ways.

1. Each documented example is replayed against a fresh emulator by a generic harness
   (tests/conformance_harness.py): it arranges the objects the example's path, body and
   response refer to, sends the documented request, and compares the reply value by value
   (tests/conformance_compare.py), on every item of a list. No example has a recipe.
2. Each request the product can send (reconciler.graph.requests.CATALOGUE) matches a
   documented example's method, path template and body keys.

The examples come from $GRAPH_EXAMPLES when set, else ../shared/graph-examples beside the
checkout, else the copy in tests/data (taken from there, unmodified).
"""

from __future__ import annotations

import re

import pytest

from reconciler.emulator import csdl
from reconciler.graph.requests import CATALOGUE
from tests.conformance_examples import load
from tests.conformance_replay import NOT_REPLAYABLE, replay

EXAMPLES = load()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_the_emulator_answers_as_documented(example):
    if example.id in NOT_REPLAYABLE:
        pytest.skip(NOT_REPLAYABLE[example.id])
    assert replay(example) == []


def template(path: str) -> str:
    """`/me/x/{id}?$q` and `/users/87d3.../x/{id}` both -> `/users/{}/x/{}`."""
    path = path.split("?")[0].rstrip("/")
    path = re.sub(r"^/me(?=/|$)", "/users/{}", path)
    segments = []
    for segment in path.split("/")[1:]:
        literal = segment in VOCABULARY or (segment.startswith("$") and segment != "$")
        segments.append(segment if literal else "{}")
    return "/" + "/".join(segments)


VOCABULARY = {
    "users", "groups", "members", "manager", "photo", "calendar", "calendarPermissions",
    "mailboxSettings", "automaticRepliesSetting", "workingHours", "authentication", "methods",
    "phoneMethods", "emailMethods", "microsoftAuthenticatorMethods", "revokeSignInSessions",
    "invitations", "roleManagement", "directory", "roleDefinitions", "roleAssignments",
    "directoryRoles", "subscribedSkus", "assignLicense", "licenseDetails", "deletedItems",
    "restore", "auditLogs", "directoryAudits", "delta", "memberOf", "extensions",
    "microsoft.graph.user", "microsoft.graph.group",
}
DOCUMENTED: dict[tuple[str, str], set[str]] = {}
for _example in EXAMPLES:
    _key = (_example.method, template(_example.path))
    _body = _example.body
    DOCUMENTED.setdefault(_key, set()).update(_body.keys() if isinstance(_body, dict) else ())

# Bodies whose documented example shows only some of the properties the type has: any
# property the CSDL declares on the type may be sent.
PROPERTY_BAGS = {"user": set(csdl.model().properties("user")),
                 "invitation": set(csdl.model().properties("invitation"))
                 | set(csdl.model().navigations("invitation"))}
DOCUMENTED_OPERATIONS = [op for op in CATALOGUE.values() if not op.undocumented]
UNDOCUMENTED_OPERATIONS = [op for op in CATALOGUE.values() if op.undocumented]


@pytest.mark.parametrize("operation", DOCUMENTED_OPERATIONS,
                         ids=[op.name for op in DOCUMENTED_OPERATIONS])
def test_each_request_the_product_sends_is_documented(operation):
    request = operation.build(*operation.sample)
    key = (request.method, template(request.path))
    assert key in DOCUMENTED, f"{key} matches no documented example"
    keys = set(request.body) if isinstance(request.body, dict) else set()
    allowed = DOCUMENTED[key] | PROPERTY_BAGS.get(operation.property_bag or "", set())
    assert keys <= allowed, f"body keys not documented: {sorted(keys - allowed)}"


@pytest.mark.parametrize("operation", UNDOCUMENTED_OPERATIONS,
                         ids=[op.name for op in UNDOCUMENTED_OPERATIONS])
def test_requests_without_a_documented_example_say_why(operation):
    request = operation.build(*operation.sample)
    assert (request.method, template(request.path)) not in DOCUMENTED, \
        "a documented example exists now: drop the `undocumented` note"
    pytest.skip(f"{operation.name}: {operation.undocumented}")


# Reads whose target is a complex property rather than an entity: $select does not apply.
NO_SELECT = {"get_automatic_replies": "a complex property (automaticRepliesSetting)",
             "get_photo": "the image's bytes ($value), not an entity",
             "list_auth_methods": "a polymorphic collection: the derived types' properties "
                                  "(phoneNumber, emailAddress, displayName) are not on the base "
                                  "authenticationMethod type that $select addresses"}


@pytest.mark.parametrize("operation", [op for op in CATALOGUE.values()
                                       if op.build(*op.sample).method == "GET"],
                         ids=lambda op: op.name)
def test_every_read_the_product_sends_selects_its_properties(operation):
    request = operation.build(*operation.sample)
    if operation.name in NO_SELECT:
        pytest.skip(f"{operation.name}: {NO_SELECT[operation.name]}")
    assert "$select=" in request.path
