"""Conformance with Microsoft's documented Graph examples, both ways.

1. For each example, the emulator, holding the objects the example refers to, answers with
   the documented status and a body with the documented keys and value types.
2. Each request the product can send (reconciler.graph.requests.CATALOGUE) matches a
   documented example's method, path template and body keys.

The examples come from $GRAPH_EXAMPLES when set, else ../shared/graph-examples beside the
checkout, else the copy in tests/data (taken from there, unmodified).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import csdl
from reconciler.graph.requests import CATALOGUE
from tests.conformance_client import send
from tests.conformance_recipes import JPEG, prepare
from tests.conftest import REPO
from tests.emulated import emulator


def examples_file() -> Path:
    if os.environ.get("GRAPH_EXAMPLES"):
        return Path(os.environ["GRAPH_EXAMPLES"])
    shared = REPO.parent / "shared" / "graph-examples" / "examples.json"
    return shared if shared.is_file() else REPO / "tests" / "data" / "graph-examples.json"


EXAMPLES = json.loads(examples_file().read_text(encoding="utf-8"))

# Where a documented status is informative only (README of the corpus, contract 0.1).
ANY_2XX = {"calendarPermissions.create", "photo.put"}
# Examples that exercise APIs outside the product, named with the reason.
OUTER_ONLY = {
    "json-batching#1": "its inner requests address OneDrive, Planner and group events, which "
                       "the product does not use; only the batch envelope is compared",
}
# Doc bodies that disagree with Graph's own schema, named with the reason.
SCHEMA_DIFFERENCES = {
    ("directoryaudit-list#1", "Type"): "the doc example capitalises targetResources[].type; "
                                        "the v1.0 schema (csdl) names it `type`",
    # The advanced-queries page: ConsistencyLevel does not change the default projection;
    # these examples list properties outside it (the doc abbreviates its responses).
    ("user-list#4", "mailNickname"): "outside the default projection of user",
    ("user-list#4", "otherMails"): "outside the default projection of user",
    ("user-list#4", "proxyAddresses"): "outside the default projection of user",
    ("user-list#6", "mailNickname"): "outside the default projection of user",
}


def shape_problems(doc: Any, ours: Any, where: str, example_id: str) -> list[str]:
    """Where `ours` lacks a documented key or has another type of value."""
    if doc is None or ours is None:  # Graph answers null for any property it has no value for
        return []
    if isinstance(doc, bool) or isinstance(ours, bool):
        return [] if isinstance(doc, bool) == isinstance(ours, bool) else [f"{where}: type"]
    if isinstance(doc, int | float):
        return [] if isinstance(ours, int | float) else [f"{where}: expected a number"]
    if isinstance(doc, str):
        return [] if isinstance(ours, str) else [f"{where}: expected text, got {ours!r}"]
    if isinstance(doc, list):
        if not isinstance(ours, list):
            return [f"{where}: expected a list"]
        if doc and not ours:
            return [f"{where}: expected items"]
        return shape_problems(doc[0], ours[0], where + "[0]", example_id) if doc else []
    if isinstance(doc, dict):
        if not isinstance(ours, dict):
            return [f"{where}: expected an object"]
        problems = []
        for key, value in doc.items():
            if (example_id, key) in SCHEMA_DIFFERENCES:
                continue
            if key in ("@odata.nextLink", "@odata.deltaLink"):
                if not ("@odata.nextLink" in ours or "@odata.deltaLink" in ours):
                    problems.append(f"{where}.{key}: no continuation link")
                continue
            if key not in ours:
                problems.append(f"{where}.{key}: missing")
                continue
            problems += shape_problems(value, ours[key], f"{where}.{key}", example_id)
        return problems
    return []


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_the_emulator_answers_as_documented(example):
    em = emulator()
    path, body, headers = prepare(example, em)
    content = None
    if example["api"] == "photo.put":
        content = JPEG
    reply = send(em, example["request"]["method"], path, body, headers, content)
    expected = example["response"]["status"]
    if example["api"] in ANY_2XX:
        assert 200 <= reply.status_code < 300, reply.text
    else:
        assert reply.status_code == expected, reply.text
    doc = example["response"]["body"]
    if doc is None:
        return
    if reply.headers.get("content-type", "").startswith("text/plain"):
        ours: Any = int(reply.text)
    else:
        ours = reply.json()
    if example["id"] in OUTER_ONLY:
        doc = {"responses": [{"id": "1", "status": 200}]}
    assert shape_problems(doc, ours, "body", example["id"]) == []


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
    _key = (_example["request"]["method"], template(_example["request"]["path"]))
    _body = _example["request"]["body"]
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
