"""JSON Schema validation of desired-state files, with messages people can act on.

Two validators, one meaning. Every document is first checked by a compiled validator
(jsonschema-rs: Rust, Draft 2020-12 with `unevaluatedProperties`, which fastjsonschema does
not support); a valid document costs about 10 µs. Only a document it refuses is walked again
by jsonschema, whose error objects word the messages people read, so the messages are the
ones they always were, and jsonschema has the last word on whether a document is valid.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from reconciler.desired.dates import parse_date, parse_instant
from reconciler.desired.problems import Problem
from reconciler.desired.secrets import show
from reconciler.desired.yamlsource import KeyPath, SourceMap

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$)({_LABEL}\.)*{_LABEL}$")

_FORMATS = FormatChecker(formats=())
_FORMATS.checks("email")(lambda v: not isinstance(v, str) or bool(_EMAIL.match(v)))
_FORMATS.checks("uuid")(lambda v: not isinstance(v, str) or bool(_UUID.match(v)))
_FORMATS.checks("hostname")(lambda v: not isinstance(v, str) or bool(_HOSTNAME.match(v)))
_FORMATS.checks("date")(lambda v: not isinstance(v, str) or parse_date(v) is not None)
_FORMATS.checks("date-time")(lambda v: not isinstance(v, str) or parse_instant(v) is not None)

_FORMAT_HINTS = {
    "email": "an address such as name@contoso.com",
    "uuid": "an id such as 72f988bf-86f1-41af-91ab-2d7cd011db47",
    "hostname": "a domain name such as contoso.onmicrosoft.com",
    "date": "a date, YYYY-MM-DD",
    "date-time": "an instant with a time zone, e.g. 2027-03-31T17:00:00Z",
}
_TYPE_NAMES = {
    "string": "text", "integer": "a whole number", "number": "a number",
    "boolean": "true or false", "array": "a list", "object": "a mapping", "null": "null",
}
# Validators whose failure the schema's own `errorMessage` explains best.
_EXPLAINED = {"anyOf", "oneOf", "not", "format", "required"}


def schema_dir() -> Path:
    """The folder holding the JSON schemas (installed copy first, then the source tree)."""
    packaged = Path(__file__).resolve().parent.parent / "schemas"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "schemas"


# Properties declared in code (`Area.schema`) merged into a schema at load, by schema name.
_PARTS: dict[str, dict[str, Any]] = {}


def set_parts(name: str, parts: dict[str, Any]) -> None:
    """Top-level properties declared outside the schema file (an area's own part), merged
    into schema `name` from now on. A property the file already has is an error."""
    if _PARTS.get(name, {}) == parts:
        return
    _PARTS[name] = dict(parts)
    for cached in (load_schema, _compiled, _validator):
        cached.cache_clear()


@cache
def load_schema(name: str) -> dict[str, Any]:
    """`user` or `tenant` -> the parsed schema document (with the parts set in code)."""
    document = json.loads((schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))
    parts = _PARTS.get(name) or {}
    clash = sorted(set(parts) & set(document.get("properties", {})))
    if clash:
        raise ValueError(f"{name}.schema.json already describes {', '.join(clash)}")
    if parts:
        document["properties"] = {**document["properties"], **parts}
    return document


@cache
def _compiled(name: str) -> Any:
    """The schema compiled by jsonschema-rs with our own format checks, or None without it."""
    try:
        import jsonschema_rs
    except ImportError:  # a platform without its wheel: jsonschema alone, just slower
        return None
    formats = {fmt: _FORMATS.checkers[fmt][0] for fmt in _FORMAT_HINTS}
    # The same document jsonschema runs on: every reference inlined (tenant.yaml's defaults
    # name parts of the user schema), so nothing is ever looked up, let alone fetched.
    inlined = {k: v for k, v in inline_refs(load_schema(name)).items() if k != "$defs"}
    try:
        return jsonschema_rs.Draft202012Validator(
            inlined, formats=formats, validate_formats=True, offline=True
        )
    except Exception:  # a schema it cannot compile: jsonschema alone, just slower
        return None


def is_valid(name: str, data: Any) -> bool | None:
    """True when the compiled validator accepts `data`; None when it cannot say.

    It may be stricter than jsonschema in corners (Rust's `$` does not match before a final
    newline as Python's does), never more lenient: tests compare the two on mutated documents.
    """
    compiled = _compiled(name)
    if compiled is None:
        return None
    try:
        return bool(compiled.is_valid(data))
    except Exception:  # a value JSON cannot hold (NaN, a huge integer): let jsonschema judge
        return None


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(inline_refs(load_schema(name)), format_checker=_FORMATS)


_SIBLING = re.compile(r"^(\w+)\.schema\.json#/properties/(\w+)$")


def _sibling(ref: str) -> dict[str, Any] | None:
    """`user.schema.json#/properties/mailbox` (tenant.yaml's `defaults`): that property's
    schema from the other document, its own references inlined."""
    match = _SIBLING.match(ref)
    if match is None:
        return None
    return inline_refs(load_schema(match.group(1)))["properties"][match.group(2)]


def inline_refs(root: dict[str, Any]) -> dict[str, Any]:
    """The schema with each local `$ref` replaced by what it names, inside an `allOf`.

    Same meaning (2020-12 reads `$ref` beside other keywords as an allOf), but validating
    skips the reference machinery, which was most of the time on a 10,000-user tenant.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items() if k != "$ref"}
        ref = node.get("$ref")
        if isinstance(ref, str) and (ref.startswith("#/$defs/") or _SIBLING.match(ref)):
            target = _sibling(ref) or walk(root["$defs"][ref.split("/")[-1]])
            if len(out) == 0:
                return target
            out["allOf"] = [target, *out.get("allOf", [])]
        return out

    return {k: walk(v) if k != "$defs" else v for k, v in root.items()}


def validate_document(name: str, data: Any, source: SourceMap) -> list[Problem]:
    """Every schema violation of `data` against schema `name`, located in `source`."""
    if is_valid(name, data):
        return []
    problems: list[Problem] = []
    seen: set[Problem] = set()  # a set: 30,000 unknown keys are checked in linear time
    root = load_schema(name)
    for error in _validator(name).iter_errors(data):
        for path, message in _describe(error, root):
            problem = source.problem(path, message)
            if problem not in seen:
                seen.add(problem)
                problems.append(problem)
    return problems


def _describe(error: jsonschema.ValidationError, root: dict) -> list[tuple[KeyPath, str]]:
    path: KeyPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator = error.validator
    if validator in _EXPLAINED and "errorMessage" in schema:
        return [(path, schema["errorMessage"])]
    if validator in ("anyOf", "oneOf") and error.context:
        return _describe_branches(error, root)
    if validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = sorted(_declared_properties(schema, root))
        extras = [k for k in error.instance if k not in allowed]
        return [((*path, key), _unknown_key(key, allowed)) for key in extras]
    if "propertyNames" in error.absolute_schema_path:
        hint = schema.get("patternErrorMessage", "not an allowed key")
        return [((*path, str(error.instance)), f"unknown key ({hint})")]
    if validator == "required":
        missing = re.match(r"'(.*)' is a required property", error.message)
        key = missing.group(1) if missing else str(error.validator_value)
        return [((*path, key), "required key is missing")]
    return [(path, _message(error, schema))]


def _describe_branches(error: jsonschema.ValidationError, root: dict) -> list[tuple[KeyPath, str]]:
    """anyOf/oneOf: explain the branch meant for this kind of value."""
    by_branch: dict[int, list[jsonschema.ValidationError]] = {}
    for sub in error.context or []:
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    wrong_type = {
        branch for branch, subs in by_branch.items()
        if any(s.validator == "type" and not s.relative_path for s in subs)
    }
    candidates = [b for b in sorted(by_branch) if b not in wrong_type]
    if not candidates:
        expected: list[str] = []
        for subs in by_branch.values():
            for s in subs:
                if s.validator == "type":
                    for t in _as_list(s.validator_value):
                        if _TYPE_NAMES[t] not in expected:
                            expected.append(_TYPE_NAMES[t])
        return [(tuple(error.absolute_path), _type_message(error.instance, expected))]
    results: list[tuple[KeyPath, str]] = []
    for sub in by_branch[candidates[0]]:
        results.extend(_describe(sub, root))
    return results


def _declared_properties(schema: dict, root: dict) -> set[str]:
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= _declared_properties(part, root)
    return names


def _unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    close = close or [a for a in allowed if a.lower() == key.lower()]
    if close:
        return f"unknown key (did you mean '{close[0]}'?)"
    return f"unknown key (valid keys: {', '.join(allowed)})"


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _type_message(instance: Any, expected: list[str]) -> str:
    got = {bool: "true/false", int: "a number", float: "a number", str: "text",
           list: "a list", dict: "a mapping", type(None): "null"}.get(type(instance), "a value")
    message = f"expected {' or '.join(expected)}, got {got}"
    if instance is not None and not isinstance(instance, dict | list):
        message += f" {show(instance)}"
    if "text" in expected and isinstance(instance, int | float | bool):
        typed = str(instance).lower() if isinstance(instance, bool) else instance
        message += f' (quote it: "{typed}")'
    return message


def _message(error: jsonschema.ValidationError, schema: dict) -> str:
    value, limit = error.instance, error.validator_value
    match error.validator:
        case "type":
            return _type_message(value, [_TYPE_NAMES[t] for t in _as_list(limit)])
        case "enum":
            options = ", ".join("null" if o is None else str(o) for o in limit)
            near = [o for o in limit if isinstance(o, str) and isinstance(value, str)
                    and o.lower() == value.lower()]
            hint = f"did you mean '{near[0]}'? " if near else ""
            return f"{show(value)} is not allowed ({hint}one of: {options})"
        case "const":
            return f"{show(value)} is not allowed (only {show(limit)})"
        case "pattern":
            hint = schema.get("patternErrorMessage", f"must match {limit}")
            return f"{show(value)} is not valid ({hint})"
        case "format":
            return f"{show(value)} is not valid ({_FORMAT_HINTS.get(limit, limit)})"
        case "minLength":
            return "must not be empty" if limit == 1 else f"is shorter than {limit} characters"
        case "maxLength":
            return f"is {len(value)} characters long (at most {limit})"
        case "maxItems":
            return f"has {len(value)} items (at most {limit})"
        case "minItems":
            return f"has {len(value)} items (at least {limit})"
        case "uniqueItems":
            return "lists the same item twice (list each once)"
        case "minimum" | "exclusiveMinimum":
            strict = "above" if error.validator == "exclusiveMinimum" else "at least"
            return f"{show(value)} is too small (must be {strict} {limit})"
        case "maximum" | "exclusiveMaximum":
            return f"{show(value)} is too large (must be at most {limit})"
    return error.message
