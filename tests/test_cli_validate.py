"""`reconciler validate` from the outside: exit codes, streams, help."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from reconciler.cli import cli
from tests.conftest import DEMO


def test_the_demo_tenant_is_valid():
    result = CliRunner().invoke(cli, ["validate", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert "valid (28 users)" in result.stdout
    assert "reference checks" in result.stderr and "skipped" in result.stderr


def test_problems_go_to_stderr_and_exit_1(tenant_folder):
    folder = tenant_folder({"users/a.yaml": "userPrincipalName: a@contoso.com\nstate: gone\n"})
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{folder}/users/a.yaml:2:1: state:" in result.stderr
    assert "1 problem found; nothing was sent." in result.stderr


def test_usage_errors_exit_1_not_clicks_2(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["validate"]).exit_code == 1
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 1
    assert runner.invoke(cli, ["validate", "--no-such-flag", str(tmp_path)]).exit_code == 1
    missing = runner.invoke(cli, ["validate", str(tmp_path / "absent")])
    assert missing.exit_code == 1 and "no such folder" in missing.stderr


def test_the_installed_command_exits_1_on_usage_errors():
    done = subprocess.run([sys.executable, "-m", "reconciler", "validate"], capture_output=True)
    assert done.returncode == 1
    assert b"Missing argument" in done.stderr


def test_help_explains_with_an_example():
    for args in (["--help"], ["validate", "--help"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0
        assert "Example:" in result.stdout


def test_a_secret_value_is_never_echoed(tenant_folder):
    secret = "abc8Q~Zx1yW2vU3tS4rQ5pO6nM7lK8jI9hG0fE1d"
    folder = tenant_folder({"users/a.yaml": (
        f"userPrincipalName: a@contoso.com\nprofile:\n  jobTitle: {secret}\n  city: 5\n"
        f"extensionAttributes:\n  extensionAttribute1: [{secret}]\n"
    )})
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 1
    assert secret not in result.output
    assert "looks like a secret" in result.stderr
