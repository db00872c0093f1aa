"""The emulator's route modules, one per area, joined into one router."""

from __future__ import annotations

from reconciler.emulator.wire import Router


def build_router() -> Router:
    from reconciler.emulator.routes import (
        accounts,
        apps,
        calendars,
        delta,
        directory,
        exchange,
        groups,
        intune,
        mail,
        navigations,  # noqa: F401 - registers $expand readers
        organization,
        owners,
        policies,
        reports,
        sharepoint,
        tap,
        users,
    )

    router = Router()
    for module in (users, groups, delta, directory, mail, accounts, exchange, intune, apps,
                   sharepoint, reports, policies, calendars, organization, owners, tap):
        router.include(module.router)
    return router
