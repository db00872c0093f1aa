"""The shape of the code: stages import only stages below them, no import cycles, and no
function longer than 60 lines without saying why."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"
LONG = 60
REASON = "Long because:"

# Stages from the bottom up; a module belongs to the most specific prefix listed. A module
# may import modules of its own stage (without cycles) and of the stages before it.
STAGES: tuple[tuple[str, ...], ...] = (
    ("reconciler",),  # the package itself (version); exactly, not as a prefix
    ("reconciler.emulator",),  # a stand-in tenant: imports nothing of the product
    ("reconciler.bulk", "reconciler.cachefile", "reconciler.desired", "reconciler.failures",
     "reconciler.schema_refs", "reconciler.render.escape"),  # escaping imports nothing
    ("reconciler.clock",),
    ("reconciler.graph",),
    ("reconciler.live",),
    ("reconciler.plan", "reconciler.plan.change", "reconciler.plan.facts",
     "reconciler.plan.resolve", "reconciler.plan.context"),
    ("reconciler.apply", "reconciler.apply.context", "reconciler.apply.phases",
     "reconciler.apply.trail"),
    ("reconciler.areas",),
    ("reconciler.plan.planner", "reconciler.plan.limits", "reconciler.apply.applier",
     "reconciler.apply.stale", "reconciler.render", "reconciler.importer",
     "reconciler.plan.planfile"),  # the file carries the rendered headline
    ("reconciler.reconcile", "reconciler.gitops", "reconciler.handoff"),
    ("reconciler.cli_common", "reconciler.cli_ci", "reconciler.cli_tools"),
    ("reconciler.cli", "reconciler.demo", "reconciler.__main__"),
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path) -> set[str]:
    """Modules of the package `name` imports at run time (anywhere in the file; imports
    only for type checkers do not count)."""
    found: set[str] = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] +
                                ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _stage(module: str) -> int:
    best, rank = -1, -1
    for index, prefixes in enumerate(STAGES):
        for prefix in prefixes:
            below = module.startswith(prefix + ".") and prefix != "reconciler"
            if (module == prefix or below) and len(prefix) > best:
                best, rank = len(prefix), index
    return rank


def test_every_module_has_a_stage():
    assert [m for m in MODULES if _stage(m) < 0] == []


def test_each_stage_imports_only_stages_below_it():
    upward = sorted(f"{module} (stage {_stage(module)}) imports {target} (stage "
                    f"{_stage(target)})" for module, targets in GRAPH.items()
                    for target in targets if _stage(target) > _stage(module))
    assert upward == []


def test_no_import_cycles():
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_checks_see_a_cycle_and_an_upward_import():
    """The graph is real: known edges are found (so the tests above cannot pass empty)."""
    assert "reconciler.areas.registry" in GRAPH["reconciler.plan.planner"]
    assert "reconciler.plan.context" in GRAPH["reconciler.areas.groups"]
    assert _stage("reconciler.plan.planner") > _stage("reconciler.areas.groups") > \
        _stage("reconciler.plan.context")


def test_no_function_over_60_lines_without_a_reason():
    long = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > LONG and REASON not in (ast.get_docstring(node) or ""):
                    long.append(f"{name}.{node.name}: {length} lines")
    assert long == [], f"say why in the docstring ({REASON} ...) or split them"
