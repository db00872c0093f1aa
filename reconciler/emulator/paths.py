"""Graph's URL forms, read against the CSDL before routing.

A request path is walked segment by segment from its entity set or singleton: a key after a
collection, a navigation property (single or collection), an OData cast (`microsoft.graph.x`
or the `graph.x` alias) on a collection of a type `x` derives from, a function bound to the
type in any form Graph accepts (`delta`, `delta()`, `microsoft.graph.delta`), and a final
`$count` segment, and an action bound to the type (its parameters kept in `request.action`
for bodies.py). Routes then see one canonical form: casts and `$count` are taken off the
path into `request.cast` and `request.count_segment`, and functions are named bare.
"""

from __future__ import annotations

import re

from reconciler.emulator import csdl
from reconciler.emulator.wire import GraphError, Request

V1 = "/v1.0/"
_SKIP = {"$ref", "$value", "$batch", "$metadata"}
_KEY_IN_PARENTHESES = re.compile(r"^([A-Za-z]\w*)\((?:(\w+)=)?'?([^')]+)'?\)$")


def _split_keys(segments: list[str]) -> list[str]:
    """`directoryRoles(roleTemplateId='x')` -> directoryRoles, roleTemplateId=x, and
    `users('id')` -> users, id: OData's key-as-parentheses form, which the SDKs use."""
    out = []
    for segment in segments:
        found = _KEY_IN_PARENTHESES.match(segment)
        if found:
            name, alternate, key = found.groups()
            out += [name, f"{alternate}={key}" if alternate else key]
        else:
            out.append(segment)
    return out


def segment_not_found(segment: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def normalise(request: Request) -> None:
    """Rewrite `request.path` to the canonical form the routes are written for.

    Long because: one walk over the segments carrying the current type and whether it is
    a collection; each branch is one OData segment kind ($count, function, cast,
    navigation, property, key)."""
    request.cast = None
    request.count_segment = False
    request.path_type, request.path_collection = None, True
    request.action = None
    if not request.path.startswith(V1):
        return
    segments = _split_keys(request.path[len(V1):].rstrip("/").split("/"))
    if not segments or segments[0] in _SKIP:
        return
    model = csdl.model()
    first = segments[0]
    if first not in model.entity_sets:
        request.path = V1 + "/".join(segments)
        return  # not a Graph entity set: the router answers
    current: str | None = model.entity_sets[first]
    collection = first not in model.singletons
    out = [first]
    for index, segment in enumerate(segments[1:], start=1):
        last = index == len(segments) - 1
        if segment == "$count" and last and collection:
            request.count_segment = True
            continue
        if segment in _SKIP or current is None:
            out.append(segment)
            current = None
            continue
        bare = csdl.function_segment(segment)
        if segment != bare or bare in model.functions_bound_to(current, collection):
            if bare in model.functions_bound_to(current, collection):
                out.append(bare)
                current = None  # a function's result: the route takes over
                continue
        parameters = model.action(current, collection, bare)
        if parameters is not None:  # a bound action (assignLicense, restore, ...)
            out.append(bare)
            request.action = (bare, parameters)
            current = None
            continue
        cast = csdl.cast_name(segment)
        if cast is not None:
            if cast not in model.types:
                raise segment_not_found(segment)
            if not model.is_a(cast, current):
                raise GraphError(400, "BadRequest",
                                 f"The type '{cast}' is not compatible with the type "
                                 f"'{current}' of the collection.")
            if collection:
                request.cast = cast
            current = cast
            continue
        navigation = model.navigations(current).get(segment)
        if navigation is not None and not collection:
            out.append(segment)
            current, collection = navigation.type, navigation.collection
            continue
        prop = model.properties(current).get(segment) if not collection else None
        if prop is not None:
            out.append(segment)
            current, collection = (prop.type if prop.type in model.types else None,
                                   prop.collection)
            continue
        if collection:  # a key (an id, a userPrincipalName, roleTemplateId=...)
            out.append(segment)
            collection = False
            continue
        out.append(segment)  # unknown to the CSDL: the router decides (404/400)
        current = None
    request.path = V1 + "/".join(out)
    request.path_type, request.path_collection = current, collection
