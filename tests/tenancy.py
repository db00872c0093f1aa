"""Building tenant folders backed by a seeded in-process emulator, and running the CLI."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.emulator.store import Store
from reconciler.reconcile import run_plan

DOMAIN = "contoso.com"
TENANT_ID = "11111111-2222-4333-8444-555555555555"
E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
YAMMER = "7547a3fe-08ee-4ccb-b430-5077c5041653"
SWAY = "a23b959c-7ce8-4e57-9140-b90eb88a9e97"
EXCHANGE = "efb87545-963c-4e0d-99df-69c6916d9eb0"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"


def oid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def small_seed() -> dict[str, Any]:
    """alice (E3, Engineering, User Administrator, manager bob), bob, carol (synced),
    dave (E5 through a group), erin (Global Administrator); groups of every kind."""
    def user(name: str, **props: Any) -> dict[str, Any]:
        upn = f"{name}@{DOMAIN}"
        return {"id": oid(upn), "userPrincipalName": upn, "displayName": name.title(),
                "mailNickname": name, "mail": upn, "accountEnabled": True,
                "usageLocation": "US", **props}

    def group(name: str, members: list[str], **props: Any) -> dict[str, Any]:
        return {"id": oid(f"group:{name}"), "displayName": name, "groupTypes": [],
                "mailEnabled": False, "securityEnabled": True, "mail": None,
                "members": [oid(f"{m}@{DOMAIN}") for m in members], **props}

    return {
        "tenant": {"id": TENANT_ID, "domain": "contoso.onmicrosoft.com", "domains": [DOMAIN]},
        "subscribedSkus": [
            {"skuId": E3, "skuPartNumber": "SPE_E3",
             "prepaidUnits": {"enabled": 3, "suspended": 0, "warning": 0},
             "servicePlans": [
                 {"servicePlanId": EXCHANGE, "servicePlanName": "EXCHANGE_S_ENTERPRISE"},
                 {"servicePlanId": YAMMER, "servicePlanName": "YAMMER_ENTERPRISE"},
                 {"servicePlanId": SWAY, "servicePlanName": "SWAY"}]},
            {"skuId": E5, "skuPartNumber": "SPE_E5",
             "prepaidUnits": {"enabled": 2, "suspended": 0, "warning": 0},
             "servicePlans": [{"servicePlanId": EXCHANGE,
                               "servicePlanName": "EXCHANGE_S_ENTERPRISE"}]},
        ],
        "users": [
            user("alice", jobTitle="Engineer", department="R&D", city="Oslo",
                 employeeHireDate="2024-03-01T00:00:00Z", ageGroup="Adult",
                 manager=oid(f"bob@{DOMAIN}"),
                 onPremisesExtensionAttributes={"extensionAttribute1": "cc-1"},
                 assignedLicenses=[{"skuId": E3, "disabledPlans": [YAMMER]}]),
            user("bob", jobTitle="Manager"),
            user("carol", jobTitle="Clerk", onPremisesSyncEnabled=True,
                 onPremisesImmutableId="Y2Fyb2w="),
            user("dave", licenseAssignmentStates=[{"skuId": E5, "disabledPlans": [],
                                                   "assignedByGroup": oid("group:Licensed"),
                                                   "state": "Active"}]),
            user("erin"),
        ],
        "groups": [
            group("Engineering", ["alice"]),
            group("Oncall", ["bob"], isAssignableToRole=True),
            group("Staff", ["alice", "bob"], groupTypes=["Unified"], mailEnabled=True,
                  securityEnabled=False, mail=f"staff@{DOMAIN}"),
            group("Announcements", [], mailEnabled=True, securityEnabled=False,
                  mail=f"announce@{DOMAIN}"),
            group("Approvers", ["alice"], mailEnabled=True, mail=f"approvers@{DOMAIN}"),
            group("Everyone", ["alice", "bob", "carol"], groupTypes=["DynamicMembership"],
                  membershipRule="true"),
            group("Badge", ["alice"], onPremisesSyncEnabled=True),
            {**group("Twin", []), "id": oid("group:Twin-1")},
            {**group("Twin", []), "id": oid("group:Twin-2")},
            group("Licensed", ["dave"]),
        ],
        "roleAssignments": [
            {"id": "alice-user-admin-1", "roleDefinitionId": USER_ADMIN,
             "principalId": oid(f"alice@{DOMAIN}"), "directoryScopeId": "/"},
            {"id": "oncall-helpdesk-1", "roleDefinitionId": HELPDESK,
             "principalId": oid("group:Oncall"), "directoryScopeId": "/"},
            {"id": "erin-global-admin-1", "roleDefinitionId": GLOBAL_ADMIN,
             "principalId": oid(f"erin@{DOMAIN}"), "directoryScopeId": "/"},
        ],
    }


TENANT_YAML = """\
tenant: {{id: {tenant_id}, domain: contoso.onmicrosoft.com}}
graph: {{url: "emulator:state.db"}}
auth: {{method: none}}
policy:
  memberships: {memberships}
  protectedUsers: [{protected}]
  limits: {{maxChanges: {max_changes}, maxRemovalsPercent: {max_removals}, removalsFloor: {floor}}}
"""


def make_tenant(root: Path, users: dict[str, str], *, seed: dict[str, Any] | None = None,
                memberships: str = "authoritative", max_changes: int = 500,
                max_removals: float = 100, floor: int = 5,
                files: dict[str, bytes] | None = None,
                protected: tuple[str, ...] = ("erin@contoso.com",),
                tenant_extra: str = "") -> Path:
    """`tenant_extra`: more tenant.yaml (e.g. a `defaults:` block) after the policy."""
    folder = root / "tenant"
    (folder / "users").mkdir(parents=True, exist_ok=True)
    (folder / "tenant.yaml").write_text(TENANT_YAML.format(
        tenant_id=TENANT_ID, memberships=memberships, max_changes=max_changes,
        max_removals=max_removals, floor=floor, protected=", ".join(protected))
        + textwrap.dedent(tenant_extra))
    (folder / "emulator-seed.json").write_text(json.dumps(seed or small_seed()))
    for name, text in users.items():
        (folder / "users" / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip())
    for name, data in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def plan_of(folder: Path, *only: str):
    run = run_plan(folder, only)
    run.connection.close()
    return run.plan


def cli_run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=input)


def store(folder: Path) -> Store:
    return Store(folder / "state.db")


def audits(folder: Path) -> list[dict[str, Any]]:
    return store(folder).audits()


def lines(plan) -> list[tuple]:
    return [(c.user.split("@")[0], c.kind, c.op, c.target, c.before, c.after)
            for c in plan.changes]
