"""Facts a change depends on: named by key, hashed at plan time, re-read at apply time.

A fact key is `<kind>:<subject>[:<detail>]` (`groups:<user id>`, `profile:<user id>:jobTitle`,
`seats:<sku id>:<count>`). Each area declares the fact kinds its changes name
(`Area.facts`); this module only hashes and looks them up. A saved plan is stale when a
fact it names has moved; unrelated changes in the tenant do not make it stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.live.state import LiveState, LiveUser


@dataclass(frozen=True)
class FactKind:
    """How to read one kind of fact and how a reviewer reads its name.

    `read(live, rest)` gets the key after `<kind>:`; it must be pure and return None when
    the object is gone. `describe(rest, subject)` gets the same and the subject's UPN (or
    the raw subject when it is not a user)."""

    read: Callable[[LiveState, str], Any]
    describe: Callable[[str, str], str]


def of_user(value: Callable[[LiveUser, LiveState, str], Any], what: str) -> FactKind:
    """A fact about one user (`<kind>:<user id>[:<detail>]`): None once the user is gone."""

    def read(live: LiveState, rest: str) -> Any:
        user_id, _, detail = rest.partition(":")
        user = live.users.get(user_id)
        return None if user is None else value(user, live, detail)

    return FactKind(read, lambda rest, subject: f"{subject}: {what}")


def fact_value(live: LiveState, key: str, kinds: Mapping[str, FactKind]) -> Any:
    """The live value a fact key names."""
    kind, _, rest = key.partition(":")
    if kind not in kinds:
        raise KeyError(f"unknown fact {key}")
    return kinds[kind].read(live, rest)


def fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe(key: str, user_names: dict[str, str], kinds: Mapping[str, FactKind]) -> str:
    """A fact key as a reviewer reads it."""
    kind, _, rest = key.partition(":")
    subject = rest.split(":")[0]
    if kind not in kinds:
        return key
    return kinds[kind].describe(rest, user_names.get(subject, subject))
