"""Reviewed = applied, played on a real git repository: a pull request is planned (artifact
and comment), merged, and the apply job applies that very artifact, refusing when the merged
folder or the live tenant moved, and reports back. `gh` and the Actions environment are
stubbed at the process boundary only (tests/gh_stub.py, environment variables)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.emulator.store import Store
from tests.conftest import REPO

TENANT = "tenants/contoso"
NAME = "plan-tenants-contoso"
TENANT_YAML = """\
tenant: {id: 11111111-2222-4333-8444-555555555555, domain: contoso.onmicrosoft.com}
graph: {url: "emulator:unused.db"}
auth: {method: none}
"""


def user(name: str, title: str = "Engineer") -> str:
    return (f"userPrincipalName: {name}@contoso.onmicrosoft.com\n"
            f"profile: {{displayName: {name.title()}, mailNickname: {name}, "
            f"jobTitle: {title}}}\n")


class Loop:
    """The repository, the emulated tenant, and the GitHub side (stub state)."""

    def __init__(self, root: Path) -> None:
        self.repo, self.stub, self.db = root / "repo", root / "gh", root / "tenant.db"
        self.repo.mkdir()
        self.stub.mkdir()
        (self.stub / "artifacts").mkdir()
        bin_dir = root / "bin"
        bin_dir.mkdir()
        gh = bin_dir / "gh"
        gh.write_text(f"#!{sys.executable}\n" + (REPO / "tests" / "gh_stub.py").read_text())
        gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("RECONCILER_", "GITHUB_", "ACTIONS_"))}
        self.env.update({
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "GH_STUB": str(self.stub),
            "PYTHONPATH": str(REPO), "RECONCILER_GRAPH_URL": f"emulator:{self.db}",
            "GITHUB_REPOSITORY": "acme/identity", "GITHUB_SERVER_URL": "https://github.com",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@x"})
        self.git("init", "-q", "-b", "main")
        self.write({"tenant.yaml": TENANT_YAML, "users/a.yaml": user("a")})
        self.commit("tenant contoso")
        done = self.tool("apply", TENANT, "--auto-approve")
        assert done.returncode == 0, done.stderr

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.repo, check=True, capture_output=True,
                              text=True, env=self.env).stdout.strip()

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            path = self.repo / TENANT / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-qm", message)
        return self.git("rev-parse", "HEAD")

    def tool(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=self.repo,
                              capture_output=True, text=True, timeout=300,
                              env={**self.env, **env})

    def users(self) -> list[str]:
        return sorted(u["userPrincipalName"].split("@")[0]
                      for u in Store(self.db).all_objects("user"))

    def state(self, name: str) -> dict:
        path = self.stub / name
        return json.loads(path.read_text()) if path.is_file() else {}

    def open_pr(self, number: int, files: dict[str, str]) -> str:
        """A branch off main with `files`, planned as the plan workflow does it."""
        self.git("checkout", "-q", "-b", f"pr{number}", "main")
        self.write(files)
        head = self.commit(f"change #{number}")
        self.git("checkout", "-q", "--detach", "main")  # refs/pull/N/merge, as checkout does
        self.git("merge", "-q", "--no-ff", f"pr{number}", "-m", "preview")
        run_id = str(500 + number)
        pr_env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_RUN_ID": run_id}
        planned = self.tool("plan", TENANT, "--format", "json", "--detailed-exitcode", **pr_env)
        assert planned.returncode == 2, planned.stderr
        (self.repo.parent / "plan.json").write_text(planned.stdout)
        (self.repo.parent / "plan.err").write_text(planned.stderr)
        artifact = self.stub / "artifacts" / run_id / NAME
        saved = self.tool("ci", "save-plan", TENANT, "--plan", "../plan.json", "--out",
                          str(artifact), "--pr", str(number), "--head-sha", head, **pr_env)
        assert saved.returncode == 0 and saved.stdout.strip() == NAME, saved.stderr
        body = self.tool("ci", "comment-body", "../plan.json", "--log", "../plan.err",
                         "--tenant-dir", TENANT, "--artifact", NAME, **pr_env)
        (self.repo.parent / "comment.md").write_text(body.stdout)
        posted = self.tool("ci", "comment", "../comment.md", "--pr", str(number), **pr_env)
        assert posted.returncode == 0, posted.stderr
        runs = self.state("runs.json")
        runs[head] = [{"databaseId": int(run_id), "status": "completed",
                       "conclusion": "success", "createdAt": "2026-11-23T10:00:00Z"}]
        (self.stub / "runs.json").write_text(json.dumps(runs))
        self.git("checkout", "-q", "main")
        return head

    def merge(self, number: int, head: str) -> str:
        self.git("merge", "-q", "--no-ff", f"pr{number}", "-m", f"Merge pull request #{number}")
        merged = self.git("rev-parse", "HEAD")
        pulls = self.state("pulls.json")
        pulls[merged] = [{"number": number, "merged_at": "2026-11-23T11:00:00Z",
                          "merge_commit_sha": merged, "head": {"sha": head}}]
        (self.stub / "pulls.json").write_text(json.dumps(pulls))
        return merged

    def apply_job(self, merged: str) -> tuple[int, str]:
        """The apply workflow's steps, in order; returns (exit code, what was reported)."""
        env = {"GITHUB_EVENT_NAME": "push", "GITHUB_RUN_ID": "900", "GITHUB_SHA": merged}
        reviewed = self.repo.parent / "reviewed"
        summary = self.repo.parent / "summary.md"
        log = self.repo.parent / "apply.log"
        steps = [("ci", "fetch-plan", TENANT, "--commit", merged, "--out", str(reviewed)),
                 ("ci", "check-plan", TENANT, "--artifact", str(reviewed), "--summary",
                  str(summary)),
                 ("apply", TENANT, "--plan", str(reviewed / "plan.json"))]
        code, output = 0, ""
        for step in steps:
            done = self.tool(*step, **env)
            output += done.stdout + done.stderr
            assert "Traceback" not in done.stderr
            if done.returncode != 0:
                code = done.returncode
                break
        log.write_text(output)
        report = self.tool("ci", "report", TENANT, "--exit-code", str(code), "--log", str(log),
                           "--artifact", str(reviewed), "--commit", merged, **env)
        assert report.returncode == 0, report.stderr
        return code, report.stdout


