"""Putting directory objects straight into an emulator's store, for tests that need a
tenant of a given shape (the emulator's own seed-loader semantics)."""

from __future__ import annotations

import uuid
from typing import Any

from reconciler.emulator.app import Emulator
from reconciler.emulator.rules import blank_user

EXCHANGE_SKU = "6fd2c87f-b296-42f0-b197-1e91e994b900"
EXCHANGE_PLAN = "efb87545-963c-4e0d-99df-69c6916d9eb0"


class Seeder:
    def __init__(self, em: Emulator) -> None:
        self.em = em
        self.store = em.store
        self.count = 0

    def user(self, **props: Any) -> str:
        self.count += 1
        data = blank_user()
        data.update({"id": str(uuid.uuid4()), "displayName": f"User {self.count}",
                     "userPrincipalName": f"user{self.count}@contoso.onmicrosoft.com",
                     "mailNickname": f"user{self.count}", "accountEnabled": True,
                     "usageLocation": "US"})
        data.update({k: v for k, v in props.items() if not k.startswith("@")})
        if not data.get("userPrincipalName") or "@" not in data["userPrincipalName"]:
            data["userPrincipalName"] = f"user{self.count}@contoso.onmicrosoft.com"
        with self.store.transaction():
            self.store.put_object("user", data)
        return data["id"]

    def group(self, members: list[str] = (), **props: Any) -> str:
        data = {"id": str(uuid.uuid4()), "displayName": "Group", "description": None,
                "groupTypes": [],
                "mailEnabled": False, "securityEnabled": True, "mail": None}
        data.update({k: v for k, v in props.items() if not k.startswith("@") and
                     not k.endswith("@delta")})
        with self.store.transaction():
            self.store.put_object("group", data)
            for member in members:
                self.store.set_member(data["id"], member, True)
        return data["id"]

    def mailbox_user(self, **props: Any) -> str:
        with self.store.transaction():
            self.store.put_item("tenant", "subscribedSku", EXCHANGE_SKU, {
                "id": EXCHANGE_SKU, "skuId": EXCHANGE_SKU, "skuPartNumber": "ENTERPRISEPACK",
                "capabilityStatus": "Enabled", "appliesTo": "User", "consumedUnits": 0,
                "prepaidUnits": {"enabled": 100, "suspended": 0, "warning": 0},
                "servicePlans": [{"servicePlanId": EXCHANGE_PLAN,
                                  "servicePlanName": "EXCHANGE_S_ENTERPRISE",
                                  "provisioningStatus": "Success", "appliesTo": "User"}]})
        user_id = self.user(**props)
        with self.store.transaction():
            self.store.set_license(user_id, EXCHANGE_SKU, [])
        return user_id

    def sku(self, sku: dict[str, Any]) -> None:
        with self.store.transaction():
            self.store.put_item("tenant", "subscribedSku", sku["skuId"], dict(sku))

    def assign(self, role: str, principal: str, assignment_id: str | None = None) -> str:
        assignment_id = assignment_id or str(uuid.uuid4())
        with self.store.transaction():
            self.store.add_role_assignment({"id": assignment_id, "roleDefinitionId": role,
                                            "principalId": principal, "directoryScopeId": "/"})
        return assignment_id
