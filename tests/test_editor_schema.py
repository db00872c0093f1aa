"""Editor integration: every `$schema` comment in tenants/ resolves to a schema file, the
schemas name the URL they are published at, import writes a reference that resolves, and
check-jsonschema (what a user's CI or editor does) resolves and validates every demo file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from reconciler import schema_refs
from tests.conftest import REPO

PREFIX = "# yaml-language-server: $schema="


def schema_comments() -> dict[Path, str]:
    found = {}
    for path in sorted((REPO / "tenants").rglob("*.yaml")):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        if first.startswith(PREFIX):
            found[path] = first.removeprefix(PREFIX)
    return found


def test_every_schema_comment_in_tenants_points_at_an_existing_schema():
    comments = schema_comments()
    assert len(comments) >= 27  # the demo's tenant.yaml and every user file
    for path, target in comments.items():
        resolved = (path.parent / target).resolve()
        assert resolved.is_file(), f"{path}: $schema={target} does not exist"
        kind = "tenant" if path.name == "tenant.yaml" else "user"
        assert resolved == REPO / "schemas" / f"{kind}.schema.json", path


def test_every_demo_file_resolves_and_validates_with_check_jsonschema():
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("check-jsonschema is in the dev extras (make test installs it)")
    by_schema: dict[Path, list[str]] = defaultdict(list)
    for path, target in schema_comments().items():
        by_schema[(path.parent / target).resolve()].append(str(path))
    for schema, files in by_schema.items():
        # offline: the schemas' relative $refs resolve beside the local file, as they do
        # beside the published URL their $id names
        done = subprocess.run([tool, "--schemafile", str(schema), "--base-uri",
                               schema.as_uri(), *files], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "ok -- validation done" in done.stdout


def test_the_schemas_are_published_where_their_id_says():
    """$id is the raw file at the release tag of this version (v<version>), which is what
    users' own repositories put in their $schema comments."""
    for kind in ("user", "tenant"):
        schema = json.loads((REPO / "schemas" / f"{kind}.schema.json").read_text())
        assert schema["$id"] == schema_refs.schema_url(kind)
        assert schema["$id"].startswith("https://raw.githubusercontent.com/")
        assert f"/v{schema_refs.package_version()}/schemas/{kind}.schema.json" in schema["$id"]


def test_import_writes_a_reference_that_resolves(tmp_path):
    inside = tmp_path / "repo"
    (inside / "schemas").mkdir(parents=True)
    (inside / "schemas" / "user.schema.json").write_text("{}")
    (inside / ".git").mkdir()
    user_file = inside / "tenants" / "contoso" / "users" / "a.yaml"
    user_file.parent.mkdir(parents=True)
    assert schema_refs.schema_reference("user", user_file) == "../../../schemas/user.schema.json"
    outside = tmp_path / "theirs" / "tenants" / "c" / "users" / "a.yaml"
    (tmp_path / "theirs" / ".git").mkdir(parents=True)
    outside.parent.mkdir(parents=True)
    assert schema_refs.schema_reference("user", outside) == schema_refs.schema_url("user")
    assert "site-packages" not in schema_refs.comment("user", outside)