@pytest.fixture
def loop(tmp_path):
    return Loop(tmp_path)


def test_the_reviewed_plan_is_the_applied_plan_and_the_result_goes_back(loop):
    head = loop.open_pr(7, {"users/b.yaml": user("b")})
    thread = loop.state("comments.json")["7"]
    assert len(thread) == 1
    assert thread[0]["body"].startswith(f"<!-- reconciler:plan:{TENANT} -->\n")
    assert "+ user: b@contoso.onmicrosoft.com" in thread[0]["body"]
    assert loop.users() == ["a"]  # a pull request writes nothing

    merged = loop.merge(7, head)
    code, report = loop.apply_job(merged)
    assert code == 0, report
    assert loop.users() == ["a", "b"]
    summary = (loop.repo.parent / "summary.md").read_text()
    assert "Plan reviewed on pull request #7" in summary and "b@contoso" in summary
    assert ":white_check_mark: applied" in report and "Apply complete: 1 applied" in report
    thread = loop.state("comments.json")["7"]
    assert [c["body"].split("\n", 1)[0] for c in thread] == [
        f"<!-- reconciler:plan:{TENANT} -->", f"<!-- reconciler:apply:{TENANT} -->"]
    assert loop.state("commit_comments.json")[merged] == [report]
    calls = [json.loads(line) for line in (loop.stub / "calls.log").read_text().splitlines()]
    assert ["run", "download", "507", "--repo", "acme/identity", "--name", NAME, "--dir",
            str(loop.repo.parent / "reviewed")] in calls


def test_a_folder_changed_on_main_after_the_review_is_refused(loop):
    head = loop.open_pr(8, {"users/c.yaml": user("c")})
    loop.write({"users/a.yaml": user("a", "Director")})  # main moves meanwhile
    loop.commit("direct change on main")
    merged = loop.merge(8, head)
    code, report = loop.apply_job(merged)
    assert code == 1
    assert "is not the folder that was planned and reviewed" in report
    assert ":no_entry: not applied" in report
    assert loop.users() == ["a"]  # nothing was applied
    assert "not applied" in loop.state("comments.json")["8"][-1]["body"]


def test_a_tenant_that_moved_after_the_review_is_refused(loop, tmp_path):
    head = loop.open_pr(9, {"users/d.yaml": user("d", "Clerk")})
    # someone makes d in the portal, with another title, before the merge
    elsewhere = tmp_path / "elsewhere"
    subprocess.run(["cp", "-r", str(loop.repo / TENANT), str(elsewhere)], check=True)
    (elsewhere / "users" / "d.yaml").write_text(user("d", "Portal"))
    done = loop.tool("apply", str(elsewhere), "--auto-approve")
    assert done.returncode == 0, done.stderr
    merged = loop.merge(9, head)
    code, report = loop.apply_job(merged)
    assert code == 1
    assert "the tenant changed since the plan was made" in report
    assert ":no_entry: not applied" in report


def test_a_commit_that_was_not_a_pull_request_is_refused(loop):
    loop.write({"users/e.yaml": user("e")})
    pushed = loop.commit("pushed straight to main")
    code, report = loop.apply_job(pushed)
    assert code == 1 and "did not come from a pull request" in report
    assert loop.users() == ["a"]


def test_a_pull_request_whose_plan_left_no_artifact_hears_why(loop):
    head = loop.open_pr(10, {"users/f.yaml": user("f")})
    shutil.rmtree(loop.stub / "artifacts" / "510")  # its plan failed: nothing was kept
    merged = loop.merge(10, head)
    code, report = loop.apply_job(merged)
    assert code == 1 and "left no plan for tenants/contoso" in report
    assert "not applied" in loop.state("comments.json")["10"][-1]["body"]
    assert loop.users() == ["a"]
