"""`reconciler emulator serve` as a user runs it: a real process on loopback."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx


def test_serve_answers_graph_on_loopback(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--db",
         str(tmp_path / "t.db"), "--port", "0", "--anonymous"],
        stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        origin = re.search(r"http://127\.0\.0\.1:\d+", line).group()
        reply = httpx.get(f"{origin}/v1.0/users?$select=id", timeout=10)
        assert reply.status_code == 200 and reply.json()["value"] == []
        roles = httpx.get(f"{origin}/v1.0/roleManagement/directory/roleDefinitions").json()
        assert "Global Administrator" in {r["displayName"] for r in roles["value"]}
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "t.db").exists()


def test_serve_requires_tokens_unless_anonymous(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--db",
         str(tmp_path / "t.db"), "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        origin = re.search(r"http://127\.0\.0\.1:\d+", process.stderr.readline()).group()
        assert httpx.get(f"{origin}/v1.0/users").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
