"""The compiled validator (jsonschema-rs) never accepts what jsonschema refuses.

Loading trusts the compiled validator's "valid" and asks jsonschema only to word errors, so
a document the compiled one lets through must have no jsonschema errors. Checked on every
user file we ship or test with, and on thousands of seeded mutations of them.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest

from reconciler.desired import schema
from reconciler.desired.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parents[1]
VALUES = [None, True, False, 0, 1, -1, 2.5, "", "x", "NL\n", " ", "a@b", "a@b.co",
          "2024-02-30", "2024-03-01", "2027-03-31T17:00:00Z", "env:X", "+31 20 123 4567",
          "72f988bf-86f1-41af-91ab-2d7cd011db47", "SPE_E3", [], ["x"], ["x", "x"], {},
          {"sku": "SPE_E3"}, "extensionAttribute16", "a" * 300]


def documents(name: str) -> list:
    files = [ROOT / "tenants" / "demo" / "tenant.yaml"] if name == "tenant" else sorted(
        (ROOT / "tenants" / "demo" / "users").rglob("*.yaml"))
    return [load_yaml(p, str(p)).data for p in files]


def mutate(doc: object, rng: random.Random) -> object:
    """One random edit somewhere in the document: a value replaced, a key added or dropped."""
    doc = copy.deepcopy(doc)
    node = doc
    while True:
        if isinstance(node, dict) and node and rng.random() < 0.6:
            key = rng.choice(sorted(node))
            if isinstance(node[key], dict | list) and node[key] and rng.random() < 0.6:
                node = node[key]
                continue
            action = rng.random()
            if action < 0.6:
                node[key] = rng.choice(VALUES)
            elif action < 0.8:
                del node[key]
            else:
                node[key + "x"] = rng.choice(VALUES)
        elif isinstance(node, list) and node and rng.random() < 0.6:
            index = rng.randrange(len(node))
            if isinstance(node[index], dict | list) and node[index] and rng.random() < 0.6:
                node = node[index]
                continue
            node[index] = rng.choice(VALUES)
        elif isinstance(node, list):
            node.append(rng.choice(VALUES))
        return doc


@pytest.mark.parametrize("name", ["user", "tenant"])
def test_compiled_validator_is_never_more_lenient(name):
    pytest.importorskip("jsonschema_rs")
    assert schema._compiled(name) is not None, "the schema no longer compiles"
    reference = schema._validator(name)
    rng = random.Random(15)
    seen = {"valid": 0, "invalid": 0}
    for doc in documents(name):
        assert schema.is_valid(name, doc) is True
        for _ in range(150 if name == "user" else 1500):
            candidate = mutate(doc, rng)
            verdict = schema.is_valid(name, candidate)
            errors = list(reference.iter_errors(candidate))
            if verdict:
                assert not errors, (candidate, errors[0].message)
            seen["valid" if not errors else "invalid"] += 1
    assert seen["invalid"] > 500 and seen["valid"] > 10, seen


def test_values_json_cannot_hold_go_to_jsonschema():
    doc = {"userPrincipalName": "a@contoso.com", "profile": {"jobTitle": float("nan")}}
    assert schema.is_valid("user", doc) in (None, False)
    assert schema.validate_document("user", doc, schema.SourceMap("f.yaml"))
