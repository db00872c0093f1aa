"""`reconciler show`: one user's card from one call or listing per source, on the demo."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from reconciler.emulator.transport import InProcessTransport
from tests.conftest import DEMO
from tests.tenancy import cli_run


def PASSWORDS_OUT(demo):  # noqa: N802 - reads as the option it stands for
    return ("--password-out", str(demo.parent / "passwords.tsv"))


@pytest.fixture
def demo(tmp_path):
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns(".reconciler"))
    return folder


@pytest.fixture
def paths(monkeypatch):
    """Every path the in-process emulator is asked for (observed, not answered by the test)."""
    seen: Counter[str] = Counter()
    original = InProcessTransport.handle_request

    def recording(self, request):
        seen[request.url.path] += 1
        return original(self, request)

    monkeypatch.setattr(InProcessTransport, "handle_request", recording)
    return seen


def test_the_card_of_a_leaver_shows_each_source_once(demo, paths):
    shown = cli_run("show", str(demo), "peter.vance@northwindtraders.com", "--format", "json")
    assert shown.exit_code == 0, shown.output
    card = json.loads(shown.stdout)
    assert card["file"].endswith("leavers/peter.vance.yaml")
    assert [d["deviceName"] for d in card["devices"]] == ["LAPTOP-0042"]
    assert "Peter's iPhone" in [m["detail"] for m in card["authenticationMethods"]]
    assert [s["app"] for s in card["signIns"]] == ["Salesforce"]
    assert card["risk"] is None and card["unavailable"] == {}
    for source in ("/v1.0/auditLogs/signIns", "/v1.0/auditLogs/directoryAudits",
                   "/v1.0/deviceManagement/managedDevices"):
        assert paths[source] == 1, (source, paths)
    assert sum(1 for p in paths if p.startswith("/v1.0/identityProtection/")) == 1


def test_the_card_shows_risk_audits_and_license_changes_after_an_apply(demo):
    applied = cli_run("apply", str(demo), "--auto-approve", *PASSWORDS_OUT(demo))
    assert applied.exit_code == 0, applied.output
    shown = cli_run("show", str(demo), "sam.porter@northwindtraders.com")
    assert shown.exit_code == 0, shown.output
    assert "medium · atRisk" in shown.stdout
    licences = shown.stdout.split("License changes:")[1]
    assert "Change user license" in licences  # the demo apply removed a licence of Sam's
    markdown = cli_run("show", str(demo), "anna.kowalski@northwindtraders.com",
                       "--format", "markdown").stdout
    assert "#### Directory audit" in markdown and "| Add member to role |" in markdown
    assert "Anna's Pixel 8" in markdown


def test_an_unknown_user_is_one_error_line(demo):
    shown = cli_run("show", str(demo), "nobody@northwindtraders.com")
    assert shown.exit_code == 1
    assert shown.stderr.strip().splitlines() == [
        "Error: no user nobody@northwindtraders.com in the tenant (check the "
        "userPrincipalName; a deleted user is in the recycle bin for 30 days)"]
