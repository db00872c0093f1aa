"""Hostile tenant folders end in one located problem, fast, reading nothing outside."""

from __future__ import annotations

from reconciler.desired.loader import load_tenant
from reconciler.desired.yamlsource import load_yaml
from tests.tenancy import cli_run, make_tenant

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
    for i in range(8))


def test_an_alias_bomb_is_one_located_problem(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    loaded = load_yaml(path, "users/bomb.yaml")
    assert loaded.data is None
    assert [str(p) for p in loaded.problems] == [
        "users/bomb.yaml:1:23: (document): aliases expand to more than 10000 extra values "
        "(an alias bomb?); write the values out"]
    many = tmp_path / "many.yaml"
    many.write_text("a: &a 1\nb: [" + ", ".join(["*a"] * 150) + "]\n")
    assert "more than 100 aliases" in str(load_yaml(many, "many.yaml").problems[0])


def test_deep_nesting_is_one_located_problem(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("userPrincipalName: a@contoso.com\nx: " + "[" * 100_000 + "]" * 100_000)
    problems = load_yaml(path, "deep.yaml").problems
    assert [str(p) for p in problems] == ["deep.yaml:2:67: (document): nested deeper than "
                                          "64 levels"]


def test_the_cli_reports_a_bomb_in_a_user_file_without_a_traceback(tmp_path):
    folder = make_tenant(tmp_path, {"bomb": "userPrincipalName: a@contoso.com\n" + BOMB})
    result = cli_run("validate", str(folder))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "users/bomb.yaml:" in result.stderr and "alias bomb" in result.stderr


def test_a_user_file_symlinked_outside_the_folder_is_refused_unread(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.yaml"
    secret.write_text("userPrincipalName: leak@contoso.com\nprofile: {jobTitle: TOPSECRET}\n")
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"})
    (folder / "users" / "evil.yaml").symlink_to(secret)
    result = load_tenant(folder)
    assert [p.message for p in result.problems] == [
        "resolves outside the tenant folder (a symlink?); user files must lie inside it: "
        "not read"]
    assert "TOPSECRET" not in cli_run("validate", str(folder)).output


def test_audit_file_outside_the_folder_is_refused_and_nothing_is_written(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: Lead}\n"})
    tenant = folder / "tenant.yaml"
    tenant.write_text(tenant.read_text() + "audit: {file: ../outside/x.jsonl}\n")
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert "audit.file: must name a file inside the tenant folder" in result.stderr
    assert not (tmp_path / "outside").exists()
    (tmp_path / "outside").mkdir()
    (folder / "trail.jsonl").symlink_to(tmp_path / "outside" / "x.jsonl")
    tenant.write_text(tenant.read_text().replace("../outside/x.jsonl", "trail.jsonl"))
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1 and "audit.file" in result.stderr
    assert not (tmp_path / "outside" / "x.jsonl").exists()


def test_30000_unknown_keys_are_each_reported(tmp_path):
    keys = "".join(f"k{i}: {i}\n" for i in range(30_000))
    folder = make_tenant(tmp_path, {"a": "userPrincipalName: a@contoso.com\n" + keys})
    problems = load_tenant(folder).problems
    assert len(problems) == 30_000 and all("unknown key" in p.message for p in problems)
