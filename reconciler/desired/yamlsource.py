"""YAML loading that remembers the line and column of every key and list item."""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.desired.problems import Problem

KeyPath = tuple[str | int, ...]

# Hostile files: an alias bomb or deep nesting ends in one located problem, fast.
MAX_ALIASES = 100  # `*alias` references in one file
MAX_DEPTH = 64  # nested mappings and lists
MAX_ALIAS_NODES = 10_000  # extra values aliases may expand to, beyond the file's own
_OPENERS = ("[", "{", "-", ":", "?")  # what opens a collection: flow, list item, key


class _PyLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars: dates stay strings, only true/false are booleans.

    YAML 1.1 reads `country: NO` as false and `employeeHireDate: 2024-03-01` as a date
    object; people writing user files mean the text they typed.
    """


class _CLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same, on libyaml's parser when PyYAML has it: five times faster on big tenants.
    Its error messages differ, so a file that fails to parse is parsed again by _PyLoader.

    A scalar's tag depends only on its kind, text and quoting (there are no path
    resolvers), and keys and most values repeat from file to file: resolved once each."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        key = (kind, value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(_RESOLVED) < _RESOLVED_MAX:
                _RESOLVED[key] = tag
        return tag


    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path resolvers: nothing to track while descending (called per node)."""

    def ascend_resolver(self) -> None:
        """No path resolvers: nothing to track."""


_RESOLVED: dict[tuple, str] = {}
_RESOLVED_MAX = 20_000


_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_RESOLVERS: dict = {}
for _first, _resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
    _kept = []
    for _tag, _regexp in _resolvers:
        if _tag == "tag:yaml.org,2002:timestamp":
            continue
        if _tag == "tag:yaml.org,2002:bool":
            _regexp = _BOOL
        _kept.append((_tag, _regexp))
    _RESOLVERS[_first] = _kept
_PyLoader.yaml_implicit_resolvers = _RESOLVERS
_CLoader.yaml_implicit_resolvers = _RESOLVERS


@dataclass
class SourceMap:
    """Where each key path of one file starts (1-based line and column).

    A tenant's user files are loaded with `origin` set and no marks: the positions are read
    from the file again the first time a message needs one (most files never do, and
    50,000 files' positions held for the whole run were ~100 MB)."""

    file: str
    marks: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    origin: Path | None = None  # the file the marks are read from on first use

    def locate(self, path: KeyPath) -> tuple[int, int]:
        """The position of `path`, or of its nearest located ancestor."""
        marks = self._marks()
        while path not in marks and path:
            path = path[:-1]
        return marks.get(path, (1, 1))

    def problem(self, path: KeyPath, message: str) -> Problem:
        """A problem located at `path` in this file."""
        line, col = self.locate(path)
        return Problem(self.file, line, col, format_path(path), message)

    def _marks(self) -> dict[KeyPath, tuple[int, int]]:
        if self.origin is not None:
            origin, self.origin = self.origin, None
            self.marks = load_yaml(origin, self.file).source.marks
        return self.marks


def format_path(path: KeyPath) -> str:
    """`('licenses', 1, 'sku')` -> `licenses[1].sku`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(document)"


@dataclass
class LoadedYaml:
    data: Any
    source: SourceMap
    problems: list[Problem]


def load_yaml(path: Path, display: str, *, located: bool = True,
              text: str | None = None) -> LoadedYaml:
    """Parse one YAML file; `display` is the name used in messages. Not `located`: the
    positions are read again from `path` when a message first needs one (SourceMap).
    `text`: the file's text, already read."""
    source = SourceMap(display) if located else SourceMap(display, origin=path)
    problems: list[Problem] = []
    try:
        if text is None:
            text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(display, 1, 1, "(document)", f"not UTF-8 text ({exc.reason})"))
        return LoadedYaml(None, source, problems)
    hostile, events = _prescan(text, display)
    if hostile is not None:
        problems.append(hostile)
        return LoadedYaml(None, source, problems)
    loader = _CLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError:
        try:  # the same failure, worded the same on every platform
            _PyLoader(text).get_single_node()
            raise
        except yaml.MarkedYAMLError as exc:
            problem = exc
        mark = problem.problem_mark or problem.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = problem.problem or problem.context or "malformed YAML"
        problems.append(Problem(display, line, col, "(document)", f"malformed YAML: {what}"))
        return LoadedYaml(None, source, problems)
    finally:
        loader.dispose()
    if node is None:
        return LoadedYaml(None, source, problems)
    constructor = _constructor()
    budget = _Budget(events + MAX_ALIAS_NODES if events >= 0 else sys.maxsize)
    marks = source.marks if located else None
    try:
        data = _build(node, (), marks, display, problems, constructor, budget)
    except _Exhausted as exc:
        problems.append(Problem(display, *exc.at, "(document)",
                                f"aliases expand to more than {MAX_ALIAS_NODES} extra values "
                                "(an alias bomb?); write the values out"))
        return LoadedYaml(None, source, problems)
    finally:
        constructor.constructed_objects.clear()  # nothing of this file outlives it
    return LoadedYaml(data, source, problems)


