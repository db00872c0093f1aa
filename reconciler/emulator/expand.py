"""`$expand` on directory objects, in one place for every collection and entity served.

The rules, from Microsoft Learn ("Use query parameters to customize responses", the
query-parameter known issues, "List manager"):
- only one relationship can be expanded per request on a directory object (more: 400
  "The result of parsing $expand contained at least 2 items, but the maximum allowed is 1.");
- the name must be a navigation property the CSDL declares for the type (a structural
  property or an unknown name: 400), and one the directory serves: relationships to other
  directory objects, appRoleAssignments/appRoleAssignedTo and open extensions, unless the
  CSDL's Capabilities.ExpandRestrictions rule it out (acceptedSenders, users/permissionGrants);
  the others (events, messages, photo, drive, ...) answer 400 `ExpandNotSupported` "Expand is
  not allowed for property 'Photo' according to the entity schema.";
- an expanded collection holds at most 20 objects (100 for registeredDevices) and has no
  @odata.nextLink (`expand_items_max` in limits.py); the page of the collection being expanded
  holds at most 100 objects (`odata.directory_page_size`);
- nested options: `$select` (checked against the target type), `$filter` (e.g.
  `extensions($filter=id eq '...')`) and, on `manager` of a single user, `$levels` (a number
  1-1000 or `max`); `$levels` on a list of users, another nested `$expand` (one level only)
  or any other nested option is refused with 400.
Without a nested `$select` an expanded object carries all its properties (our reading of the
documented responses: the default projection applies to the top-level objects only).

Routes do not expand: `Emulator.dispatch` checks `$expand` before a GET on a directory
object path runs (`prepare`) and fills the relationship into the reply's objects after it
(`apply`); route modules register how each relationship is read (`resolver`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from reconciler.emulator import csdl, odata
from reconciler.emulator.wire import GraphError, Request, Response, bad_request

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

# (em, ids) -> {id: an object, a list of objects, or None}; objects carry "@odata.type".
Resolver = Callable[["Emulator", list[str]], dict[str, Any]]
_RESOLVERS: dict[tuple[str, str], Resolver] = {}
_DIRECTORY_SERVED = {"appRoleAssignments", "appRoleAssignedTo", "extensions"}
_LARGER = {"registeredDevices"}  # "returns up to 100 objects" (known issues)
_OPTION = re.compile(r"^\s*(\$?\w+)\s*=\s*(.*)$", re.S)
TOO_MANY = "The result of parsing $expand contained at least 2 items, but the maximum allowed is 1."


def resolver(type_name: str, navigation: str) -> Callable[[Resolver], Resolver]:
    """Register how `navigation` of `type_name` (and of types deriving from it) is read."""
    def register(function: Resolver) -> Resolver:
        _RESOLVERS[(csdl.full_name(type_name), navigation)] = function
        return function

    return register


@dataclass
class Expansion:
    navigation: str
    target: str  # the navigation's declared type (full name)
    collection: bool
    select: list[str] | None = None
    predicate: odata.Predicate | None = None
    levels: int = 1


def split_top_level(text: str, separator: str) -> list[str]:
    """`a($select=x,y),b` split on the commas outside parentheses."""
    out, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == separator and depth == 0:
            out.append(text[start:index])
            start = index + 1
    out.append(text[start:])
    return [part.strip() for part in out if part.strip()]


def _not_found(name: str, type_name: str) -> GraphError:
    return bad_request(f"Parsing OData Select and Expand failed: Could not find a property "
                       f"named '{name}' on type '{type_name}'.")


def directory_type(type_name: str | None) -> bool:
    return bool(type_name) and csdl.model().is_a(type_name or "", "directoryObject")


def expandable(type_name: str, navigation: str, entity_set: str = "") -> bool:
    """Whether the directory serves `$expand` of this relationship: not ruled out by the
    CSDL's ExpandRestrictions (on the type, a base type or the entity set), and one the
    directory keeps (see module docstring)."""
    model = csdl.model()
    nav = model.navigations(type_name).get(navigation)
    if nav is None or f"{entity_set}/{navigation}" in model.not_expandable or any(
            f"{kind.name}/{navigation}" in model.not_expandable
            for kind in model.chain(type_name)):
        return False
    return navigation in _DIRECTORY_SERVED or directory_type(nav.type)


def parse(request: Request, type_name: str, single: bool,
          entity_set: str = "") -> Expansion | None:
    """The request's `$expand` on a path of `type_name`, checked; None without one."""
    text = request.query.get("$expand", "")
    if not text:
        return None
    items = split_top_level(text, ",")
    if len(items) > 1:
        raise bad_request(TOO_MANY, "BadRequest")
    name, _, rest = items[0].partition("(")
    name = name.strip()
    type_name = csdl.full_name(type_name)
    model = csdl.model()
    nav = model.navigations(type_name).get(name)
    if nav is None:
        if name in model.properties(type_name):
            raise bad_request(f"Property '{name}' on type '{type_name}' is not a navigation "
                              "property or complex property. Only navigation properties can "
                              "be expanded.")
        raise _not_found(name, type_name)
    if not expandable(type_name, name, entity_set):
        raise GraphError(400, "ExpandNotSupported", f"Expand is not allowed for property "
                         f"'{name[:1].upper()}{name[1:]}' according to the entity schema.")
    expansion = Expansion(name, nav.type, nav.collection)
    if rest:
        if not rest.rstrip().endswith(")"):
            raise bad_request(f"Parsing OData Select and Expand failed: ')' expected in "
                              f"'{items[0]}'.")
        _options(expansion, rest.rstrip()[:-1], single)
    return expansion


