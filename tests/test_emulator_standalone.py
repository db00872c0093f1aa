"""The emulator stands alone: it never imports the product's rules, so a rule wrong in the
product cannot be wrong in the emulator too and pass every test."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

FORBIDDEN = ("reconciler.graph", "reconciler.desired", "reconciler.plan", "reconciler.areas",
             "reconciler.apply", "reconciler.live", "reconciler.render")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            names.append("relative:" + (node.module or ""))
    return names


def test_nothing_under_emulator_imports_product_code():
    offenders = []
    for path in sorted((REPO / "reconciler" / "emulator").rglob("*.py")):
        for name in _imports(path):
            if name.startswith(FORBIDDEN) or name.startswith("relative:") or \
                    (name.startswith("reconciler.") and not name.startswith(
                        ("reconciler.emulator", "reconciler.emulator."))):
                offenders.append(f"{path.relative_to(REPO)}: {name}")
    assert offenders == []


def test_the_check_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from reconciler.graph.properties import USER_WRITABLE\n")
    assert "reconciler.graph.properties" in _imports(sample)


def test_conformance_oracles_do_not_come_from_product_tables():
    for name in ("test_conformance.py", "conformance_examples.py", "conformance_arrange.py",
                 "conformance_harness.py", "conformance_compare.py", "conformance_replay.py",
                 "conformance_client.py"):
        imported = _imports(REPO / "tests" / name)
        assert not [n for n in imported if n.startswith(
            ("reconciler.graph.properties", "reconciler.desired", "reconciler.areas",
             "reconciler.plan"))], name
