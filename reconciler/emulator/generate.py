"""Generated tenants of any size, for tests and benchmarks: deterministic for a given seed."""

from __future__ import annotations

import random
import uuid
from typing import Any

DEPARTMENTS = ("Engineering", "Sales", "Finance", "Support", "Marketing", "Operations", "Legal")
TITLES = ("Engineer", "Manager", "Analyst", "Specialist", "Director", "Associate")
COUNTRIES = (("US", "United States"), ("GB", "United Kingdom"), ("DE", "Germany"),
             ("FR", "France"), ("JP", "Japan"), ("BR", "Brazil"))
SKUS = (
    ("SPE_E3", "05e9a617-0261-4cee-bb44-138d3ef5d965",
     [("EXCHANGE_S_ENTERPRISE", "efb87545-963c-4e0d-99df-69c6916d9eb0"),
      ("YAMMER_ENTERPRISE", "7547a3fe-08ee-4ccb-b430-5077c5041653"),
      ("SWAY", "a23b959c-7ce8-4e57-9140-b90eb88a9e97"),
      ("TEAMS1", "57ff2da0-773e-42df-b2af-ffb7a2317929")]),
    ("SPE_E5", "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
     [("EXCHANGE_S_ENTERPRISE", "efb87545-963c-4e0d-99df-69c6916d9eb0"),
      ("TEAMS1", "57ff2da0-773e-42df-b2af-ffb7a2317929")]),
    ("EXCHANGESTANDARD", "4b9405b0-7788-4568-add1-99614e613b69",
     [("EXCHANGE_S_STANDARD", "9aaf7827-d63c-4b61-89c3-182f06f82e5c")]),
)


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate_seed(users: int = 1000, groups: int = 200, memberships: int = 10_000,
                  domain: str = "contoso.com", seed: int = 7,
                  tenant_id: str = "11111111-2222-4333-8444-555555555555") -> dict[str, Any]:
    """A seed document: `users` users, `groups` groups of every kind, `memberships` links.

    Long because: one recipe, top to bottom, sharing one random generator whose order of
    draws fixes the output for a given seed."""
    rng = random.Random(seed)
    document: dict[str, Any] = {
        "tenant": {"id": tenant_id, "domain": "contoso.onmicrosoft.com", "domains": [domain]},
        "subscribedSkus": [
            {"skuId": sku_id, "skuPartNumber": name,
             "prepaidUnits": {"enabled": users * 2, "suspended": 0, "warning": 0},
             "servicePlans": [{"servicePlanId": p_id, "servicePlanName": p_name,
                               "provisioningStatus": "Success", "appliesTo": "User"}
                              for p_name, p_id in plans]}
            for name, sku_id, plans in SKUS
        ],
        "users": [], "groups": [],
    }
    ids = []
    for n in range(users):
        user_id = _id(rng)
        ids.append(user_id)
        country, country_name = COUNTRIES[n % len(COUNTRIES)]
        user: dict[str, Any] = {
            "id": user_id, "userPrincipalName": f"user{n:05d}@{domain}",
            "displayName": f"User {n:05d}", "givenName": "User", "surname": f"{n:05d}",
            "mailNickname": f"user{n:05d}", "mail": f"user{n:05d}@{domain}",
            "accountEnabled": True, "department": DEPARTMENTS[n % len(DEPARTMENTS)],
            "jobTitle": TITLES[rng.randrange(len(TITLES))], "usageLocation": country,
            "country": country_name, "companyName": "Contoso",
            "employeeId": str(10000 + n), "businessPhones": [f"+1 425 555 {n % 10000:04d}"],
            "assignedLicenses": [{"skuId": SKUS[n % 2][1], "disabledPlans": []}],
        }
        if n > 0:
            user["manager"] = ids[max(0, (n - 1) // 8)]
        document["users"].append(user)
    kinds = (
        {"groupTypes": [], "mailEnabled": False, "securityEnabled": True},
        {"groupTypes": ["Unified"], "mailEnabled": True, "securityEnabled": False},
        {"groupTypes": [], "mailEnabled": True, "securityEnabled": False},
        {"groupTypes": [], "mailEnabled": True, "securityEnabled": True},
        {"groupTypes": ["DynamicMembership"], "mailEnabled": False, "securityEnabled": True,
         "membershipRule": "user.department -eq \"Sales\""},
    )
    group_ids = []
    for n in range(groups):
        group_id = _id(rng)
        group_ids.append(group_id)
        kind = kinds[n % len(kinds)] if n % 10 else kinds[0]
        document["groups"].append({
            "id": group_id, "displayName": f"Group {n:04d}", "mailNickname": f"group{n:04d}",
            "mail": f"group{n:04d}@{domain}" if kind["mailEnabled"] else None,
            "members": [], **kind,
        })
    if ids and group_ids:
        pairs: set[tuple[int, int]] = set()
        target = min(memberships, len(ids) * len(group_ids))
        while len(pairs) < target:
            pairs.add((rng.randrange(len(group_ids)), rng.randrange(len(ids))))
        for group_index, user_index in sorted(pairs):
            document["groups"][group_index]["members"].append(ids[user_index])
    return document
