"""User files kept parsed between runs (desired/parsed.py): a second load reads the same
values and positions, an edited file is read afresh, and a cache that does not hold up
(tampered, foreign, corrupt, off) never changes what the folder says."""

from __future__ import annotations

import json

import pytest

from reconciler.desired.loader import load_tenant
from reconciler.desired.parsed import ENVIRONMENT

ALICE = ("userPrincipalName: alice@contoso.com\n"
         "profile:\n  jobTitle: Engineer\n  department: R&D\n"
         "groups:\n  - Engineering\n  - {name: Oncall, until: 2031-01-01}\n"
         "licenses:\n  - sku: SPE_E3\n")
BOB = "userPrincipalName: bob@contoso.com\r\nprofile:\r\n  jobTitle: Staff\r\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv(ENVIRONMENT, str(directory))
    return directory


def users(folder):
    result = load_tenant(folder)
    assert result.problems == []
    return {u.upn: u for u in result.tenant.users}


def saved(cache):
    (file,) = cache.glob("parsed-*.json")
    return file, json.loads(file.read_text(encoding="utf-8"))


def test_a_second_load_reads_what_the_first_did(tenant_folder, cache):
    folder = tenant_folder({"users/alice.yaml": ALICE, "users/bob.yaml": BOB.encode()})
    first = users(folder)
    _file, data = saved(cache)
    assert len(data["documents"]) == 2
    again = users(folder)
    assert again == first  # every field, documents and key order included
    assert list(again["alice@contoso.com"].document) == ["userPrincipalName", "profile",
                                                         "groups", "licenses"]
    # positions are still read from the YAML when a message needs one
    alice = again["alice@contoso.com"]
    assert alice.source.problem(("groups", 1, "until"), "x").line == 7
    assert again["bob@contoso.com"].source.problem(("profile", "jobTitle"), "x").line == 3


def test_an_edited_file_is_read_again(tenant_folder, cache):
    folder = tenant_folder({"users/alice.yaml": ALICE})
    users(folder)
    (folder / "users" / "alice.yaml").write_text(ALICE.replace("Engineer", "Manager"))
    assert users(folder)["alice@contoso.com"].profile["jobTitle"] == "Manager"
    _file, data = saved(cache)
    assert len(data["documents"]) == 1  # the old version is not kept


@pytest.mark.parametrize("swapped", [
    {"userPrincipalName": "alice@contoso.com", "profile": {"jobTitle": 7}},  # not valid
    {"userPrincipalName": "alice@contoso.com",  # a secret-looking value
     "profile": {"jobTitle": "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4"}},
])
def test_a_tampered_entry_is_not_used(tenant_folder, cache, swapped):
    folder = tenant_folder({"users/alice.yaml": ALICE})
    first = users(folder)
    file, data = saved(cache)
    (digest,) = data["documents"]
    data["documents"][digest] = swapped
    file.write_text(json.dumps(data), encoding="utf-8")
    assert users(folder) == first


def test_a_foreign_or_corrupt_cache_is_ignored(tenant_folder, cache):
    folder = tenant_folder({"users/alice.yaml": ALICE})
    first = users(folder)
    file, data = saved(cache)
    (digest,) = data["documents"]
    data["documents"][digest]["profile"]["jobTitle"] = "Stale"
    data["fingerprint"] = "another loader"
    file.write_text(json.dumps(data), encoding="utf-8")
    assert users(folder) == first
    file.write_text("{not json", encoding="utf-8")
    assert users(folder) == first


def test_a_folder_with_problems_keeps_nothing_and_off_writes_nothing(
        tenant_folder, cache, monkeypatch):
    folder = tenant_folder({"users/alice.yaml": ALICE, "users/bad.yaml": "profile: [\n"})
    assert load_tenant(folder).problems
    assert not list(cache.glob("parsed-*.json"))
    (folder / "users" / "bad.yaml").unlink()
    monkeypatch.setenv(ENVIRONMENT, "off")
    users(folder)
    assert not cache.exists()


def test_apply_never_takes_a_user_from_the_cache(tmp_path):
    """Someone who can write the cache directory swaps in a valid document under alice's
    file digest that makes her a Global Administrator. A plan may read it (the cache is as
    trusted as the folder), but apply parses the files themselves: the emulator's record
    shows no role granted, and the saved plan made from the poisoned cache is refused."""
    from tests.tenancy import cli_run, make_tenant, oid, store

    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"
                                           "directoryRoles: []\n"})
    env = {ENVIRONMENT: str(tmp_path / "cache")}
    assert cli_run("plan", str(folder), env=env).exit_code == 0  # fills the cache
    file, data = saved(tmp_path / "cache")
    (digest,) = data["documents"]
    data["documents"][digest] = {"userPrincipalName": "bob@contoso.com",
                                 "directoryRoles": ["Global Administrator"]}
    file.write_text(json.dumps(data), encoding="utf-8")
    poisoned = cli_run("plan", str(folder), "--format", "json", env=env)
    assert "Global Administrator" in poisoned.stdout  # a plan can be misled...
    saved_plan = tmp_path / "plan.json"
    saved_plan.write_text(poisoned.stdout)
    before = store(folder).role_assignments(oid("bob@contoso.com"))
    refused = cli_run("apply", str(folder), "--plan", str(saved_plan), env=env)
    assert refused.exit_code != 0  # ...but not an apply of that plan
    applied = cli_run("apply", str(folder), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    assert "Global Administrator" not in applied.stdout
    assert store(folder).role_assignments(oid("bob@contoso.com")) == before
