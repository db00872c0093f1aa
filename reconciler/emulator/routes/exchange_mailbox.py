"""Set-Mailbox's recipient type, storage quotas and proxy addresses, as Exchange Online
serves them (exchange.py calls these from its Set-Mailbox and Get-Mailbox).

- `-Type Regular|Shared|Room|Equipment` sets RecipientTypeDetails (UserMailbox,
  SharedMailbox, RoomMailbox, EquipmentMailbox) and ResourceType (Room, Equipment or null).
- Quotas take a number with an optional unit (B, KB, MB, GB, TB; no unit = bytes) or
  `Unlimited`, and are reported as Exchange prints a ByteQuantifiedSize:
  "49 GB (52,613,349,376 bytes)". IssueWarningQuota and ProhibitSendQuota may not exceed
  ProhibitSendReceiveQuota.
- EmailAddresses: a typed hashtable `{"@odata.type": "#Exchange.GenericHashTable", "Add": [...],
  "Remove": [...]}` adds and removes entries; a plain list replaces the whole set. `SMTP:` is the
  primary, `smtp:` a secondary; every SMTP address must be in an accepted domain and may belong
  to one recipient only, and the primary cannot be removed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from reconciler.emulator.routes.common import domains
from reconciler.emulator.wire import GraphError

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

TYPES = {"regular": "UserMailbox", "shared": "SharedMailbox", "room": "RoomMailbox",
         "equipment": "EquipmentMailbox"}
RESOURCE_TYPES = {"RoomMailbox": "Room", "EquipmentMailbox": "Equipment"}
QUOTAS = ("IssueWarningQuota", "ProhibitSendQuota", "ProhibitSendReceiveQuota")
GB = 1024 ** 3
DEFAULT_QUOTAS = {"IssueWarningQuota": 98 * GB, "ProhibitSendQuota": 99 * GB,
                  "ProhibitSendReceiveQuota": 100 * GB}
MAX_QUOTA = 2 * 1024 ** 4
UNITS = (("TB", 1024 ** 4), ("GB", GB), ("MB", 1024 ** 2), ("KB", 1024), ("B", 1))
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$", re.IGNORECASE)


def failure(status: int, kind: str, message: str) -> GraphError:
    error = GraphError(status, kind, message)
    error.details = message  # type: ignore[attr-defined]
    return error


def set_type(state: dict[str, Any], value: Any) -> None:
    kind = TYPES.get(str(value).lower())
    if kind is None:
        raise failure(400, "ParameterBindingException",
                      f"Cannot bind parameter 'Type'. Cannot convert value \"{value}\" to type "
                      "\"Microsoft.Exchange.Data.Directory.Management.ConvertibleMailboxSubType"
                      "\". Error: \"Unable to match the identifier name to a valid enumerator "
                      "name. Specify one of the following enumerator names and try again: "
                      "Regular, Room, Equipment, Shared\"")
    state["RecipientTypeDetails"] = kind


def parse_size(name: str, value: Any) -> int | None:
    """Bytes, or None for Unlimited."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = str(value or "")
    if text.strip().lower() == "unlimited":
        return None
    found = _SIZE.match(text)
    if not found:
        raise failure(400, "ParameterBindingException",
                      f"Cannot process argument transformation on parameter '{name}'. Cannot "
                      f"convert value \"{value}\" to type \"Microsoft.Exchange.Data.Unlimited`1"
                      "[Microsoft.Exchange.Data.ByteQuantifiedSize]\".")
    factor = dict(UNITS)[(found.group(2) or "B").upper()]
    size = int(float(found.group(1)) * factor)
    if found.group(2) is None or found.group(2).upper() == "B":
        size = -(-size // 1024) * 1024 if size % 1024 else size  # whole kilobytes
    if size > MAX_QUOTA:
        raise failure(400, "ParameterBindingException",
                      f"Cannot validate argument on parameter '{name}'. The value must be "
                      "less than or equal to 2 TB (2,199,023,255,552 bytes).")
    return size


def show_size(size: int | None) -> str:
    """Exchange's rendering: '49.5 GB (53,150,220,288 bytes)', or 'Unlimited'."""
    if size is None:
        return "Unlimited"
    unit, factor = next(((u, f) for u, f in UNITS if size >= f), ("B", 1))
    amount = f"{size / factor:.3f}".rstrip("0").rstrip(".")
    return f"{amount} {unit} ({size:,} bytes)"


def set_quotas(state: dict[str, Any], params: dict[str, Any]) -> None:
    quotas = {name: state.get(name, DEFAULT_QUOTAS[name]) for name in QUOTAS}
    for name in QUOTAS:
        if name in params:
            quotas[name] = parse_size(name, params[name])
    limit = quotas["ProhibitSendReceiveQuota"]
    for name in ("IssueWarningQuota", "ProhibitSendQuota"):
        if limit is not None and (quotas[name] is None or quotas[name] > limit):
            raise failure(400, "RecipientTaskException",
                          f"The value of property '{name}' must be less than or equal to that "
                          "of property 'ProhibitSendReceiveQuota'. "
                          f"{name}: '{show_size(quotas[name])}', ProhibitSendReceiveQuota: "
                          f"'{show_size(limit)}'.")
    state.update(quotas)
    if "UseDatabaseQuotaDefaults" in params:
        state["UseDatabaseQuotaDefaults"] = bool(params["UseDatabaseQuotaDefaults"])


def _entries(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _normal(entry: str) -> str:
    """An entry with its prefix: no prefix means smtp (secondary)."""
    prefix, _, rest = entry.partition(":")
    return entry if rest and "@" not in prefix else f"smtp:{entry}"


def addresses(em: Emulator, user: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """EmailAddresses: the primary first, then the secondaries and other types."""
    primary = user.get("mail") or user["userPrincipalName"]
    others = [a for a in state.get("EmailAddresses") or []
              if a.lower() != f"smtp:{primary}".lower()]
    return [f"SMTP:{primary}", *others]


def set_addresses(em: Emulator, user: dict[str, Any], state: dict[str, Any],
                  value: Any) -> dict[str, Any] | None:
    """Apply -EmailAddresses; returns the user with a new primary when one was named."""
    current = addresses(em, user, state)
    if isinstance(value, dict) and "Exchange.GenericHashTable" in str(value.get("@odata.type")):
        lowered = {k.lower(): v for k, v in value.items()}
        wanted = list(current)
        for entry in map(_normal, _entries(lowered.get("add"))):
            if entry.lower() not in {w.lower() for w in wanted}:
                wanted.append(entry)
        for entry in map(_normal, _entries(lowered.get("remove"))):
            wanted = [w for w in wanted if w.lower() != entry.lower()]
    else:
        wanted = [_normal(e) for e in _entries(value)]
    primaries = [w for w in wanted if w.startswith("SMTP:")]
    if not primaries:
        if current[0] not in wanted and current[0].lower() in {w.lower() for w in wanted}:
            wanted = [current[0] if w.lower() == current[0].lower() else w for w in wanted]
            primaries = [current[0]]
        elif current[0] not in wanted:
            raise failure(400, "RecipientTaskException",
                          f"The primary SMTP address \"{current[0][5:]}\" can't be removed. "
                          "Set another primary SMTP address first.")
        else:
            primaries = [current[0]]
    if len(primaries) > 1:  # a newly added SMTP: becomes the primary; the old one stays
        wanted = [f"smtp:{w[5:]}" if w.startswith("SMTP:") and w != primaries[-1] else w
                  for w in wanted]
    accepted = {d.lower() for d in domains(em)}
    for entry in wanted:
        if entry.lower().startswith("smtp:"):
            address = entry[5:]
            domain = address.rpartition("@")[2].lower()
            if not address.count("@") == 1 or domain not in accepted:
                raise failure(400, "RecipientTaskException",
                              f"The domain of the proxy address \"{entry}\" isn't an accepted "
                              "domain of your organization.")
            holder = holder_of(em, address, user["id"])
            if holder is not None:
                raise failure(400, "ProxyAddressExistsException",
                              f"The proxy address \"{entry}\" is already being used by the "
                              f"proxy addresses or LegacyExchangeDN of \"{holder}\". Please "
                              "choose another proxy address.")
    primary = next(w for w in wanted if w.startswith("SMTP:"))[5:]
    state["EmailAddresses"] = [w for w in wanted if not w.startswith("SMTP:")]
    if primary.lower() != str(user.get("mail") or "").lower():
        return {**user, "mail": primary}
    return None


def holder_of(em: Emulator, address: str, except_id: str) -> str | None:
    """The name of another recipient that holds `address` (mail, UPN or a proxy address)."""
    wanted = address.lower()
    for kind in ("user", "group"):
        for obj in em.store.all_objects(kind):
            if obj["id"] == except_id:
                continue
            held = {str(obj.get("mail") or "").lower(),
                    str(obj.get("userPrincipalName") or "").lower(),
                    *(str(p).lower().partition(":")[2] for p in obj.get("proxyAddresses") or [])}
            if kind == "user":
                box = em.store.item(obj["id"], "mailbox", "mailbox") or {}
                held |= {str(p).lower().partition(":")[2] for p in box.get("EmailAddresses") or []}
            if wanted in held:
                return str(obj.get("displayName") or obj.get("userPrincipalName") or obj["id"])
    return None


def shape(em: Emulator, user: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The Get-Mailbox members this module owns."""
    return {
        "ResourceType": RESOURCE_TYPES.get(state["RecipientTypeDetails"]),
        "EmailAddresses": addresses(em, user, state),
        "UseDatabaseQuotaDefaults": bool(state.get("UseDatabaseQuotaDefaults", False)),
        **{name: show_size(state.get(name, DEFAULT_QUOTAS[name])) for name in QUOTAS},
    }
