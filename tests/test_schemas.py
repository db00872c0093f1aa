"""The schemas are valid 2020-12 documents and document every field for editors."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from reconciler.desired.schema import load_schema


def property_schemas(node, root, path=""):
    """Yield (path, schema) for every named property in the schema, following $defs."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}", sub
            yield from property_schemas(sub, root, f"{path}.{name}")
        for key in ("items", "additionalProperties", "then", "else"):
            if isinstance(node.get(key), dict):
                yield from property_schemas(node[key], root, path + "[]")
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, []):
                yield from property_schemas(sub, root, path)
    for name, sub in root.get("$defs", {}).items() if node is root else ():
        yield from property_schemas(sub, root, f"#{name}")


def resolve(schema, root):
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return {**resolve(root["$defs"][ref.split("/")[-1]], root), **schema}
    return schema


@pytest.mark.parametrize("name", ["user", "tenant"])
def test_schema_is_a_valid_2020_12_schema(name):
    Draft202012Validator.check_schema(load_schema(name))


@pytest.mark.parametrize("name", ["user", "tenant"])
def test_every_field_has_a_description_and_an_example(name):
    root = load_schema(name)
    undocumented = []
    for path, schema in property_schemas(root, root):
        full = resolve(schema, root)
        if "description" not in full or "examples" not in full:
            undocumented.append(path)
    assert undocumented == []


def open_object_schemas(node, path, found):
    """Collect paths of object schemas that accept unknown keys."""
    if isinstance(node, dict):
        types = node.get("type")
        is_object = types == "object" or (isinstance(types, list) and "object" in types)
        if is_object and not ("additionalProperties" in node or "unevaluatedProperties" in node):
            found.append(path)
        for key, value in node.items():
            if key != "examples":  # sample data, not schemas
                open_object_schemas(value, f"{path}/{key}", found)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            open_object_schemas(value, f"{path}/{index}", found)
    return found


@pytest.mark.parametrize("name", ["user", "tenant"])
def test_unknown_keys_are_rejected_everywhere(name):
    assert open_object_schemas(load_schema(name), name, []) == []
