"""Shared fixtures: tenant folders written into tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Every area's requests join the catalogue before the conformance tests collect them.
import reconciler.areas.registry  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "tenants" / "demo"

BASE_TENANT = """\
tenant: {id: 11111111-2222-4333-8444-555555555555, domain: contoso.onmicrosoft.com}
graph: {url: "emulator:test.db"}
auth: {method: none}
policy:
  protectedUsers: [breakglass@contoso.com]
"""


@pytest.fixture(autouse=True)
def _not_in_a_pull_request(monkeypatch):
    """Tests run in GitHub's CI too: its GITHUB_EVENT_NAME must not change their answers
    (the client refuses some sign-ins from a pull request; tests that need that set it)."""
    monkeypatch.delenv("GITHUB_EVENT_NAME", raising=False)


def write_tenant(root: Path, files: dict[str, str | bytes]) -> Path:
    """A tenant folder under `root` with BASE_TENANT unless `files` brings its own."""
    folder = root / "tenant"
    (folder / "users").mkdir(parents=True, exist_ok=True)
    files = {"tenant.yaml": BASE_TENANT, **files}
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture
def tenant_folder(tmp_path: Path):
    """Call with a {relative path: content} mapping; returns the folder."""
    return lambda files: write_tenant(tmp_path, files)


# The emulator's cost model is on by default (limits.py). The suite switches off the two
# parts that only cost wall-clock time or make reads nondeterministic: per-request latency and
# replication lag. Tests that study them pass their own Limits or `lag=` fault.
os.environ.setdefault("RECONCILER_EMULATOR_LIMITS", "latency=0,perobject=0,lag=0")


# Every JSON reply the emulator gives during the suite is sampled (a few per method and path
# shape) so that tests/test_zz_csdl_walk.py can check each property and value against the
# CSDL once the scenarios before it have run.
SERVED_REPLIES: dict[tuple[str, str], list[tuple[str, dict]]] = {}


def _record_replies() -> None:
    import json
    import re

    from reconciler.emulator.app import Emulator

    original = Emulator.handle
    shape = re.compile(r"/[0-9a-fA-F-]{36}|/[^/]+@[^/]+|\?.*$")

    def handle(self, request):  # noqa: ANN001, ANN202 - wraps the emulator's own signature
        response = original(self, request)
        if 200 <= response.status < 300 and "json" in response.headers.get("content-type", ""):
            key = (request.method, shape.sub("/{}", request.path))
            kept = SERVED_REPLIES.setdefault(key, [])
            if len(kept) < 5 and response.body:
                kept.append((request.path, json.loads(response.body)))
        return response

    Emulator.handle = handle


_record_replies()
