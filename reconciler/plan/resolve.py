"""Names in YAML -> live objects: groups, roles, SKUs and plans, users; with candidates."""

from __future__ import annotations

import difflib
import re

from reconciler.live.state import LiveGroup, LiveSku, LiveState

_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
CANDIDATES_SHOWN = 5


class ResolveError(Exception):
    """A reference that names nothing, or more than one thing; the message lists candidates."""


def candidates(word: str, names: list[str]) -> str:
    close = difflib.get_close_matches(word, names, n=CANDIDATES_SHOWN, cutoff=0.5)
    if close:
        return "did you mean: " + ", ".join(close)
    if len(names) <= CANDIDATES_SHOWN * 2:
        return "the tenant has: " + ", ".join(sorted(names)) if names else "the tenant has none"
    return f"none close among {len(names)}"


class Resolver:
    def __init__(self, live: LiveState) -> None:
        self.live = live
        self.groups_by_name: dict[str, list[LiveGroup]] = {}
        self.groups_by_mail: dict[str, LiveGroup] = {}
        for group in live.groups.values():
            self.groups_by_name.setdefault(group.display_name.lower(), []).append(group)
            if group.mail:
                self.groups_by_mail[group.mail.lower()] = group
        self.roles_by_name = {name.lower(): role_id for role_id, name in live.roles.items()}
        self.skus_by_part = {s.part_number.lower(): s for s in live.skus.values()}

    def group(self, ref: str, by: str) -> LiveGroup:
        if by == "id" or (by == "ref" and _UUID.match(ref)):
            found = self.live.groups.get(ref.lower()) or self.live.groups.get(ref)
            if found:
                return found
            if by == "id":
                raise ResolveError(f"no group has id {ref}")
        if by in ("mail", "ref") and "@" in ref:
            found = self.groups_by_mail.get(ref.lower())
            if found:
                return found
            if by == "mail":
                mails = sorted(self.groups_by_mail)
                hint = candidates(ref.lower(), mails)
                raise ResolveError(f"unknown group mail '{ref}' ({hint})")
        matches = self.groups_by_name.get(ref.lower(), [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            listed = "; ".join(f"{g.id}" + (f" ({g.mail})" if g.mail else "")
                               for g in sorted(matches, key=lambda g: g.id))
            raise ResolveError(f"ambiguous group '{ref}': {len(matches)} groups have this name "
                               f"({listed}); name it by {{id: ...}} or its mail address")
        names = sorted({g.display_name for g in self.live.groups.values()})
        raise ResolveError(f"unknown group '{ref}' ({candidates(ref, names)})")

    def role(self, ref: str) -> tuple[str, str]:
        if ref in self.live.roles:
            return ref, self.live.roles[ref]
        role_id = self.roles_by_name.get(ref.lower())
        if role_id:
            return role_id, self.live.roles[role_id]
        names = sorted(self.live.roles.values())
        raise ResolveError(f"unknown directory role '{ref}' ({candidates(ref, names)})")

    def sku(self, part_number: str) -> LiveSku:
        sku = self.skus_by_part.get(part_number.lower())
        if sku is None:
            parts = sorted(s.part_number for s in self.live.skus.values())
            listed = ", ".join(parts) if parts else "no subscriptions"
            raise ResolveError(f"unknown SKU '{part_number}' (the tenant has: {listed})")
        return sku

    def plans(self, sku: LiveSku, names: tuple[str, ...]) -> list[str]:
        by_name = {n.lower(): i for n, i in sku.plans.items()}
        ids = []
        for name in names:
            plan_id = by_name.get(name.lower())
            if plan_id is None:
                raise ResolveError(f"unknown service plan '{name}' in {sku.part_number} "
                                   f"(it has: {', '.join(sorted(sku.plans))})")
            ids.append(plan_id)
        return sorted(ids)
