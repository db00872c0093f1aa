"""`defaults` in tenant.yaml, merged under every user file key by key.

A file's own value wins. Mappings that are sets of keys (the document, profile, mailbox,
mailbox.permissions, calendar, authentication, phoneMethods, extensionAttributes) merge key
by key; any other value (a list, a scalar, `forwarding`, `automaticReplies`) is taken whole
from the file when the file has the key, so `groups: [X]` in a file replaces a default list.
Messages about a value that came from `defaults` point at tenant.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.desired.problems import Problem
from reconciler.desired.yamlsource import KeyPath, SourceMap

# Top-level user keys `defaults` may set (per-user identity and one-shot keys may not).
DEFAULTABLE = ("profile", "extensionAttributes", "groups", "directoryRoles", "licenses",
               "mailbox", "calendar", "authentication")
# Mappings merged key by key; everything else is a value taken whole.
_KEYED: frozenset[KeyPath] = frozenset({
    (), ("profile",), ("extensionAttributes",), ("mailbox",), ("mailbox", "permissions"),
    ("calendar",), ("authentication",), ("authentication", "phoneMethods"),
})


def merge(defaults: dict[str, Any] | None, data: dict[str, Any]
          ) -> tuple[dict[str, Any], frozenset[KeyPath]]:
    """(the file's data with defaults under it, the key paths whose value came from defaults)."""
    if not defaults:
        return data, frozenset()
    taken: set[KeyPath] = set()
    merged = _merge(defaults, data, (), taken)
    return merged, frozenset(taken)


def _merge(default: dict[str, Any], own: dict[str, Any], path: KeyPath,
           taken: set[KeyPath]) -> dict[str, Any]:
    out = dict(own)
    for key, value in default.items():
        child = (*path, key)
        if key not in own:
            out[key] = value
            taken.add(child)
        elif child in _KEYED and isinstance(value, dict) and isinstance(own[key], dict):
            out[key] = _merge(value, own[key], child, taken)
    return out


def dotted(paths: frozenset[KeyPath]) -> frozenset[str]:
    """Key paths as the dotted names `DesiredUser.manages` uses."""
    return frozenset(".".join(str(p) for p in path) for path in paths)


@dataclass
class LayeredSource(SourceMap):
    """A user file's positions, with the values taken from `defaults` located in tenant.yaml."""

    defaults: SourceMap | None = None
    taken: frozenset[KeyPath] = field(default_factory=frozenset)

    def _from_defaults(self, path: KeyPath) -> bool:
        return any(path[:len(prefix)] == prefix for prefix in self.taken)

    def locate(self, path: KeyPath) -> tuple[int, int]:
        if self.defaults is not None and self._from_defaults(path):
            return self.defaults.locate(("defaults", *path))
        return super().locate(path)

    def problem(self, path: KeyPath, message: str) -> Problem:
        if self.defaults is not None and self._from_defaults(path):
            return self.defaults.problem(("defaults", *path), message)
        return super().problem(path, message)


def layered(own: SourceMap, defaults: SourceMap | None,
            taken: frozenset[KeyPath]) -> SourceMap:
    if defaults is None or not taken:
        return own
    return LayeredSource(own.file, own.marks, own.origin, defaults=defaults, taken=taken)
