"""The whole demo under random faults, over HTTP against a served emulator: throttling (429
with Retry-After), 5xx, replies dropped before and after commit, replication lag, and a
token that expires mid-apply. Each run is followed by a re-run that converges, and the
emulator's write log is then compared with that of a clean apply: 0 lost, 0 duplicated and
0 unplanned writes, one-shot actions and generated secrets included."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reconciler.emulator.app import Emulator
from reconciler.emulator.faults import Faults
from reconciler.emulator.server import serve_in_background
from reconciler.graph import connect as connect_module
from reconciler.graph.retry import RetryPolicy
from tests.conftest import DEMO
from tests.tenancy import cli_run

QUICK = RetryPolicy(base_seconds=0.005, cap_seconds=0.05, max_attempts=6,
                    replication_seconds=5.0, settle_seconds=0.0)
LAG = 1.0  # the lag row's replication lag: re-checks settle for longer than it
SETTLED = RetryPolicy(base_seconds=0.005, cap_seconds=0.05, max_attempts=6,
                      replication_seconds=5.0, settle_seconds=LAG + 0.5)
FAULTS = "throttle=0.04,retryafter=0.05s,error5xx=0.04,drop=0.06,commitfail=0.04"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LOCAL_URL = "url: emulator:.reconciler/emulator.db"
CLIENT_ID = "0a1b2c3d-0000-4000-8000-000000000099"


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    monkeypatch.setattr(connect_module, "POLICY", QUICK)


def copy_demo(root: Path) -> Path:
    folder = root / "demo"
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns(".reconciler"))
    return folder


@contextmanager
def served_demo(folder: Path, faults: str = "", *, certificate: str | None = None
                ) -> Iterator[Emulator]:
    """The demo's tenant served on loopback (its seed), tenant.yaml pointed at it; with a
    certificate (PEM), the app signs in through msal (SharePoint takes no other proof)."""
    seed = json.loads((folder / "emulator-seed.json").read_text())
    if certificate:
        seed["applications"] = [{"appId": CLIENT_ID, "displayName": "reconciler demo",
                                 "keyCredentials": [{"key": certificate}]}]
    em = Emulator(folder.parent / "served.db", seed=seed, anonymous=not certificate,
                  faults=Faults.parse(faults), tenant=seed["tenant"])
    origin, server = serve_in_background(em)
    tenant = (folder / "tenant.yaml").read_text().replace(LOCAL_URL, f"url: {origin}")
    if certificate:
        tenant = re.sub(r"method: none[^\n]*", f"method: certificate\n  clientId: {CLIENT_ID}",
                        tenant)
    (folder / "tenant.yaml").write_text(tenant)
    try:
        yield em
    finally:
        server.shutdown()
        server.server_close()


def calm(em: Emulator) -> None:
    """Stop injecting faults (the same Faults object the emulator's throttle holds)."""
    for name in ("throttle", "error5xx", "drop", "commitfail"):
        setattr(em.faults, name, 0.0)


def write_log(em: Emulator) -> Counter:
    """The emulator's writes, each as (activity, target, what it set), with the ids of
    objects created during the run replaced by their names (they differ from run to run)."""
    names = {}
    for kind in ("user", "group"):
        for deleted in (False, True):
            for obj in em.store.all_objects(kind, deleted=deleted):
                names[obj["id"]] = obj.get("userPrincipalName") or obj.get("displayName")

    def named(text: str) -> str:
        return UUID.sub(lambda m: str(names.get(m.group(), m.group())), text)

    log: Counter = Counter()
    for record in em.store.audits():
        target = record["targetResources"][0]
        what = sorted((p["displayName"], named(str(p["newValue"])))
                      for p in target.get("modifiedProperties") or [])
        log[(record["activityDisplayName"], named(str(target.get("userPrincipalName")
                                                      or target.get("displayName")
                                                      or target.get("id"))),
             json.dumps(what))] += 1
    return log


def apply(folder: Path, passwords: Path, env: dict[str, str] | None = None):
    return cli_run("apply", str(folder), "--auto-approve", "--password-out", str(passwords),
                   env=env)


@pytest.fixture(scope="module")
def clean_log(tmp_path_factory) -> tuple[Counter, int]:
    """The write log of the demo applied with no fault (and how many secrets it made)."""
    root = tmp_path_factory.mktemp("clean")
    folder = copy_demo(root)
    with served_demo(folder) as em:
        result = cli_run("apply", str(folder), "--auto-approve", "--password-out",
                         str(root / "pw.tsv"))
        assert result.exit_code == 0, result.output
        return write_log(em), len((root / "pw.tsv").read_text().splitlines())


def converge(folder: Path, em: Emulator, passwords: Path) -> None:
    """After the faulty run: a re-run with no fault finishes, and a plan shows nothing.
    Each run starts once replication has caught up with the last one's writes (runs are
    minutes apart, Graph's lag seconds)."""
    calm(em)
    time.sleep(em.lag)
    again = apply(folder, passwords)
    assert again.exit_code == 0, again.output
    time.sleep(em.lag)
    plan = cli_run("plan", str(folder), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


@pytest.mark.parametrize(("seed", "lag"), [(3, 0.0), (17, 0.0), (42, LAG)])
def test_the_demo_under_random_faults_converges_with_every_write_exactly_once(
        tmp_path, clean_log, seed, lag, monkeypatch):
    """With `lag`, replication lag too: reads by id stale, lists and delta missing new
    objects, 404 on objects just created; a re-check that finds a write not landed reads
    again once replication has settled, before anything is re-sent."""
    if lag:
        monkeypatch.setattr(connect_module, "POLICY", SETTLED)
    expected, secrets = clean_log
    folder = copy_demo(tmp_path)
    passwords = tmp_path / "pw.tsv"
    with served_demo(folder, f"{FAULTS},seed={seed},lag={lag}s") as em:
        faulty = apply(folder, passwords)
        assert faulty.exit_code in (0, 1), faulty.output  # finished, or some writes unknown
        assert "Traceback" not in faulty.output
        struck = dict(em.stats)
        converge(folder, em, passwords)
        got = write_log(em)
    assert got - expected == Counter(), "duplicated or unplanned writes"
    assert expected - got == Counter(), "lost writes"
    assert len(passwords.read_text().splitlines()) == secrets  # each secret delivered once
    assert struck  # the emulator served the faulty run


def test_a_token_that_expires_mid_apply_is_refreshed_through_msal_and_the_apply_goes_on(
        tmp_path, clean_log):
    expected, secrets = clean_log
    from tests.test_auth import certificate

    key_pem, cert_pem, thumbprint = certificate()
    (tmp_path / "key.pem").write_text(key_pem)
    env = {"RECONCILER_CERT_PATH": str(tmp_path / "key.pem"),
           "RECONCILER_CERT_THUMBPRINT": thumbprint}
    folder = copy_demo(tmp_path)
    passwords = tmp_path / "pw.tsv"
    with served_demo(folder, "tokenttl=1s", certificate=cert_pem) as em:
        result = apply(folder, passwords, env=env)
        assert result.exit_code == 0, result.output
        assert "0 failed, 0 unknown, 0 skipped" in result.output
        tokens, expired = em.stats["tokens"], em.stats["expired_tokens"]
        plan = cli_run("plan", str(folder), "--detailed-exitcode", env=env)
        assert plan.exit_code == 0, plan.output
        got = write_log(em)
    assert expired >= 1  # a request met its expired token (401) mid-apply ...
    assert tokens > 3  # ... and msal signed in again: Graph, Exchange, SharePoint, and more
    assert got == expected  # nothing lost, nothing twice, across the refreshes
    assert len(passwords.read_text().splitlines()) == secrets