def _prescan(text: str, display: str) -> tuple[Problem | None, int]:
    """Count aliases and nesting on the event stream (linear, no recursion) before any
    tree is built; (the first limit crossed, located; the number of events). A text with
    no `*` has no alias, and one with fewer collection indicators than MAX_DEPTH cannot
    nest that deep (every mapping, list or flow collection needs one of its own): such a
    text, most user files, is not scanned (the events are then not counted: -1)."""
    if "*" not in text and sum(map(text.count, _OPENERS)) < MAX_DEPTH:
        return None, -1
    aliases = depth = events = 0
    try:
        for event in yaml.parse(text, Loader=_CLoader):
            events += 1
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    return _at(display, event, f"more than {MAX_ALIASES} aliases (an alias "
                               "bomb?); write the values out"), events
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return _at(display, event, f"nested deeper than {MAX_DEPTH} levels"), events
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None, events  # malformed: the parse below says where and why
    return None, events


def _at(display: str, event: yaml.Event, message: str) -> Problem:
    mark = event.start_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(display, line, col, "(document)", message)


class _Exhausted(Exception):
    def __init__(self, at: tuple[int, int]) -> None:
        self.at = at


class _Budget:
    """Values `_build` may still make: the file's own plus a bounded alias expansion."""

    def __init__(self, left: int) -> None:
        self.left = left

    def spend(self, node: yaml.Node) -> None:
        self.left -= 1
        if self.left < 0:
            raise _Exhausted((node.start_mark.line + 1, node.start_mark.column + 1))


_CONSTRUCTORS = threading.local()


def _constructor() -> _PyLoader:
    """One loader per thread to construct non-text scalars (making one costs ~25 µs)."""
    loader = getattr(_CONSTRUCTORS, "loader", None)
    if loader is None:
        loader = _CONSTRUCTORS.loader = _PyLoader("")
    return loader


def _build(
    node: yaml.Node, path: KeyPath, marks: dict[KeyPath, tuple[int, int]] | None, file: str,
    problems: list[Problem], loader: _PyLoader, budget: _Budget,
) -> Any:
    """The value of `node`; with `marks`, each key path's position recorded in it."""
    budget.spend(node)
    if marks is not None:
        marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            scalar = isinstance(key_node, yaml.ScalarNode)
            key = _scalar(key_node, loader) if scalar else None
            if not isinstance(key, str):
                problems.append(Problem(file, *_position(key_node), format_path(path),
                                        f"a key must be text, not {key!r}"))
                continue
            child = (*path, key)
            if key in result:
                first = _position(_first_key(node, key))
                problems.append(
                    Problem(
                        file, *_position(key_node), format_path(child),
                        f"duplicate key (first at line {first[0]}; keep one)",
                    )
                )
                continue
            if marks is not None:
                marks[child] = _position(key_node)
            result[key] = _build(value_node, child, marks, file, problems, loader, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, index), marks, file, problems, loader, budget)
            for index, item in enumerate(node.value)
        ]
    return _scalar(node, loader)


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _first_key(mapping: yaml.MappingNode, key: str) -> yaml.Node:
    """The first key node of `mapping` that is the text `key`."""
    return next((k for k, _ in mapping.value
                 if isinstance(k, yaml.ScalarNode) and k.tag == _STR and k.value == key),
                mapping)


_STR = "tag:yaml.org,2002:str"


def _scalar(node: yaml.Node, loader: _PyLoader) -> Any:
    """A scalar's value; text (most of a tenant) is taken as is, without the constructor,
    and interned: keys, group names and departments repeat in every file."""
    if node.tag == _STR and isinstance(node, yaml.ScalarNode):
        return sys.intern(node.value)
    return loader.construct_object(node)
