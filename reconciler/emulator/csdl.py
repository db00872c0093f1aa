"""Graph's data model, read from Microsoft's own CSDL (metadata/v1.0.csdl, MIT licensed).

Entity and complex types with their base types, properties (type, nullability), navigation
properties (single or collection), enum members, and which functions bind to which types.
The emulator's casts, bound-function forms and the conformance tests' type checks come from
here, never from the product's own tables.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

CSDL = Path(__file__).with_name("metadata") / "v1.0.csdl"
_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
NAMESPACE = "microsoft.graph"
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DURATION = re.compile(r"^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


@dataclass
class Property:
    name: str
    type: str  # full name, e.g. "Edm.String", "microsoft.graph.assignedLicense"
    collection: bool
    nullable: bool


@dataclass
class StructuredType:
    name: str  # full name
    base: str | None
    abstract: bool
    open: bool
    entity: bool
    properties: dict[str, Property] = field(default_factory=dict)
    navigations: dict[str, Property] = field(default_factory=dict)


@dataclass
class Model:
    types: dict[str, StructuredType]
    enums: dict[str, list[str]]
    functions: dict[str, list[tuple[str, bool]]]  # binding type full name -> (name, on coll.)
    entity_sets: dict[str, str]  # /users -> microsoft.graph.user
    singletons: set[str] = field(default_factory=set)  # /directory, /roleManagement, /me
    # Capabilities.ExpandRestrictions: "type/navigation" (or "set/navigation" for an entity
    # set's NonExpandableProperties) that may not be expanded
    not_expandable: set[str] = field(default_factory=set)
    # Core.Computed ("type/property": never written by a client) and Core.Immutable (set when
    # created, never updated)
    computed: set[str] = field(default_factory=set)
    immutable: set[str] = field(default_factory=set)
    # bound actions: (binding type full name, on a collection) -> {name: {parameter: Property}}
    actions: dict[tuple[str, bool], dict[str, dict[str, Property]]] = field(
        default_factory=dict)

    # types ------------------------------------------------------------------------------
    def type(self, name: str) -> StructuredType | None:
        return self.types.get(full_name(name))

    def chain(self, name: str) -> list[StructuredType]:
        """The type and its base types, most derived first."""
        out = []
        current = self.type(name)
        while current is not None:
            out.append(current)
            current = self.type(current.base) if current.base else None
        return out

    def properties(self, name: str) -> dict[str, Property]:
        out: dict[str, Property] = {}
        for kind in reversed(self.chain(name)):
            out.update(kind.properties)
        return out

    def navigations(self, name: str) -> dict[str, Property]:
        out: dict[str, Property] = {}
        for kind in reversed(self.chain(name)):
            out.update(kind.navigations)
        return out

    def is_a(self, name: str, ancestor: str) -> bool:
        return any(t.name == full_name(ancestor) for t in self.chain(name))

    def cast(self, declared: str, segment: str) -> str | None:
        """The type a path segment casts a collection of `declared` to, or None when the
        segment is not a cast (or names a type that does not derive from `declared`)."""
        target = cast_name(segment)
        if target is None or target not in self.types:
            return None
        return target if self.is_a(target, declared) else None

    def read_only(self, name: str, prop: str, update: bool) -> bool:
        """Whether the CSDL says `prop` of `name` (or of a base type) cannot be written: it is
        Core.Computed, or Core.Immutable and this is an update."""
        targets = {f"{kind.name}/{prop}" for kind in self.chain(name)}
        return bool(targets & self.computed) or update and bool(targets & self.immutable)

    def action(self, name: str, collection: bool, action: str) -> dict[str, Property] | None:
        """The parameters (binding parameter left out) of `action` bound to `name` or a base
        type, or None when no such action binds there."""
        for kind in self.chain(name):
            found = self.actions.get((kind.name, collection), {}).get(action)
            if found is not None:
                return found
        return None

    def functions_bound_to(self, name: str, collection: bool) -> set[str]:
        """Names of functions bound to `name` (or its bases), on the collection or entity."""
        out = set()
        for kind in self.chain(name):
            out |= {f for f, on_collection in self.functions.get(kind.name, [])
                    if on_collection == collection}
        return out


def full_name(name: str) -> str:
    """`graph.user`, `microsoft.graph.user` and `user` all name `microsoft.graph.user`."""
    name = name.removeprefix("#")
    if name.startswith("graph."):
        return NAMESPACE + name[len("graph"):]
    if "." not in name:
        return f"{NAMESPACE}.{name}"
    return name


def cast_name(segment: str) -> str | None:
    """The type a `microsoft.graph.x` / `graph.x` path segment names, else None."""
    if segment.startswith(("microsoft.graph.", "graph.")):
        return full_name(segment)
    return None


def function_segment(segment: str) -> str | None:
    """`delta`, `delta()` and `microsoft.graph.delta` (or `graph.delta()`) -> `delta`."""
    bare = segment[:-2] if segment.endswith("()") else segment
    for prefix in ("microsoft.graph.", "graph."):
        if bare.startswith(prefix):
            return bare[len(prefix):]
    return bare


def _type_of(text: str) -> tuple[str, bool]:
    collection = text.startswith("Collection(")
    inner = text[len("Collection("):-1] if collection else text
    return (inner if inner.startswith("Edm.") else full_name(inner)), collection


@cache
def model() -> Model:
    """The parsed CSDL (read once per process)."""
    root = ET.parse(CSDL).getroot()
    types: dict[str, StructuredType] = {}
    enums: dict[str, list[str]] = {}
    functions: dict[str, list[tuple[str, bool]]] = {}
    entity_sets: dict[str, str] = {}
    singletons: set[str] = set()
    not_expandable: set[str] = set()
    actions: dict[tuple[str, bool], dict[str, dict[str, Property]]] = {}
    computed: set[str] = set()
    immutable: set[str] = set()
    for schema in root.iter(f"{_EDM}Schema"):
        namespace = schema.get("Namespace", "")
        alias = schema.get("Alias")

        def qualified(name: str, ns: str = namespace, al: str | None = alias) -> str:
            if al and name.startswith(al + "."):
                return ns + name[len(al):]
            return full_name(name)

        for element in schema:
            tag = element.tag.removeprefix(_EDM)
            name = f"{namespace}.{element.get('Name')}"
            if tag in ("EntityType", "ComplexType"):
                types[name] = _structured_type(element, name, qualified)
            elif tag == "EnumType":
                enums[name] = [m.get("Name", "") for m in element.iter(f"{_EDM}Member")]
            elif tag == "Function" and element.get("IsBound") == "true":
                first = next(element.iter(f"{_EDM}Parameter"), None)
                if first is not None:
                    bound, collection = _type_of(first.get("Type", ""))
                    functions.setdefault(qualified(bound), []).append(
                        (element.get("Name", ""), collection))
            elif tag == "Action" and element.get("IsBound") == "true":
                _bound_action(element, qualified, actions)
            elif tag == "Annotations":
                not_expandable |= _expand_restrictions(element, qualified)
                _write_restrictions(element, qualified, computed, immutable)
            elif tag == "EntityContainer":
                for child in element:
                    if child.tag.removeprefix(_EDM) in ("EntitySet", "Singleton"):
                        entity_sets[child.get("Name", "")] = qualified(
                            child.get("EntityType") or child.get("Type") or "")
                    if child.tag.removeprefix(_EDM) == "Singleton":
                        singletons.add(child.get("Name", ""))
    return Model(types, enums, functions, entity_sets, singletons, not_expandable, computed,
                 immutable, actions)


def _structured_type(element: ET.Element, name: str, qualified: Any) -> StructuredType:
    """An `<EntityType>` or `<ComplexType>` with its properties and navigations."""
    base = element.get("BaseType")
    kind = StructuredType(name, qualified(base) if base else None,
                          element.get("Abstract") == "true", element.get("OpenType") == "true",
                          element.tag.removeprefix(_EDM) == "EntityType")
    for child in element:
        child_tag = child.tag.removeprefix(_EDM)
        if child_tag not in ("Property", "NavigationProperty"):
            continue
        type_text, collection = _type_of(child.get("Type", ""))
        if not type_text.startswith("Edm."):
            type_text = qualified(type_text)
        prop = Property(child.get("Name", ""), type_text, collection,
                        child.get("Nullable") != "false")
        target = kind.properties if child_tag == "Property" else kind.navigations
        target[prop.name] = prop
    return kind


def _write_restrictions(element: ET.Element, qualified: Any, computed: set[str],
                        immutable: set[str]) -> None:
    """Record an `<Annotations Target="type/property">` element's Core.Computed and
    Core.Immutable terms."""
    kind, _, prop = element.get("Target", "").rpartition("/")
    if not kind or not prop:
        return
    for annotation in element.iter(f"{_EDM}Annotation"):
        if annotation.get("Bool") != "true":
            continue
        if annotation.get("Term") == "Org.OData.Core.V1.Computed":
            computed.add(f"{qualified(kind)}/{prop}")
        elif annotation.get("Term") == "Org.OData.Core.V1.Immutable":
            immutable.add(f"{qualified(kind)}/{prop}")


def _bound_action(element: ET.Element, qualified: Any,
                  actions: dict[tuple[str, bool], dict[str, dict[str, Property]]]) -> None:
    """Record a bound `<Action>`'s parameters under its binding type."""
    parameters = [(p.get("Name", ""), *_type_of(p.get("Type", "")),
                   p.get("Nullable") != "false") for p in element.iter(f"{_EDM}Parameter")]
    if not parameters:
        return
    (_, bound, on_collection, _), rest = parameters[0], parameters[1:]
    actions.setdefault((qualified(bound), on_collection), {})[element.get("Name", "")] = {
        n: Property(n, t if t.startswith("Edm.") else qualified(t), c, null)
        for n, t, c, null in rest}


