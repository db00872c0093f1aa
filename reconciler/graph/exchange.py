"""The Exchange Online admin API (InvokeCommand) over the same retry and sign-in machinery.

A write cmdlet whose reply was lost (or got a 5xx) is read back (`exchange_checks`) before
it is sent again or reported, as a Graph write is; one that no read-back settles after every
retry is a GraphError with code `NoReply`, which the areas record as `unknown`."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.graph.errors import GraphError, ReadOnlyError, UnreachableError
from reconciler.graph.exchange_checks import recheck_for
from reconciler.graph.sender import Sender, TokenProvider

EXCHANGE_ROOT = "https://outlook.office365.com"
READ_CMDLETS = ("Get-", "Search-")
SYSTEM_MAILBOX_ANCHOR = "APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tenant}"
NO_CHANGE_WARNING = "completed successfully but no settings of"


class ExchangeClient:
    """Runs one cmdlet per call and returns its output objects (all pages)."""

    def __init__(self, http: httpx.Client, tokens: TokenProvider, tenant_id: str, *,
                 root: str = EXCHANGE_ROOT, read_only: bool = False,
                 sender: Sender | None = None) -> None:
        self.tenant_id = tenant_id
        self.url = f"{root.rstrip('/')}/adminapi/beta/{tenant_id}/InvokeCommand"
        self.read_only = read_only
        self.sender = sender or Sender(http, tokens, "exchange")
        self.warnings: list[str] = []

    def invoke(self, cmdlet: str, parameters: dict[str, Any] | None = None, *,
               anchor: str | None = None, select: list[str] | None = None) -> list[dict]:
        """Run `cmdlet`; raises GraphError with Exchange's own message on failure."""
        output, warnings = self.run(cmdlet, parameters, anchor=anchor, select=select)
        self.warnings.extend(warnings)
        return output

    def run(self, cmdlet: str, parameters: dict[str, Any] | None = None, *,
            anchor: str | None = None, select: list[str] | None = None
            ) -> tuple[list[dict], list[str]]:
        """Run `cmdlet`: (its output objects, its warnings, e.g. "no settings modified")."""
        write = not cmdlet.startswith(READ_CMDLETS)
        if self.read_only and write:
            raise ReadOnlyError(f"refused {cmdlet}: this client is read-only (plan never writes)")
        recheck = recheck_for(self, cmdlet, parameters or {}, anchor) if write else None
        headers = {
            "X-AnchorMailbox": anchor or SYSTEM_MAILBOX_ANCHOR.format(tenant=self.tenant_id),
            "Prefer": "odata.maxpagesize=1000",
        }
        body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters or {}}}
        url: str | None = self.url + (f"?$select={','.join(select)}" if select else "")
        output: list[dict] = []
        warnings: list[str] = []
        while url:
            try:
                reply = self.sender.send("POST", url, json=body, headers=headers,
                                         recheck=recheck)
            except UnreachableError as exc:
                if not write:
                    raise
                raise GraphError(0, "NoReply", f"{exc}; whether it ran is unknown",
                                 method="POST", path=cmdlet) from exc
            if not reply.ok:
                raise GraphError.from_body(reply.status, reply.body, request_id=reply.request_id,
                                           method="POST", path=cmdlet)
            page = reply.body or {}
            output.extend(page.get("value", []))
            warnings.extend(page.get("@adminapi.warnings", []))
            url = page.get("@odata.nextLink")
        return output, warnings
