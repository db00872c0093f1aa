"""The emulator's route modules, one per area, joined into one router."""

from __future__ import annotations

from reconciler.emulator.wire import Router


def build_router() -> Router:
    from reconciler.emulator.routes import (
        accounts,
        delta,
        directory,
        exchange,
        groups,
        mail,
        users,
    )

    router = Router()
    for module in (users, groups, delta, directory, mail, accounts, exchange):
        router.include(module.router)
    return router
