"""The apply audit trail: one JSON line per change, failures included, never a secret."""

from __future__ import annotations

import json

from tests.scripted import script  # noqa: F401
from tests.tenancy import cli_run, make_tenant, oid


def test_an_apply_with_a_failure_in_the_middle_records_every_change(tmp_path, script):  # noqa: F811
    folder = make_tenant(tmp_path, {
        "alice": "userPrincipalName: alice@contoso.com\nprofile: {jobTitle: Lead}\n"
                 "groups: [Engineering, Staff, Approvers, Oncall]\n"
                 "actions: [{id: pw1, do: resetPassword}]\n",
        "bob": "userPrincipalName: bob@contoso.com\nprofile: {city: Bergen}\n"})
    saved = tmp_path / "plan.json"
    assert cli_run("plan", str(folder), "--out", str(saved)).exit_code == 0
    # the tenant refuses the Oncall add at apply time (a saved plan whose facts moved, e.g.
    # Oncall turned dynamic, is refused as a whole before anything is sent)
    script.answer(400, "PATCH", f"/groups/{oid('group:Oncall')}$", when="before",
                  times=-1)
    env = {"GITHUB_SHA": "0123456789abcdef", "GITHUB_ACTOR": "octocat"}
    passwords = tmp_path / "pw.tsv"
    result = cli_run("apply", str(folder), "--plan", str(saved), "--password-out",
                     str(passwords), env=env)
    assert result.exit_code == 1
    assert "failed: alice@contoso.com group add Oncall" in result.stderr
    trail = (folder / ".reconciler" / "audit.jsonl").read_text()
    lines = [json.loads(line) for line in trail.splitlines()]
    records = [r for r in lines if r["outcome"] != "sending"]
    sent = [r for r in lines if r["outcome"] == "sending"]  # each write announced first
    assert {(r["kind"], r["target"]) for r in sent} == \
        {(r["kind"], r["target"]) for r in records}
    assert sorted((r["user"].split("@")[0], r["kind"], r["op"], r["outcome"])
                  for r in records) == [
        ("alice", "action", "invoke", "applied"), ("alice", "group", "add", "failed"),
        ("alice", "profile", "change", "applied"), ("bob", "profile", "add", "applied")]
    failed = next(r for r in records if r["outcome"] == "failed")
    assert "scripted fault" in failed["message"]
    assert all(r["commit"] == "0123456789abcdef" and r["actor"] == "octocat" and
               r["tenant"] == "contoso.onmicrosoft.com" for r in records)
    password = passwords.read_text().split("\t")[2].strip()
    assert password not in trail
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 1  # Oncall fails again
    settled = [line for line in (folder / ".reconciler" / "audit.jsonl").read_text()
               .splitlines() if json.loads(line)["outcome"] != "sending"]
    assert len(settled) == 5


def test_the_trail_file_is_named_in_tenant_yaml(tmp_path):
    folder = make_tenant(tmp_path, {"bob": "userPrincipalName: bob@contoso.com\n"
                                           "profile: {city: Bergen}\n"})
    tenant = folder / "tenant.yaml"
    tenant.write_text(tenant.read_text() + "audit: {file: logs/changes.jsonl}\n")
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    lines = (folder / "logs" / "changes.jsonl").read_text().splitlines()
    assert [json.loads(line)["outcome"] for line in lines] == ["sending", "applied"]
