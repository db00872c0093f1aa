"""Bulk work without the cyclic garbage collector's repeated passes over a big heap.

Loading a tenant folder and planning allocate millions of long-lived objects (values,
dicts, strings) and almost no garbage cycles; with the collector on, CPython traverses the
growing heap again and again: at 50,000 users that was a third of a plan's CPU
(bench/compare.py). Reference counting still frees everything that is not in a cycle while
the collector is paused; the few cycles made meanwhile are collected once it runs again.

Reading the live tenant does make cyclic garbage: every httpx response is one (it and its
stream refer to each other), holding a page of up to 999 users. There the collector runs,
but over the objects made during the read only (`new_objects_collected`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested blocks: the outer one resumes it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def new_objects_collected() -> Iterator[None]:
    """Run the collector in the block (even inside `collector_paused`), over the objects
    made in it only: those that existed before are left out of its passes (gc.freeze)."""
    was_enabled = gc.isenabled()
    gc.freeze()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()
        gc.unfreeze()
