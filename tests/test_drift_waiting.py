"""Drift tells git moving from the tenant moving: a live value that is what the last apply
wrote is "waiting for apply", never "changed outside git" by the reconciler's own app."""

from __future__ import annotations

import json

from tests.tenancy import cli_run, make_tenant, oid
from tests.test_drift_attribution import portal_client

ALICE = "userPrincipalName: alice@contoso.com\ngroups: [Engineering, Staff, Approvers{more}]\n" \
        "profile: {{jobTitle: {title}}}\n"


def write_alice(folder, title: str, more: str = "") -> None:
    (folder / "users" / "alice.yaml").write_text(ALICE.format(title=title, more=more))


def test_an_unapplied_yaml_edit_is_waiting_for_apply_not_outside_git(tmp_path):
    folder = make_tenant(tmp_path, {"alice": ALICE.format(title="Lead", more=", Oncall")})
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    write_alice(folder, "Principal")  # git moves: a new title, Oncall dropped; not applied
    result = cli_run("drift", str(folder), "--format", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert sorted((w["kind"], w["target"]) for w in report["waiting"]) == [
        ("group", "Oncall"), ("profile", "jobTitle")]
    assert all(w["appliedAt"] for w in report["waiting"])
    assert report["attribution"] == []  # nobody outside git is named, least of all us
    text = cli_run("drift", str(folder)).stdout
    assert "Waiting for apply (git changed after the last apply" in text
    assert "alice@contoso.com profile jobTitle: applied " in text
    assert "Changed outside git" not in text
    markdown = cli_run("drift", str(folder), "--format", "markdown").stdout
    assert "#### :hourglass: Waiting for apply" in markdown


def test_a_change_made_after_the_apply_by_someone_else_is_outside_git(tmp_path):
    folder = make_tenant(tmp_path, {"alice": ALICE.format(title="Lead", more="")})
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    graph, server = portal_client(folder)
    try:
        assert graph.write("PATCH", f"/users/{oid('alice@contoso.com')}",
                           {"jobTitle": "Boss"}).ok
    finally:
        server.shutdown()
    report = json.loads(cli_run("drift", str(folder), "--format", "json").stdout)
    assert report["waiting"] == []
    assert [(a["target"], a["by"]) for a in report["attribution"]] == [
        ("jobTitle", "HR portal")]