def _options(expansion: Expansion, text: str, single: bool) -> None:
    """Nested options of one expanded relationship: `$select`, `$filter`, `$levels`."""
    for part in split_top_level(text, ";"):
        found = _OPTION.match(part)
        if not found:
            raise bad_request(f"Parsing OData Select and Expand failed: '{part}' is not a "
                              "query option.")
        option, value = found.group(1).lower().lstrip("$"), found.group(2).strip()
        if option == "select":
            expansion.select = [f.strip() for f in value.split(",") if f.strip()]
            short = expansion.target.removeprefix("microsoft.graph.")
            odata.select({}, expansion.select, None, _selectable(expansion.target), short)
        elif option == "filter":
            expansion.predicate = odata.parse_filter(value).predicate
        elif option == "levels" and expansion.navigation == "manager":
            if not single:
                raise odata.unsupported("$levels is only supported on a single user "
                                        "(/users/{id}), not on a list of users.")
            if value.lower() != "max" and not (value.isdigit() and 1 <= int(value) <= 1000):
                raise bad_request(f"Invalid value '{value}' for $levels: use a number "
                                  "between 1 and 1000, or max.")
            expansion.levels = 1000 if value.lower() == "max" else int(value)
        elif option == "expand":
            raise odata.unsupported("Only one level of $expand is supported on directory "
                                    "objects.")
        else:
            raise odata.unsupported(f"The query option '${option}' is not supported inside "
                                    "$expand on directory objects.")


@cache
def _selectable(type_name: str) -> frozenset[str]:
    """What a nested `$select` may name: the properties of the type or of a type deriving
    from it (a manager, declared a directoryObject, is a user)."""
    model = csdl.model()
    out: set[str] = set()
    for name in model.types:
        if model.is_a(name, type_name):
            out |= set(model.properties(name)) | set(model.navigations(name))
    return frozenset(out)


def prepare(request: Request) -> Expansion | None:
    """Check a GET's `$expand` on a directory-object path before its route runs."""
    path_type = getattr(request, "path_type", None)
    if request.method != "GET" or not directory_type(path_type) or \
            getattr(request, "count_segment", False):
        return None
    entity_set = request.path.removeprefix("/v1.0/").split("/")[0]
    return parse(request, path_type, not getattr(request, "path_collection", True), entity_set)


def apply(em: Emulator, request: Request, expansion: Expansion, response: Response) -> Response:
    """Fill the expanded relationship into each object of a JSON reply."""
    if response.status != 200 or not response.headers.get(
            "content-type", "").startswith("application/json"):
        return response
    body = response.json()
    if not isinstance(body, dict):
        return response
    objects = body["value"] if isinstance(body.get("value"), list) else [body]
    declared = csdl.full_name(getattr(request, "path_type", "") or "")
    _fill(em, expansion, [o for o in objects if isinstance(o, dict) and o.get("id")], declared)
    return Response.of_json(response.status, body, {
        k: v for k, v in response.headers.items() if k.lower() != "content-type"})


def _resolver(type_name: str, navigation: str) -> Resolver | None:
    for kind in csdl.model().chain(type_name):
        found = _RESOLVERS.get((kind.name, navigation))
        if found is not None:
            return found
    return None


def _fill(em: Emulator, expansion: Expansion, objects: list[dict[str, Any]],
          declared: str, levels: int | None = None) -> None:
    """Set `expansion.navigation` on each object (grouped by its own type)."""
    levels = expansion.levels if levels is None else levels
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        kind = csdl.full_name(obj.get("@odata.type") or declared)
        if csdl.model().navigations(kind).get(expansion.navigation) is not None:
            by_type.setdefault(kind, []).append(obj)
    cap = em.limits.expand_page_max if expansion.navigation in _LARGER \
        else em.limits.expand_items_max
    for kind, group in by_type.items():
        read = _resolver(kind, expansion.navigation)
        found = read(em, [o["id"] for o in group]) if read else {}
        for obj in group:
            value = found.get(obj["id"])
            if expansion.collection:
                items = [i for i in (value or []) if expansion.predicate is None
                         or expansion.predicate(i)]
                obj[expansion.navigation] = [_project(i, expansion) for i in items[:cap]]
            elif value is not None and (expansion.predicate is None or
                                        expansion.predicate(value)):
                single = _project(value, expansion)
                if levels > 1:
                    _fill(em, expansion, [single], expansion.target, levels - 1)
                obj[expansion.navigation] = single
            else:
                obj.pop(expansion.navigation, None)  # Graph leaves an absent one out


def _project(obj: dict[str, Any], expansion: Expansion) -> dict[str, Any]:
    clean = {k: v for k, v in obj.items() if not k.startswith("@") or k == "@odata.type"}
    if expansion.select is None:
        return json.loads(json.dumps(clean))
    return odata.select(clean, expansion.select, None)