def _expand_restrictions(element: ET.Element, qualified: Any) -> set[str]:
    """The navigations an `<Annotations>` element's ExpandRestrictions rule out."""
    target = element.get("Target", "")
    out: set[str] = set()
    for annotation in element.iter(f"{_EDM}Annotation"):
        if annotation.get("Term") != "Org.OData.Capabilities.V1.ExpandRestrictions":
            continue
        for value in annotation.iter(f"{_EDM}PropertyValue"):
            if value.get("Property") == "Expandable" and value.get("Bool") == "false" \
                    and "/" in target:
                kind, _, nav = target.rpartition("/")
                out.add(f"{qualified(kind)}/{nav}")
            if value.get("Property") == "NonExpandableProperties":
                entity_set = target.rpartition("/")[2]
                out |= {f"{entity_set}/{path.text}" for path in
                        value.iter(f"{_EDM}NavigationPropertyPath") if path.text}
    return out


# validation ----------------------------------------------------------------------------------
def problems(value: Any, type_name: str, where: str = "body") -> list[str]:
    """Where `value` (an entity or complex value as Graph serialises it) departs from the
    CSDL: a property the type does not declare, a value of another type, a null where the
    property is not nullable, an enum value that is not a member."""
    the_model = model()
    declared = value.get("@odata.type") if isinstance(value, dict) else None
    if declared:
        actual = full_name(declared)
        if actual not in the_model.types:
            return [f"{where}: unknown @odata.type {declared}"]
        if not the_model.is_a(actual, type_name):
            return [f"{where}: {declared} is not a {type_name}"]
        type_name = actual
    kind = the_model.type(type_name)
    if kind is None:
        return [f"{where}: unknown type {type_name}"]
    if not isinstance(value, dict):
        return [f"{where}: expected an object of {type_name}"]
    props = the_model.properties(type_name)
    navs = the_model.navigations(type_name)
    out: list[str] = []
    for key, item in value.items():
        if key.startswith("@") or "@odata." in key:
            continue
        if key.endswith("@delta"):
            key = key[:-len("@delta")]
            if key not in navs and key not in props:
                out.append(f"{where}.{key}@delta: not a property of {type_name}")
            continue
        prop = props.get(key) or navs.get(key)
        if prop is None:  # an open type (openTypeExtension) takes dynamic properties; a
            # directory object's openness is for directory extensions (extension_...) only
            open_type = any(t.open for t in the_model.chain(type_name))
            if the_model.is_a(type_name, "directoryObject"):
                open_type = open_type and key.startswith("extension_")
            if not open_type:
                out.append(f"{where}.{key}: {type_name} has no such property")
            continue
        out += _value_problems(item, prop, f"{where}.{key}")
    return out


