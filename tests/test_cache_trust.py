"""What a writer of the cache directory can make a writing run do: nothing. The parsed-files
cache (desired/parsed.py) speeds up plan and drift, but apply, apply --plan and
drift --apply-due parse every user file from its YAML, so a document swapped into the cache
never reaches the tenant. Judged from the emulator's record."""

from __future__ import annotations

import json

import pytest

from reconciler.desired.parsed import ENVIRONMENT
from tests.tenancy import cli_run, make_tenant, oid, store

ALICE = "userPrincipalName: alice@contoso.com\nprofile: {jobTitle: Lead}\ngroups: [Engineering]\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv(ENVIRONMENT, str(directory))
    return directory


def swap_alice(cache, document: dict) -> None:
    """Replace alice's cached document (keyed by the digest of her unchanged file)."""
    (file,) = cache.glob("parsed-*.json")
    data = json.loads(file.read_text(encoding="utf-8"))
    (digest,) = [d for d, doc in data["documents"].items()
                 if doc.get("userPrincipalName") == "alice@contoso.com"]
    data["documents"][digest] = document
    file.write_text(json.dumps(data), encoding="utf-8")


def alice() -> str:
    return oid("alice@contoso.com")


def test_apply_writes_what_the_file_says_not_a_swapped_cache_entry(tmp_path, cache):
    folder = make_tenant(tmp_path, {"alice": ALICE}, memberships="additive")
    cli_run("plan", str(folder))  # the cache now holds alice's file
    swap_alice(cache, {"userPrincipalName": "alice@contoso.com",
                       "profile": {"jobTitle": "Pwned"}, "groups": ["Engineering", "Oncall"]})
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    db = store(folder)
    assert db.get_object(alice())["jobTitle"] == "Lead"
    assert not db.is_member(oid("group:Oncall"), alice())  # role-assignable: never added


def test_apply_of_a_saved_plan_judges_it_against_the_files_not_the_cache(tmp_path, cache):
    folder = make_tenant(tmp_path, {"alice": ALICE}, memberships="additive")
    saved = tmp_path / "plan.json"
    made = cli_run("plan", str(folder), "--format", "json")
    saved.write_text(made.stdout)
    swap_alice(cache, {"userPrincipalName": "alice@contoso.com",
                       "profile": {"jobTitle": "Pwned"}})
    result = cli_run("apply", str(folder), "--plan", str(saved))
    assert result.exit_code == 0, result.output  # the reviewed plan, not refused as stale
    assert store(folder).get_object(alice())["jobTitle"] == "Lead"


def test_drift_apply_due_never_carries_out_a_schedule_only_the_cache_holds(tmp_path, cache):
    folder = make_tenant(tmp_path, {"alice": ALICE}, memberships="additive")
    tenant = folder / "tenant.yaml"
    tenant.write_text(tenant.read_text() + "  scheduled: {applyDue: true}\n")
    first = cli_run("drift", str(folder))
    assert first.exit_code == 2, first.output
    swap_alice(cache, {"userPrincipalName": "alice@contoso.com",
                       "profile": {"jobTitle": "Lead"},
                       "groups": [{"name": "Engineering", "until": "2020-01-01"}]})
    result = cli_run("drift", str(folder), "--apply-due")
    assert "Apply complete" not in result.stdout, result.output  # nothing is due
    assert store(folder).is_member(oid("group:Engineering"), alice())
