"""`reconciler import`: files for live users, and a plan right after shows no changes."""

from __future__ import annotations

import json
import shutil

import yaml

from reconciler.emulator.generate import generate_seed
from tests.conftest import DEMO
from tests.tenancy import TENANT_YAML, cli_run


def empty_tenant(root, seed_file=None, seed=None):
    folder = root / "imported"
    (folder / "users").mkdir(parents=True)
    if seed_file:
        # import writes user files; tenant.yaml's own settings are not imported
        (folder / "tenant.yaml").write_text(
            (DEMO / "tenant.yaml").read_text().split("\nsettings:")[0] + "\n")
        shutil.copy(seed_file, folder / "emulator-seed.json")
    else:
        (folder / "tenant.yaml").write_text(TENANT_YAML.format(
            tenant_id=seed["tenant"]["id"], memberships="authoritative", max_changes=100000,
            max_removals=100, floor=5, protected=""))
        (folder / "emulator-seed.json").write_text(json.dumps(seed))
    return folder


def test_import_of_the_demo_tenant_round_trips(tmp_path):
    folder = empty_tenant(tmp_path, DEMO / "emulator-seed.json")
    result = cli_run("import", "--tenant", str(folder))
    assert result.exit_code == 0, result.output
    files = sorted((folder / "users").glob("*.yaml"))
    assert len(files) == 26
    boardroom = yaml.safe_load((folder / "users" / "boardroom.yaml").read_text())
    assert boardroom["mailbox"]["type"] == "shared"  # as seeded; the demo files make it a room
    projector = yaml.safe_load((folder / "users" / "projector.yaml").read_text())
    assert projector["mailbox"]["type"] == "equipment"
    noah = yaml.safe_load((folder / "users" / "noah.bennett.yaml").read_text())
    assert noah["manager"] == "rachel.green@northwindtraders.com"
    assert noah["groups"] == ["All Staff", "Finance", "Sales", "Sales Team", "VPN Users"]
    assert "All Employees (dynamic)" not in str(noah)  # not manageable from a file
    assert (folder / "users" / "noah.bennett.yaml").read_text().startswith(
        "# yaml-language-server: $schema=")
    assert cli_run("validate", str(folder)).exit_code == 0
    plan = cli_run("plan", str(folder), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.stdout


def test_import_of_a_generated_1000_user_tenant_round_trips(tmp_path):
    seed = generate_seed(users=1000, groups=120, memberships=4000, seed=9)
    folder = empty_tenant(tmp_path, seed=seed)
    assert cli_run("import", "--tenant", str(folder)).exit_code == 0
    assert len(list((folder / "users").glob("*.yaml"))) == 1000
    plan = cli_run("plan", str(folder), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output[-2000:]


def test_import_one_user_and_leave_existing_files_alone(tmp_path):
    folder = empty_tenant(tmp_path, DEMO / "emulator-seed.json")
    mine = folder / "users" / "mine.yaml"
    mine.write_text("userPrincipalName: olivia.hart@northwindtraders.com\n")
    result = cli_run("import", "--tenant", str(folder), "--user",
                     "olivia.hart@northwindtraders.com", "--user", "mei.chen@northwindtraders.com")
    assert result.exit_code == 0
    assert sorted(p.name for p in (folder / "users").glob("*.yaml")) == ["mei.chen.yaml",
                                                                       "mine.yaml"]
    assert mine.read_text() == "userPrincipalName: olivia.hart@northwindtraders.com\n"
    assert "1 user(s) already have a file" in result.stderr
    unknown = cli_run("import", "--tenant", str(folder), "--user", "zed@northwindtraders.com")
    assert unknown.exit_code == 1 and "no such user" in unknown.stderr
