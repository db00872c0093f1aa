"""From tenant.yaml to live clients: a real tenant, a served emulator, or an in-process one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from reconciler.desired.model import TenantConfig
from reconciler.graph.auth import NoAuth, msal_auth
from reconciler.graph.client import GRAPH_ROOT, GraphClient
from reconciler.graph.errors import AuthError
from reconciler.graph.exchange import EXCHANGE_ROOT, ExchangeClient
from reconciler.graph.retry import RetryPolicy
from reconciler.graph.sender import Sender, TokenProvider
from reconciler.graph.sharepoint import SharePointClient

GRAPH_URL_VARIABLE = "RECONCILER_GRAPH_URL"
SEED_FILE = "emulator-seed.json"
TIMEOUT = httpx.Timeout(60.0, connect=4.0)  # an unreachable host fails within seconds
POLICY = RetryPolicy()  # every client's retry policy (tests swap in a faster one)
LOOPBACK = ("http://127.0.0.1", "http://localhost", "http://[::1]")


@dataclass
class Connection:
    graph: GraphClient
    exchange: ExchangeClient
    http: httpx.Client
    emulator: object | None = None  # the in-process Emulator, when there is one
    lock: Any = None  # the tenant apply lock (apply/lock.py) while an apply holds it
    sharepoint: SharePointClient | None = None

    def close(self) -> None:
        """Give back the tenant lock (if held), then close the connection."""
        lock, self.lock = self.lock, None
        try:
            if lock is not None:
                lock.release()
        finally:
            self.http.close()


def graph_url(config: TenantConfig, environ: Mapping[str, str] | None = None) -> str:
    env = environ if environ is not None else os.environ
    return env.get(GRAPH_URL_VARIABLE) or config.graph_url


PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target", "pull_request_review",
                       "pull_request_review_comment")


def client_id_for(config: TenantConfig, *, write: bool,
                  environ: Mapping[str, str] | None = None) -> str:
    """The app to sign in as: auth.clientId (read-only: plan, drift) or auth.writeClientId
    (apply). From a pull request (GITHUB_EVENT_NAME), writing is refused, and so is
    planning with an app that may write (the write app, or a lone clientId)."""
    env = environ if environ is not None else os.environ
    event = env.get("GITHUB_EVENT_NAME", "")
    read, written = config.client_id or "", config.write_client_id or config.client_id or ""
    if event in PULL_REQUEST_EVENTS and config.auth_method != "none":
        where = config.source.file
        if write:
            raise AuthError(f"refused: a {event} run never writes to the tenant "
                            f"(GITHUB_EVENT_NAME={event}); apply runs after the merge, in the "
                            "protected environment")
        if not config.write_client_id or config.write_client_id == read:
            raise AuthError(f"refused: a {event} run may sign in only as the read-only app, "
                            f"and {where} does not name one apart from the write app; set "
                            "auth.clientId to the read-only app and auth.writeClientId to the "
                            "write app (README: Use it in GitHub)")
    return written if write else read


def connect(config: TenantConfig, *, read_only: bool, concurrency: int | None = None,
            environ: Mapping[str, str] | None = None,
            policy: RetryPolicy | None = None, write_identity: bool = False) -> Connection:
    """Clients for the tenant `config` names; `read_only` refuses every write (plan).
    A writable connection, or `write_identity` (a plan an apply follows), signs in as the
    write app (auth.writeClientId); any other as the read-only one (auth.clientId)."""
    client_id = client_id_for(config, write=write_identity or not read_only,
                              environ=environ)
    policy = policy or POLICY
    env = dict(environ if environ is not None else os.environ)
    url = graph_url(config, env)
    emulator = None
    graph_root, exchange_root = GRAPH_ROOT, config.exchange_url or EXCHANGE_ROOT
    if url.startswith("emulator:"):
        from reconciler.emulator.app import Emulator
        from reconciler.emulator.transport import InProcessTransport

        database = config.folder / url.removeprefix("emulator:")
        seed = config.folder / SEED_FILE
        emulator = Emulator(database, seed=seed if seed.is_file() else None, anonymous=True,
                            tenant={"id": config.tenant_id, "domain": config.domain})
        http = httpx.Client(transport=InProcessTransport(emulator), timeout=TIMEOUT)
        exchange_root = EXCHANGE_ROOT
    elif url.startswith(LOOPBACK):
        from reconciler.emulator.transport import RedirectingTransport

        http = httpx.Client(transport=RedirectingTransport(url), timeout=TIMEOUT)
        exchange_root = EXCHANGE_ROOT
    else:
        http = httpx.Client(timeout=TIMEOUT)
        graph_root = url.rstrip("/") + "/v1.0"
    tokens: TokenProvider
    if config.auth_method == "none":
        tokens = NoAuth()
    else:
        tokens = msal_auth(config.auth_method, client_id, config.tenant_id, http, env)
    graph = GraphClient(http, tokens, root=graph_root, read_only=read_only,
                        concurrency=concurrency or config.concurrency,
                        sender=Sender(http, tokens, "graph", policy=policy))
    exchange = ExchangeClient(http, tokens, config.tenant_id, root=exchange_root,
                              read_only=read_only,
                              sender=Sender(http, tokens, "exchange", policy=policy))
    sharepoint = SharePointClient(http, tokens, auth_method=config.auth_method,
                                  read_only=read_only, policy=policy)
    return Connection(graph, exchange, http, emulator, sharepoint=sharepoint)


def emulator_database(config: TenantConfig) -> Path | None:
    url = graph_url(config)
    return config.folder / url.removeprefix("emulator:") if url.startswith("emulator:") else None
