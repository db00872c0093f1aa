"""Finding secrets written into desired-state files, and keeping them out of messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reconciler.desired.yamlsource import KeyPath

SECRET_KEYS = frozenset({"password", "secret", "clientsecret", "client_secret", "passwd"})

# Entra client secrets: three characters, a digit, `Q~`, then 31-34 more (gitleaks' rule).
_CLIENT_SECRET = re.compile(r"[\w~.-]{3}\dQ~[\w~.-]{31,34}")
# A bearer token or signed assertion (JWT) pasted into a file.
_JWT = re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}")
# A PEM private key.
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
# All three in one scan: checking every value of a 50,000-user tenant is on the load path.
_ANY = re.compile("|".join(p.pattern for p in (_CLIENT_SECRET, _JWT, _PEM)))


def looks_secret(value: object) -> bool:
    """True when a string value looks like a client secret, token or private key."""
    return isinstance(value, str) and _ANY.search(value) is not None


_KEY_REASON = (
    "secrets never live in YAML (remove it; sign-in secrets come from "
    "RECONCILER_CLIENT_SECRET or a certificate, new passwords from "
    "actions[].passwordFrom: env:VAR)"
)
_VALUE_REASON = (
    "this value looks like a secret (a client secret, token or private key); "
    "secrets never live in YAML (remove it and use an environment variable)"
)


def find_secrets(data: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """Yield (key path, reason) for every secret key or secret-looking value."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key.lower() in SECRET_KEYS:
                yield (*path, key), _KEY_REASON
            elif isinstance(value, str):  # most values: no generator, no path tuple
                if _ANY.search(value) is not None:
                    yield (*path, key), _VALUE_REASON
            elif isinstance(value, dict | list):
                yield from find_secrets(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            if isinstance(item, str):
                if _ANY.search(item) is not None:
                    yield (*path, index), _VALUE_REASON
            elif isinstance(item, dict | list):
                yield from find_secrets(item, (*path, index))
    elif looks_secret(data):
        yield path, _VALUE_REASON


def show(value: object, limit: int = 60) -> str:
    """A value for an error message: quoted, shortened, and never a secret."""
    if looks_secret(value):
        return "(redacted)"
    text = repr(value) if not isinstance(value, str) else "'" + value + "'"
    return text if len(text) <= limit else text[: limit - 4] + "...'"
