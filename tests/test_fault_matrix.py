"""The fault matrix: faults aimed at chosen writes, judged from the emulator's audit log and
state (what was written), never from the tool's own reads. After every fault a re-run
converges: nothing lost, nothing written twice, nothing unplanned."""

from __future__ import annotations

from reconciler.live.reader import STATE_EXTENSION
from tests.scripted import script  # noqa: F401 - the fixture
from tests.tenancy import audits, cli_run, make_tenant, oid, plan_of, store

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PHOTO_PUT = r"/users/[^/]+/photo/\$value$"
ALICE = oid("alice@contoso.com")


def activities(folder, name: str) -> list[dict]:
    return [a for a in audits(folder) if a["activityDisplayName"] == name]


def photo_tenant(tmp_path):
    return make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                           "photo: photos/alice.png\n"},
                       files={"photos/alice.png": PNG})


def test_a_photo_upload_whose_reply_is_lost_is_sent_again_and_recorded_once_it_lands(
        tmp_path, script):  # noqa: F811
    folder = photo_tenant(tmp_path)
    script.drop("PUT", PHOTO_PUT, "after", times=2)
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert len(activities(folder, "Update user photo")) == 3  # two replies lost, then one
    assert store(folder).blob(ALICE, "photo") == ("image/png", PNG)
    assert plan_of(folder).changes == []


def test_a_photo_upload_that_never_gets_a_reply_is_not_recorded_as_uploaded(
        tmp_path, script):  # noqa: F811
    folder = photo_tenant(tmp_path)
    script.drop("PUT", PHOTO_PUT, "before", times=-1)
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert "unknown: alice@contoso.com photo add" in result.output
    assert activities(folder, "Update user photo") == []
    assert store(folder).blob(ALICE, "photo") is None
    extension = store(folder).item(ALICE, "extension", STATE_EXTENSION) or {}
    assert "photoSha256" not in extension  # not recorded: the next plan uploads it again
    assert [(c.kind, c.op) for c in plan_of(folder).changes] == [("photo", "add")]
    script.rules.clear()
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert len(activities(folder, "Update user photo")) == 1
    assert plan_of(folder).changes == []
