"""age recipients (`credentials.recipients`): parsed by pyrage, the Python binding of rage,
an audited Rust implementation of age; nothing is shelled out to an `age` binary."""

from __future__ import annotations


def parse_recipient(text: str) -> object:
    """An age X25519 recipient (`age1...`); ValueError when it is not one."""
    import pyrage  # imported on use: only runs that encrypt pay for it

    try:
        return pyrage.x25519.Recipient.from_str(text.strip())
    except pyrage.RecipientError as exc:
        raise ValueError(str(exc)) from exc
