"""Request bodies checked against the CSDL before any write route runs.

`Emulator.dispatch` calls `check` for every POST to a collection and every PATCH or PUT of an
entity or complex value the CSDL types (paths.py names the type): users, groups, invitations,
authentication methods, open extensions, app role assignments, role assignments, calendars,
calendar permissions, policies... and for every POST of an action bound to the addressed
type (`assignLicense`, `restore`), whose body holds only the parameters the CSDL declares for
it ("The parameter 'x' in the request payload is not a valid parameter for the operation
'assignLicense'."), each of its declared type. Bodies of `$ref` and `$value` are the routes'.
What Graph answers, with its codes and messages:
- a property the type does not declare: 400 "Property 'x' does not exist as a declared
  property or extension property." (`Request_BadRequest`). Open types (openTypeExtension)
  take any property; directory objects take directory extensions (`extension_{app}_{name}`);
  instance annotations (`@odata.type`, `members@odata.bind`, `@odata.id`) are allowed, a
  property annotation naming an undeclared property is not;
- an `@odata.type` that is no type of the model, or not one deriving from the declared type:
  400 "A type named 'x' could not be resolved by the model..." / "...is not compatible...";
- a value of another JSON kind than the declared one: 400 "Cannot convert a primitive value
  to the expected type 'Edm.Boolean'. See the inner exception for more details.", or, for a
  complex value or collection, ODL's "A node of type 'PrimitiveValue' was read ... however, a
  'StartObject' node was expected.";
- an enum value that is not a member: 400 "Requested value 'x' was not found.";
- a property the CSDL annotates Core.Computed, or Core.Immutable in an update: 400
  "Property 'x' is read-only and cannot be set.";
Routes keep the rules the CSDL cannot express (users' read-only and writable properties from
"Update user", required properties, uniqueness, password complexity). `mailboxSettings` is
checked by its own route, which reads Outlook's enums case-insensitively first.
Outlook-backed paths answer with Outlook's code (`ErrorInvalidRequest`), others with the
directory's (`Request_BadRequest`).
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.emulator import csdl
from reconciler.emulator.wire import Request, bad_request

_LEFT_TO_ROUTES = {"microsoft.graph.mailboxSettings"}
_DIRECTORY_EXTENSION = re.compile(r"^extension_[0-9a-fA-F]{32}_\w+$")
_OUTLOOK = re.compile(r"^/v1\.0/users/[^/]+/(calendar|calendars|events|messages|mailFolders|"
                      r"contacts)(/|$)", re.I)
_PRIMITIVE_JSON = {
    "Edm.String": (str,), "Edm.Boolean": (bool,), "Edm.Guid": (str,),
    "Edm.DateTimeOffset": (str,), "Edm.Date": (str,), "Edm.TimeOfDay": (str,),
    "Edm.Duration": (str,), "Edm.Binary": (str,), "Edm.Stream": (str,),
    "Edm.Int16": (int,), "Edm.Int32": (int,), "Edm.Int64": (int,), "Edm.Byte": (int,),
    "Edm.Double": (int, float), "Edm.Single": (int, float), "Edm.Decimal": (int, float),
}


def body_type(request: Request) -> str | None:
    """The CSDL type a write's body must be, or None when the route owns its body."""
    type_name = getattr(request, "path_type", None)
    if not type_name or type_name not in csdl.model().types:
        return None
    collection = getattr(request, "path_collection", True)
    if request.method == "POST" and collection:
        return type_name
    if request.method in ("PATCH", "PUT") and not collection:
        return type_name
    return None


def check(request: Request) -> None:
    """Raise Graph's 400 when the body of a typed write or of a bound action departs from
    the CSDL."""
    action = getattr(request, "action", None)
    type_name = body_type(request)
    if (type_name is None or type_name in _LEFT_TO_ROUTES) and action is None or \
            not request.body or request.method != "POST" and action is not None:
        return
    body = request.json()
    code = "ErrorInvalidRequest" if _OUTLOOK.match(request.path) else "Request_BadRequest"
    if not isinstance(body, dict):
        raise bad_request("A node of type 'StartArray' was read from the JSON reader when "
                          "trying to read the start of an entry; however, a 'StartObject' node "
                          "was expected.", code)
    message = parameters_problem(body, *action) if action else \
        problem(body, type_name or "", request.method in ("PATCH", "PUT"))
    if message:
        raise bad_request(message, code)