def _value_problems(item: Any, prop: Property, where: str) -> list[str]:
    if item is None:
        # Graph serialises a declared collection as [] and a scalar it has no value for as
        # null; Nullable="false" scalars are nevertheless returned as null on some objects
        # (e.g. user.birthday without $select), so only collections are held to it.
        return [f"{where}: null for a collection"] if prop.collection else []
    if prop.collection:
        if not isinstance(item, list):
            return [f"{where}: expected a collection of {prop.type}"]
        out = []
        for index, element in enumerate(item):
            out += _scalar_problems(element, prop.type, f"{where}[{index}]")
        return out
    return _scalar_problems(item, prop.type, where)


def _scalar_problems(item: Any, type_name: str, where: str) -> list[str]:
    if item is None:
        return []
    the_model = model()
    checks = {
        "Edm.String": lambda v: isinstance(v, str),
        "Edm.Boolean": lambda v: isinstance(v, bool),
        "Edm.Int32": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Edm.Int64": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Edm.Int16": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Edm.Byte": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Edm.Double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Edm.Single": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Edm.Decimal": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Edm.Guid": lambda v: isinstance(v, str) and bool(_GUID.match(v)),
        "Edm.DateTimeOffset": lambda v: isinstance(v, str) and bool(_DATE_TIME.match(v)),
        "Edm.Date": lambda v: isinstance(v, str) and bool(_DATE.match(v)),
        "Edm.TimeOfDay": lambda v: isinstance(v, str) and bool(_TIME.match(v)),
        "Edm.Duration": lambda v: isinstance(v, str) and bool(_DURATION.match(v)),
        "Edm.Binary": lambda v: isinstance(v, str),
        "Edm.Stream": lambda v: isinstance(v, str),
        "Edm.Untyped": lambda v: True,
    }
    if type_name in checks:
        return [] if checks[type_name](item) else [f"{where}: {item!r} is not {type_name}"]
    if type_name in the_model.enums:
        members = the_model.enums[type_name]
        if not isinstance(item, str):
            return [f"{where}: {item!r} is not a member of {type_name}"]
        # flags enums serialise as comma-separated members
        bad = [part for part in item.split(",") if part.strip() not in members]
        return [f"{where}: {item!r} is not a member of {type_name}"] if bad else []
    if type_name in the_model.types:
        return problems(item, type_name, where)
    return [f"{where}: unknown type {type_name}"]


