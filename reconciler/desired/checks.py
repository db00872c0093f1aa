"""Checks a schema cannot express: across files, across keys, and on referenced files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from reconciler.desired.age import parse_recipient
from reconciler.desired.confine import inside
from reconciler.desired.dates import parse_instant
from reconciler.desired.model import DesiredUser, TenantConfig, Window
from reconciler.desired.photo import image_format
from reconciler.desired.problems import Problem

LOOPBACK_PREFIXES = ("http://127.0.0.1", "http://localhost", "http://[::1]", "emulator:")


def check_tenant_config(config: TenantConfig) -> list[Problem]:
    problems = []
    if not inside(config.folder, config.audit_file) or config.audit_file.is_symlink():
        problems.append(config.source.problem(("audit", "file"), (
            "must name a file inside the tenant folder, not a symlink (no `..`, no absolute "
            "path out of it)")))
    problems += _recipients(config)
    if config.auth_method == "none" and not config.graph_url.startswith(LOOPBACK_PREFIXES):
        problems.append(config.source.problem(
            ("auth", "method"),
            "none is accepted only for an emulator (graph.url emulator:<file> or a "
            "loopback http://127.0.0.1:<port>)",
        ))
    return problems


def _recipients(config: TenantConfig) -> list[Problem]:
    problems = []
    for n, text in enumerate(config.recipients):
        try:
            parse_recipient(text)
        except ValueError as exc:
            problems.append(config.source.problem(("credentials", "recipients", n), (
                f"{text!r} is not an age recipient ({exc}): give the public key `age-keygen` "
                "printed, age1 followed by 58 letters and digits")))
    return problems


def check_users(users: list[DesiredUser], config: TenantConfig | None) -> list[Problem]:
    """Every cross-key and cross-file problem in the users, in no particular order."""
    problems: list[Problem] = []
    problems += _duplicate_upns(users)
    problems += _manager_loops(users)
    for user in users:
        problems += _windows(user)
        problems += _duplicates_in_lists(user)
        problems += _phones(user)
        problems += _automatic_replies(user)
        if user.state == "deleted" and user.profile.get("accountEnabled") is True:
            problems.append(user.source.problem(("profile", "accountEnabled"),
                                                "a deleted user cannot be enabled (state: "
                                                "deleted; remove accountEnabled or the state)"))
        if config is not None:
            problems += _photo(user, config)
            problems += _protected(user, config)
    return problems


def _duplicate_upns(users: list[DesiredUser]) -> Iterable[Problem]:
    seen: dict[str, DesiredUser] = {}
    for user in users:
        first = seen.setdefault(user.upn.lower(), user)
        if first is user:
            continue
        for here, there in ((user, first), (first, user)):
            line, col = there.source.locate(("userPrincipalName",))
            yield here.source.problem(
                ("userPrincipalName",),
                f"duplicate userPrincipalName '{user.upn}' (also in {there.source.file}:"
                f"{line}:{col}; one file per user)",
            )


def _manager_loops(users: list[DesiredUser]) -> Iterable[Problem]:
    by_upn = {u.upn.lower(): u for u in users}
    reported: set[frozenset[str]] = set()
    for user in users:
        if user.manager is None:
            continue
        if user.manager.lower() == user.upn.lower():
            yield user.source.problem(("manager",), "a user cannot be their own manager")
            continue
        chain = [user.upn.lower()]
        current = by_upn.get(user.manager.lower())
        while current is not None and current.manager is not None:
            chain.append(current.upn.lower())
            following = current.manager.lower()
            if following == chain[0]:
                members = frozenset(chain)
                if members not in reported:
                    reported.add(members)
                    names = " -> ".join([by_upn[c].upn for c in chain] + [user.upn])
                    yield user.source.problem(("manager",), f"manager cycle: {names}")
                break
            if following in chain or following == current.upn.lower():
                break  # a loop that does not pass through `user`; reported from its members
            current = by_upn.get(following)


def _windows(user: DesiredUser) -> Iterable[Problem]:
    entries: list[tuple[tuple, Window]] = [(e.path, e.window) for e in user.groups]
    entries += [(e.path, e.window) for e in user.directory_roles]
    entries += [(lic.path, lic.window) for lic in user.licenses]
    entries += [(c.path, c.window) for c in user.calendar_permissions]
    for kind_entries in user.mailbox_permissions.values():
        entries += [(e.path, e.window) for e in kind_entries]
    for path, window in entries:
        if window.start and window.end and window.start >= window.end:
            yield user.source.problem(
                (*path, "from"),
                f"from {window.start_text} is not before until {window.end_text} "
                "(the entry would never be in force)",
            )


def _duplicates_in_lists(user: DesiredUser) -> Iterable[Problem]:
    lists: list[tuple[str, list[tuple[tuple, str]]]] = [
        ("group", [(e.path, e.ref.lower()) for e in user.groups]),
        ("directory role", [(e.path, e.ref.lower()) for e in user.directory_roles]),
        ("license", [(lic.path, lic.sku.lower()) for lic in user.licenses]),
        ("calendar permission", [(c.path, c.user.lower()) for c in user.calendar_permissions]),
        ("action", [(a.path, a.id) for a in user.actions]),
    ]
    for kind, entries in user.mailbox_permissions.items():
        lists.append((f"{kind} trustee", [(e.path, e.ref.lower()) for e in entries]))
    for what, items in lists:
        first_at: dict[str, tuple] = {}
        for path, key in items:
            if key in first_at:
                first = first_at[key]
                yield user.source.problem(
                    path, f"{what} '{key}' is listed twice (first at {first[-2]}[{first[-1]}])"
                )
            else:
                first_at[key] = path


def _phones(user: DesiredUser) -> Iterable[Problem]:
    phones = user.phone_methods
    if phones.get("alternateMobile") and not phones.get("mobile"):
        yield user.source.problem(
            ("authentication", "phoneMethods", "alternateMobile"),
            "alternateMobile requires mobile (add a mobile number, or remove alternateMobile)",
        )


def _automatic_replies(user: DesiredUser) -> Iterable[Problem]:
    replies = user.automatic_replies or {}
    start, end = parse_instant(replies.get("start", "")), parse_instant(replies.get("end", ""))
    if start and end and start >= end:
        yield user.source.problem(
            ("mailbox", "automaticReplies", "start"),
            f"start {replies['start']} is not before end {replies['end']}",
        )


def _photo(user: DesiredUser, config: TenantConfig) -> Iterable[Problem]:
    if user.photo is None:
        return
    path, written = ("photo",), user.source  # the problem points at the photo key
    folder = config.folder.resolve()
    target = user.photo.resolve()
    if folder not in target.parents:
        yield written.problem(path, "the photo must be a file inside the tenant folder")
        return
    if not target.is_file():
        yield written.problem(path, f"file not found: {_relative(user.photo, config.folder)}")
        return
    with target.open("rb") as handle:
        found = image_format(handle.read(16))
    allowed = ", ".join(config.policy.photo_formats)
    where = f"policy.photo in {config.source.file}"
    if found is None:
        yield written.problem(path, f"not a JPEG, PNG or GIF image, judged by its content "
                                    f"(allowed: {allowed})")
    elif found not in config.policy.photo_formats:
        yield written.problem(path, f"a {found.upper()} image, which {where} does not allow "
                                    f"(allowed: {allowed})")
    size = target.stat().st_size
    if size > config.policy.photo_max_bytes:
        yield written.problem(path, f"{size} bytes, over the limit of "
                                    f"{config.policy.photo_max_bytes} (maxBytes in {where})")


def _protected(user: DesiredUser, config: TenantConfig) -> Iterable[Problem]:
    if user.upn.lower() not in config.policy.protected_users:
        return
    where = f"policy.protectedUsers in {config.source.file}"
    if user.state == "deleted":
        yield user.source.problem(("state",), f"a protected user is never deleted ({where})")
    if user.sign_in is not None:
        yield user.source.problem(("signIn",), f"a protected user is never blocked ({where})")
    if user.profile.get("accountEnabled") is False:
        yield user.source.problem(("profile", "accountEnabled"),
                                  f"a protected user is never blocked ({where})")


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)
