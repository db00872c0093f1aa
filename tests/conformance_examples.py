"""A documented Graph example, read: its request and response, and its path walked against
the CSDL (reconciler/emulator/metadata) so the harness knows, for each segment, which entity
set, navigation, key, cast or operation it is and which type it addresses."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from reconciler.emulator import csdl
from tests.conftest import REPO

GRAPH = "https://graph.microsoft.com/v1.0"
PLACEHOLDER = re.compile(r"^\{[^{}]*\}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
MARKERS = {"$ref", "$count", "$value"}


@dataclass
class Example:
    id: str
    api: str
    method: str
    path: str  # without the query
    query: str  # as written, without the leading "?"
    headers: dict[str, str]
    body: Any
    status: int
    response: Any
    source: str = ""

    @property
    def query_options(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    @property
    def read(self) -> bool:
        return self.method == "GET"


def examples_file() -> Path:
    """$GRAPH_EXAMPLES when set, else ../shared/graph-examples beside the checkout, else the
    copy in tests/data (taken from there, unmodified)."""
    if os.environ.get("GRAPH_EXAMPLES"):
        return Path(os.environ["GRAPH_EXAMPLES"])
    shared = REPO.parent / "shared" / "graph-examples" / "examples.json"
    return shared if shared.is_file() else REPO / "tests" / "data" / "graph-examples.json"


def load(path: Path | None = None) -> list[Example]:
    raw = json.loads((path or examples_file()).read_text(encoding="utf-8"))
    return [parse(item) for item in raw]


def parse(item: dict[str, Any]) -> Example:
    request, response = item["request"], item["response"]
    path, _, query = request["path"].partition("?")
    return Example(item["id"], item.get("api", ""), request["method"].upper(),
                   path.replace(" ", "") if "{" in path else path, query,
                   dict(request.get("headers") or {}), request.get("body"),
                   int(response["status"]), response.get("body"), item.get("source", ""))


@dataclass
class Step:
    """One path segment, read against the CSDL."""

    segment: str
    kind: str  # set, singleton, key, nav, property, cast, call, $ref, $count, $value, other
    type: str | None  # the type addressed after this segment
    collection: bool
    nav: str | None = None  # for a key: the entity set or navigation it keys into
    owner: int | None = None  # for nav/key/property: the step holding the owning entity
    children: list[int] = field(default_factory=list)

    @property
    def placeholder(self) -> bool:
        return bool(PLACEHOLDER.match(self.segment))


def walk(path: str) -> list[Step]:
    """The path's segments, each with the kind of OData segment it is and the type it
    addresses (casts narrow the type; keys address one entity of the collection before).

    Long because: one pass carrying the current type, whether it is a collection, and the
    step that owns it; each branch is one OData segment kind."""
    model = csdl.model()
    segments = [s for s in path.strip("/").split("/") if s]
    if not segments or segments[0] not in model.entity_sets:
        return [Step(s, "other", None, False) for s in segments]
    first = segments[0]
    collection = first not in model.singletons
    steps = [Step(first, "set" if collection else "singleton", model.entity_sets[first],
                  collection, nav=first)]
    entity = None if collection else 0  # the step holding the current single entity
    container = 0  # the step of the current collection
    for segment in segments[1:]:
        current = steps[-1].type
        if segment in MARKERS:
            steps.append(Step(segment, segment, current, collection, owner=entity))
            continue
        if current is None:
            steps.append(Step(segment, "other", None, False))
            continue
        cast = model.cast(current, segment)
        if cast is not None:
            steps.append(Step(segment, "cast", cast, collection, owner=entity))
            continue
        bare = csdl.function_segment(segment) or segment
        if bare in model.functions_bound_to(current, collection):
            steps.append(Step(segment, "call", None, False, nav=bare, owner=entity))
            continue
        if collection:
            steps.append(Step(segment, "key", current, False, nav=steps[container].nav,
                              owner=steps[container].owner))
            collection, entity = False, len(steps) - 1
            continue
        navigation = model.navigations(current).get(segment)
        prop = model.properties(current).get(segment)
        found = navigation or prop
        if found is None:  # an action (assignLicense, restore...): the route answers
            steps.append(Step(segment, "call", None, False, nav=segment, owner=entity))
            continue
        kind = "nav" if navigation else "property"
        steps.append(Step(segment, kind, found.type if found.type in model.types else None,
                          found.collection, nav=segment, owner=entity))
        collection = found.collection
        if collection:
            container = len(steps) - 1
        else:
            entity = len(steps) - 1
    return steps


def addressed(steps: list[Step]) -> int:
    """The index of the step whose resource the request reads or writes (markers, casts
    and calls are not resources of their own)."""
    for index in range(len(steps) - 1, -1, -1):
        if steps[index].kind not in MARKERS | {"cast", "call"}:
            return index
    return 0


def cast_of(steps: list[Step], index: int) -> str | None:
    """The type a cast right after step `index` narrows it to."""
    for step in steps[index + 1:]:
        if step.kind == "cast":
            return step.type
        if step.kind not in MARKERS:
            return None
    return None
