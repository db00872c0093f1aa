"""Comparing the emulator's reply with a documented response, value by value.

A documented response is a subset of Graph's (the docs truncate), so every key it shows must
be in the reply, and every item of a list it shows must be matched by an item of the reply.
Values are compared where the example determines them:
- `@odata.type`, `@odata.count`, booleans and numbers, and enum members: equal;
- null: null (absent only where Graph documents that it omits the property);
- strings: equal in a read (the harness arranged the objects the response shows), and in a
  write where the request sent the value (an echo) or the property is an enum;
- the order of a list's documented items, when the request sorts it ($orderby);
- ids, timestamps, the docs' stand-ins (`city-value`, `guid`), continuation links and
  values a write generates (not sent, not an enum): by type and format only.
The property's type comes from the CSDL, following @odata.type where the doc names one. A
documented key the v1.0 schema does not declare on the type (a misspelling such as `Type`,
or a beta-era property) cannot be in a v1.0 reply and is not compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.emulator import csdl
from tests.conformance_arrange import doc_placeholder
from tests.conformance_examples import UUID

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_FORMAT_ONLY_TYPES = {"Edm.DateTimeOffset", "Edm.Date", "Edm.TimeOfDay", "Edm.Duration"}
LINKS = ("@odata.nextLink", "@odata.deltaLink")


@dataclass
class Context:
    """What the comparison knows about the exchange."""

    read: bool
    sent: set[tuple[str, str]] = field(default_factory=set)  # (key, string) the request
    # carried: a reply's value is an echo when the same key holds the same string
    sent_keys: set[str] = field(default_factory=set)  # keys sent with a real value (not a
    # doc stand-in): the reply's value for them is the request's, or what Graph made of it
    skip: set[str] = field(default_factory=set)  # keys named as doc abbreviations
    item_type: str | None = None  # the type of a listed reply's items
    ordered: bool = False  # the request sorts the list ($orderby): documented order holds


def sent_strings(value: Any, key: str = "") -> set[tuple[str, str]]:
    """(key, string) for every string in `value`, keyed by the property holding it."""
    if isinstance(value, str):
        return {(key, value)}
    out: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        for name, item in value.items():
            out |= sent_strings(item, name)
    if isinstance(value, list):
        for item in value:
            out |= sent_strings(item, key)
    return out


def compare(doc: Any, ours: Any, type_name: str | None, context: Context,
            where: str = "body") -> list[str]:
    """Where `ours` departs from `doc` (empty when it conforms)."""
    if isinstance(doc, dict):
        if not isinstance(ours, dict):
            return [f"{where}: expected an object, got {ours!r}"]
        return _object(doc, ours, type_name, context, where)
    if isinstance(doc, list):
        if not isinstance(ours, list):
            return [f"{where}: expected a list, got {ours!r}"]
        return _list(doc, ours, type_name, context, where)
    return _scalar(doc, ours, None, context, where)


def _object(doc: dict, ours: dict, type_name: str | None, context: Context,
            where: str) -> list[str]:
    if doc.get("@odata.type"):
        type_name = csdl.full_name(doc["@odata.type"])
    elif isinstance(ours.get("@odata.type"), str):  # the reply says which derived type
        type_name = csdl.full_name(ours["@odata.type"])
    props = csdl.model().properties(type_name) if type_name else {}
    navs = csdl.model().navigations(type_name) if type_name else {}
    problems: list[str] = []
    for key, value in doc.items():
        here = f"{where}.{key}"
        if key in context.skip or key in ("@odata.context", "@odata.etag", "@odata.id"):
            continue
        if key in LINKS:
            if not any(link in ours for link in LINKS):
                problems.append(f"{here}: no continuation link")
            continue
        declared = props.get(key) or navs.get(key.removesuffix("@delta"))
        if declared is None and props and "@" not in key and not _open(type_name):
            continue  # the v1.0 schema has no such property: the doc's, not Graph's
        if key not in ours:
            problems.append(f"{here}: missing")
            continue
        if key == "@odata.type":
            if csdl.full_name(str(value)) != csdl.full_name(str(ours[key])):
                problems.append(f"{here}: {ours[key]!r}, documented {value!r}")
            continue
        inner = declared.type if declared and declared.type in csdl.model().types else None
        if key == "value" and where == "body" and context.item_type:
            inner = context.item_type
        if isinstance(value, dict | list):
            problems += compare(value, ours[key], inner, context, here)
        else:
            problems += _scalar(value, ours[key], declared, context, here)
    return problems


def _open(type_name: str | None) -> bool:
    """An open type takes properties the schema does not declare (a directory object only
    directory extensions, `extension_...`, which the docs do not show)."""
    model = csdl.model()
    return bool(type_name) and any(t.open for t in model.chain(type_name or "")) and \
        not model.is_a(type_name or "", "directoryObject")


def _list(doc: list, ours: list, type_name: str | None, context: Context,
          where: str) -> list[str]:
    """Every documented item is matched by a distinct item of ours."""
    if all(not isinstance(d, dict | list) for d in doc):  # a list of scalars
        if any(doc_placeholder(d) for d in doc):
            return []  # the doc's stand-ins: the list's type is all it determines
        key = re.sub(r"\[\d+\]$", "", where).rsplit(".", 1)[-1]
        if context.read or {(key, d) for d in doc} <= context.sent:
            return [] if _same_scalars(doc, ours) else [f"{where}: {ours!r}, "
                                                        f"documented {doc!r}"]
        return [] if all(isinstance(o, type(d)) for d, o in zip(doc, ours, strict=False)) \
            else [f"{where}: {ours!r}"]
    if len(ours) < len(doc):
        return [f"{where}: {len(ours)} items, documented {len(doc)}"]
    problems: list[str] = []
    unused = list(range(len(ours)))
    matched: list[int] = []
    for index, item in enumerate(doc):
        best: list[str] | None = None
        for candidate in _candidates(item, ours, unused):
            found = compare(item, ours[candidate], type_name, context, f"{where}[{index}]")
            if not found:
                unused.remove(candidate)
                matched.append(candidate)
                best = []
                break
            if best is None or len(found) < len(best):
                best = found
        problems += best or []
    if context.ordered and where == "body.value" and matched != sorted(matched):
        problems.append(f"{where}: the documented items come in another order ($orderby)")
    return problems


def _candidates(item: Any, ours: list, unused: list[int]) -> list[int]:
    """Unused items of ours, the one with the documented id first."""
    same = [i for i in unused if isinstance(item, dict) and isinstance(ours[i], dict)
            and item.get("id") and ours[i].get("id") == item.get("id")]
    return same or unused  # an item with the documented id is the one to judge


def _same_scalars(doc: list, ours: list) -> bool:
    def norm(v: Any) -> Any:
        return v.lower() if isinstance(v, str) and UUID.match(v) else v
    return sorted(map(str, map(norm, doc))) == sorted(map(str, map(norm, ours)))


def _scalar(doc: Any, ours: Any, prop: csdl.Property | None, context: Context,
            where: str) -> list[str]:
    def differs() -> list[str]:
        return [f"{where}: {ours!r}, documented {doc!r}"]

    key = re.sub(r"\[\d+\]$", "", where).rsplit(".", 1)[-1]
    if doc is None:
        return [] if ours is None else differs()
    if isinstance(doc, bool):
        return [] if ours is doc else differs()
    if isinstance(doc, int | float):
        if key == "@odata.count" or context.read:
            return [] if ours == doc and not isinstance(ours, bool) else differs()
        return [] if isinstance(ours, int | float) and not isinstance(ours, bool) else differs()
    kind = prop.type if prop else None
    enum = kind in csdl.model().enums if kind else False
    determined = context.read or enum or (key, doc) in context.sent or key in context.sent_keys
    if ours is None and not determined:
        return []  # a write's reply: Graph returns null for what it holds no value for
    if not isinstance(ours, str):
        return differs()
    if doc_placeholder(doc):
        return []
    if key == "id" or (kind == "Edm.Guid" and not determined):
        return [] if not UUID.match(doc) or UUID.match(ours) else \
            [f"{where}: {ours!r} is not a GUID"]
    if kind in _FORMAT_ONLY_TYPES or (_DATE_TIME.match(doc) and kind in (None, "Edm.String")):
        return [] if _DATE_TIME.match(ours) or _TIME.match(ours) or kind == "Edm.Duration" \
            else \
            [f"{where}: {ours!r} is not a date/time"]
    if doc.startswith(("http://", "https://")) and not context.read:
        return []  # a link a write makes (an invitation's redeem URL)
    if enum:  # members are case-insensitive; older docs capitalise them
        return [] if ours.lower() == doc.lower() else differs()
    if determined:
        if kind == "Edm.Guid" or UUID.match(doc):
            return [] if ours.lower() == doc.lower() else differs()
        return [] if ours == doc else differs()
    return []