def parameters_problem(body: dict[str, Any], action: str,
                       parameters: dict[str, csdl.Property]) -> str | None:
    """An action's body: only its declared parameters, each of its declared type."""
    for name, value in body.items():
        if name.startswith("@"):
            continue
        parameter = parameters.get(name)
        if parameter is None:
            return (f"The parameter '{name}' in the request payload is not a valid parameter "
                    f"for the operation '{action}'.")
        found = _value_problem(value, parameter)
        if found:
            return found
    return None


def problem(value: dict[str, Any], type_name: str, update: bool = False) -> str | None:
    """The first way `value` (an entity or complex value in a request; `update` for a PATCH
    or PUT) departs from the CSDL's `type_name`, as Graph words it; None when it conforms."""
    model = csdl.model()
    declared = value.get("@odata.type")
    if isinstance(declared, str) and declared:
        actual = csdl.full_name(declared)
        if actual not in model.types:
            return (f"A type named '{declared.removeprefix('#')}' could not be resolved by the "
                    "model. When a model is available, each type name must resolve to a valid "
                    "type.")
        if not model.is_a(actual, type_name):
            return (f"The type '{actual}' is not compatible with the expected type "
                    f"'{type_name}'.")
        type_name = actual
    kind = model.type(type_name)
    open_type = kind is None or any(t.open for t in model.chain(type_name))
    directory = model.is_a(type_name, "directoryObject")
    if kind is not None and kind.abstract and not declared:
        open_type = True  # the concrete type is unknown: only declared values are checked
    props, navs = model.properties(type_name), model.navigations(type_name)
    for key, item in value.items():
        name = key.split("@", 1)[0]
        if not name:
            continue  # an instance annotation (@odata.type, @odata.id, ...)
        prop = props.get(name)
        if prop is None and name not in navs:
            if directory and _DIRECTORY_EXTENSION.match(name):
                continue
            if not open_type or "@" in key:
                return (f"Property '{name}' does not exist as a declared property or "
                        "extension property.")
            continue
        if prop is not None and model.read_only(type_name, name, update):
            return f"Property '{name}' is read-only and cannot be set."
        if prop is not None and "@" not in key:
            found = _value_problem(item, prop, update)
            if found:
                return found
    return None


def _value_problem(item: Any, prop: csdl.Property, update: bool = False) -> str | None:
    if item is None:
        return None
    if prop.collection:
        if not isinstance(item, list):
            return _node(item, prop.name, "StartArray")
        for element in item:
            found = _element_problem(element, prop, update)
            if found:
                return found
        return None
    return _element_problem(item, prop, update)


def _element_problem(item: Any, prop: csdl.Property, update: bool) -> str | None:
    if item is None:
        return None
    model = csdl.model()
    if prop.type in _PRIMITIVE_JSON or prop.type == "Edm.Untyped":
        allowed = _PRIMITIVE_JSON.get(prop.type)
        if allowed is None:
            return None
        if isinstance(item, bool) and bool not in allowed or not isinstance(item, allowed):
            return (f"Cannot convert a primitive value to the expected type '{prop.type}'. "
                    "See the inner exception for more details.")
        if not csdl.scalar_conforms(item, prop.type):
            return (f"Cannot convert a primitive value to the expected type '{prop.type}'. "
                    "See the inner exception for more details.")
        return None
    if prop.type in model.enums:
        if not isinstance(item, str):
            return (f"Cannot convert a primitive value to the expected type '{prop.type}'. "
                    "See the inner exception for more details.")
        members = model.enums[prop.type]
        bad = [p.strip() for p in item.split(",") if p.strip() not in members]
        return f"Requested value '{bad[0]}' was not found." if bad else None
    if not isinstance(item, dict):
        return _node(item, prop.name, "StartObject")
    return problem(item, prop.type, update)


def _node(item: Any, name: str, expected: str) -> str:
    found = "StartArray" if isinstance(item, list) else "StartObject" \
        if isinstance(item, dict) else "PrimitiveValue"
    return (f"A node of type '{found}' was read from the JSON reader when trying to read the "
            f"contents of the property '{name}'; however, a '{expected}' node was expected.")