def scalar_conforms(item: Any, type_name: str) -> bool:
    """Whether a JSON string is in the lexical form of an Edm type (Guid, DateTimeOffset,
    Date, TimeOfDay, Duration); other types are judged by their JSON kind alone."""
    forms = {"Edm.Guid": _GUID, "Edm.DateTimeOffset": _DATE_TIME, "Edm.Date": _DATE,
             "Edm.TimeOfDay": _TIME, "Edm.Duration": _DURATION}
    form = forms.get(type_name)
    return form is None or not isinstance(item, str) or bool(form.match(item))


def enum_members(name: str) -> list[str]:
    return model().enums.get(full_name(name), [])


def canonical_enums(value: Any, type_name: str) -> Any:
    """`value` (a request body of `type_name`) with each enum member spelled as the CSDL
    spells it: Graph reads enum members in any case (its docs send `Monday`, `Scheduled`)
    and answers in the declared spelling. Values that match no member are left as sent."""
    the_model = model()
    if isinstance(value, list):
        return [canonical_enums(v, type_name) for v in value]
    if isinstance(value, str) and full_name(type_name) in the_model.enums:
        members = {m.lower(): m for m in the_model.enums[full_name(type_name)]}
        parts = [members.get(p.strip().lower(), p) for p in value.split(",")]
        return ",".join(parts)
    if not isinstance(value, dict) or the_model.type(type_name) is None:
        return value
    actual = full_name(value["@odata.type"]) if value.get("@odata.type") else type_name
    props = the_model.properties(actual if actual in the_model.types else type_name)
    return {k: canonical_enums(v, props[k].type) if k in props else v for k, v in value.items()}
