"""Live values reaching a person on the command line (stderr outcome and refusal lines,
`Error:` lines, log warnings, the apply report) are inert: control characters and ANSI shown
visibly, no line a GitHub workflow command, no forged line, no fence broken."""

from __future__ import annotations

import re

from reconciler.apply.lock import LOCK_NAME
from reconciler.handoff import report_body
from tests.scripted import script  # noqa: F401 - fixture
from tests.tenancy import TENANT_ID, cli_run, make_tenant, oid, plan_of, store

HOSTILE = ("\x1b[31mred\x1b[0m\r\n::set-output name=pwned::1\n```\n</details><img src=x>"
           "\n@everyone \u202eevil")
ALICE = oid("alice@contoso.com")


def assert_inert(output: str) -> None:
    assert "\x1b" not in output and "\r" not in output and "\u202e" not in output
    assert not any(line.lstrip().startswith("::") for line in output.splitlines())
    assert not any(line.strip().startswith("```") for line in output.splitlines())
    assert not any(line.startswith("@everyone") for line in output.splitlines())


def test_a_graph_error_message_in_a_failed_outcome_is_one_escaped_line(tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: Architect}\n"})
    script.answer(400, "PATCH", f"/users/{ALICE}$", "before", times=-1, message=HOSTILE)
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert_inert(result.output)
    failed = [line for line in result.output.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1  # the message's newlines did not make lines of their own
    assert "\\x1b[31mred" in failed[0] and "\\n::set-output" in failed[0]
    assert "\\u202eevil" in failed[0]


def hostile_lock(folder, expires: str) -> None:
    plan_of(folder)  # the emulator's state exists
    store(folder).put_item(TENANT_ID, "extension", LOCK_NAME, {
        "@odata.type": "#microsoft.graph.openTypeExtension", "id": LOCK_NAME,
        "extensionName": LOCK_NAME, "holder": HOSTILE, "token": "theirs",
        "acquiredAt": "2020-01-01T00:00:00Z", "expiresAt": expires})


def test_a_hostile_lock_holder_is_named_in_one_escaped_error_line(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: Architect}\n"})
    hostile_lock(folder, "2999-01-01T00:00:00Z")
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert_inert(result.output)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "locked by another apply: \\x1b[31mred" in errors[0]
    assert store(folder).get_object(ALICE)["jobTitle"] == "Engineer"  # nothing was written


def test_a_warning_about_a_hostile_expired_holder_is_logged_escaped(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: Architect}\n"})
    hostile_lock(folder, "2000-01-01T00:00:00Z")
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert_inert(result.output)
    warned = [line for line in result.output.splitlines() if "taking over" in line]
    assert len(warned) == 1 and warned[0].startswith("WARNING: ")
    assert store(folder).get_object(ALICE)["jobTitle"] == "Architect"


def test_the_apply_report_keeps_hostile_failed_lines_inside_their_fence():
    log = ("failed: alice@contoso.com profile update jobTitle: ```` </details> \x1b[2J\n"
           "Apply complete: 0 applied, 0 already so, 1 failed, 0 unknown, 0 skipped.\n")
    body = report_body("tenants/x", 1, log, None)
    fences = [line for line in body.splitlines() if re.fullmatch(r"`{3,}(text)?", line)]
    assert fences == ["`````text", "`````"]  # longer than the line's own backtick run
    assert "\x1b" not in body and "\\x1b[2J" in body


def test_a_tenant_folder_named_like_a_workflow_command_is_listed_inert(tmp_path, monkeypatch):
    for name in ("::set-output name=x::1", "contoso"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "tenant.yaml").write_text("tenant: {}\n")
    monkeypatch.chdir(tmp_path)
    result = cli_run("ci", "tenants", "--root", ".")
    assert result.exit_code == 0, result.output
    assert_inert(result.output)
    assert len(result.output.splitlines()) == 2


def test_a_hostile_key_in_a_user_file_is_reported_escaped(tmp_path):
    folder = make_tenant(tmp_path, {"alice": 'userPrincipalName: alice@contoso.com\n'
                                             '"\\e[2J\\n::set-output name=x::1": true\n'})
    result = cli_run("validate", str(folder))
    assert result.exit_code == 1
    assert_inert(result.output)
    problems = [line for line in result.output.splitlines() if "alice.yaml" in line]
    assert len(problems) == 1 and "\\x1b[2J\\n::set-output" in problems[0]
