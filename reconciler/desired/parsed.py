"""User files kept parsed between runs: a file whose bytes have not changed is not parsed
again (YAML parsing was most of a warm 50,000-user plan's CPU).

One JSON file per tenant in the cache directory (`cache_dir`: `$RECONCILER_CACHE_DIR`,
else `<tenant>/.reconciler/cache/`) maps the SHA-256 of a file's bytes to its document as
loaded. Only files that loaded without a problem are kept, and only the ones this run
used. The whole file counts only for the same loader: its fingerprint hashes the
loader's own source and the JSON schemas, so a changed rule parses everything again.

A document taken from the file is checked again against the user schema (the compiled
validator: microseconds) and scanned for secrets before it is used; one that fails is
parsed from YAML like any other. So a corrupt cache costs a parse, and a hostile one can
at most swap in another valid, secret-free document, and only into what plan and drift
show: runs that write (apply, apply --plan, drift --apply-due) load with `reuse=False`, never
read it. Keep the cache directory as trusted as the tenant folder all the same (on CI,
`actions/cache` keys written by default-branch runs).
Messages still point at the YAML: positions are read from the file when needed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from reconciler import cachefile
from reconciler.desired.schema import schema_dir, validate_document
from reconciler.desired.secrets import find_secrets
from reconciler.desired.yamlsource import LoadedYaml, SourceMap

log = logging.getLogger(__name__)
ENVIRONMENT = "RECONCILER_CACHE_DIR"
FORMAT = 1
# The modules whose rules decide what a file's document is (and this one).
_RULES = ("yamlsource.py", "secrets.py", "schema.py", "parsed.py")


def cache_dir(folder: Path, graph_url: str) -> Path | None:
    """Where this tenant's caches live, or None when caching is off (`off`). Tenants on
    the in-process emulator (`emulator:` URLs) are re-seeded freely: for them only when
    the variable is set."""
    configured = os.environ.get(ENVIRONMENT)
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    if graph_url.startswith("emulator:"):
        return None
    return folder / ".reconciler" / "cache"


@cache
def fingerprint() -> str:
    """A hash of the loading rules' source and the schemas."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    here = Path(__file__).resolve().parent
    for path in [*(here / name for name in _RULES), *sorted(schema_dir().glob("*.json"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class ParsedFiles:
    """The parsed user files of one tenant, as the last run left them."""

    def __init__(self, directory: Path | None, tenant_id: str) -> None:
        """`directory` None: every file is parsed, nothing kept."""
        name = hashlib.sha256(tenant_id.lower().encode()).hexdigest()[:16]
        self.path = directory / f"parsed-{name}.json" if directory else None
        self.saved = self._load()
        self.used: dict[str, Any] = {}  # digest -> document, for the next run
        self.parsed = 0  # files this run parsed from YAML

    def _load(self) -> dict[str, Any]:
        data = cachefile.read(self.path, format=FORMAT, fingerprint=fingerprint())
        documents = data.get("documents") if data else None
        return documents if isinstance(documents, dict) else {}

    def read(self, path: Path) -> tuple[str, str | None]:
        """(the digest of the file's bytes, its text read as `Path.read_text` would; None
        when it is not UTF-8: the loader reads it again to say so). OSError propagates."""
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return digest, None
        if "\r" in text:  # universal newlines, as read_text
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return digest, text

    def lookup(self, digest: str, path: Path, display: str) -> LoadedYaml | None:
        """The file's document as last loaded, if it still passes the checks."""
        data = self.saved.get(digest)
        if not isinstance(data, dict):
            return None
        source = SourceMap(display, origin=path)
        if next(find_secrets(data), None) is not None or \
                validate_document("user", data, source):
            return None
        self.used[digest] = data
        return LoadedYaml(data, source, [])

    def keep(self, digest: str, data: Any) -> None:
        """A document parsed this run (loaded without a problem)."""
        self.parsed += 1
        self.used[digest] = data

    def save(self) -> None:
        """Write the documents this run used (atomically, owner-only), if they differ
        from the saved ones."""
        if self.path is None or (not self.parsed and self.used.keys() == self.saved.keys()):
            return
        try:
            cachefile.replace(self.path, self._write)
        except OSError as exc:  # a cache that cannot be written costs the next run time
            log.warning("parsed files not kept in %s: %s", self.path.parent, exc)

    def _write(self, out: TextIO) -> None:
        out.write(json.dumps({"format": FORMAT, "fingerprint": fingerprint()})[:-1])
        out.write(',"documents":{')
        first = True
        for digest, data in self.used.items():
            try:
                text = json.dumps(data, separators=(",", ":"), allow_nan=False)
            except (TypeError, ValueError):  # !!binary, NaN...: parsed each time
                continue
            out.write(("" if first else ",") + json.dumps(digest) + ":" + text)
            first = False
        out.write("}}")
