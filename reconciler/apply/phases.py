"""The apply order, as one table: phase name -> what runs then, and why there.

Every area step names one of these phases (`Step.phase`); the applier runs the phases
top to bottom and, within a phase, the steps in registry order. Adding an area means
choosing a phase here by its reasons (or adding a row with its reason), never a number.
"""

from __future__ import annotations

PHASES: tuple[tuple[str, str], ...] = (
    ("tenant settings", "tenant.yaml's settings (authorization policy): independent of any "
                        "user; first, so guest invitations below follow the new policy"),
    ("rename users", "a file's `id` anchor under another UPN: renamed first, so every later "
                     "write (and Exchange) addresses the user by the name the plan shows"),
    ("create users", "create, invite or restore users: every later write needs the object"),
    ("profile", "profile fields and extension attributes, one PATCH per user; the leave "
                "date from signIn.blockAt. Before licenses: they need usageLocation"),
    ("manager", "manager links: the manager may be a user created above"),
    ("mailbox to shared", "a mailbox becomes shared (or room, equipment) before licenses "
                          "change, so removing "
                          "its license never deletes the mailbox"),
    ("licenses", "one assignLicense per user, after usageLocation is set"),
    ("mailbox to user", "back to a user mailbox after licensing: it needs its license "
                        "first"),
    ("photo", "after creation; independent of the rest"),
    ("group adds", "adds before removals: a user never loses access it keeps"),
    ("role adds", "roles granted before any removal (the last Global Administrator "
                  "check assumes adds land first)"),
    ("phone adds", "mobile before alternateMobile (Entra requires a mobile first)"),
    ("mailbox grants", "FullAccess, SendAs, SendOnBehalf and forwarding: the mailbox "
                       "exists and has its type"),
    ("mailbox settings", "quotas and proxy addresses, once the mailbox exists and has its "
                         "type"),
    ("automatic replies", "mailbox settings, after the mailbox exists"),
    ("calendar grants", "calendar adds and changes, after the mailbox exists"),
    ("workplace adds", "enterprise app assignments, Intune primary users and SharePoint "
                       "site groups: the user exists, and Intune wants its licence first"),
    ("group removals", "removals after every add"),
    ("mailbox grant removals", "after grants, so a swap never leaves nobody"),
    ("calendar removals", "after calendar grants"),
    ("role removals", "after role adds (never a moment with no Global Administrator)"),
    ("phone removals", "alternateMobile before mobile (the reverse of adds)"),
    ("authentication methods", "the password-reset email and Authenticator removals, after "
                               "phone adds so a swap never leaves the user without a method"),
    ("workplace removals", "apps, devices and site groups taken after every add"),
    ("sign-in block", "after the removals a block asks for, before one-shot actions: "
                      "revokeSessions must come after the block to end every session"),
    ("actions", "one-shot actions after the user's other changes, in file order"),
    ("delete users", "last: nothing else can be written to a deleted user"),
)
PHASE_NAMES = tuple(name for name, _why in PHASES)


def rank(phase: str) -> int:
    """Where a phase runs (KeyError: a phase not in the table)."""
    return PHASE_NAMES.index(phase)
