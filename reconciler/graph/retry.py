"""What a reply means, and when and how long to wait before trying a request again.

`judge` is the one place that reads a reply (or its absence): a single request (`Sender`)
and each request inside a `$batch` (`batch._Chunk`) both act on its `Decision`, so they
agree on every status, on re-checks and on waits. `RetryPolicy` is the one configurable
object that holds every limit and wait.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

# Statuses Graph documents as transient: wait (Retry-After when given) and send again.
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
NO_REPLY = None  # the connection dropped or timed out: the request may or may not have landed


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter; Retry-After always wins when given."""

    max_attempts: int = 10  # tries on lost replies and 5xx
    base_seconds: float = 0.25
    cap_seconds: float = 30.0
    max_throttled: int = 50  # Graph: keep waiting Retry-After while it keeps answering 429
    connect_attempts: int = 3  # a host that cannot be connected to fails within seconds
    replication_seconds: float = 60.0  # how long a 404 on a just-created object is retried
    # A re-check (after a lost reply) that finds the write not landed is read once more when
    # this long has passed since the write was sent: a replica may not have seen it yet
    # (Graph documents stale reads by id right after a write), and a write re-sent on a stale
    # read would land twice (a second invitation email, a second audit record).
    settle_seconds: float = 3.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 1)."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** (max(attempt, 1) - 1)))
        return random.uniform(ceiling / 2, ceiling)


class Verdict(Enum):
    """What to do with a reply."""

    SUCCESS = "success"  # 2xx: done
    ALREADY = "already"  # an error that the caller's rule reads as "it is already so"
    RETRY = "retry"  # nothing landed (or a read): wait `Decision.wait`, send again
    RECHECK = "recheck"  # a write whose fate is unknown: re-read; if it did not land, retry
    REFRESH = "refresh"  # 401 on a token that may have expired: refresh once, send again
    GIVE_UP = "give up"  # a definite failure, or every retry spent


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    wait: float = 0.0  # seconds before the next try (RETRY, RECHECK)
    throttled: bool = False  # a 429: the wait applies to every request of this client


@dataclass(frozen=True)
class Attempt:
    """Where a request stands when its reply (or its absence) arrives."""

    write: bool
    attempt: int = 1  # tries so far, counting this one
    throttled: int = 0  # 429s so far, counting this one when it is a 429
    refreshed: bool = False  # a token refresh was already tried
    lagging: bool = False  # a 404 that names an object this run created, within the window
    sent: bool = True  # False: the connection never opened, so nothing can have landed


def judge(status: int | None, headers: Mapping[str, str], at: Attempt, policy: RetryPolicy,
          already: Callable[[], bool] | None = None) -> Decision:
    """The meaning of one reply; `status` None means no reply came (never success).

    `already` is the caller's reading of a definite error reply ("already exists", 404 on a
    removal). A write that got a 5xx or no reply may have landed (Graph commits before a
    gateway times out): it is re-checked before it is sent again. A read is simply retried.
    """
    if status is not None and 200 <= status < 300:
        return Decision(Verdict.SUCCESS)
    if status == 401 and not at.refreshed:
        return Decision(Verdict.REFRESH)
    if status == 429:
        if at.throttled >= policy.max_throttled:
            return Decision(Verdict.GIVE_UP)
        wait = retry_after(headers)
        return Decision(Verdict.RETRY, wait if wait is not None else policy.backoff(at.throttled),
                        throttled=True)
    if status is None and not at.sent:
        if at.attempt >= policy.connect_attempts:
            return Decision(Verdict.GIVE_UP)
        return Decision(Verdict.RETRY, policy.backoff(at.attempt))
    if status is None or status in RETRYABLE_STATUS:
        if at.attempt >= policy.max_attempts:
            return Decision(Verdict.GIVE_UP)
        wait = retry_after(headers) if status is not None else None
        wait = wait if wait is not None else policy.backoff(at.attempt)
        return Decision(Verdict.RECHECK if at.write else Verdict.RETRY, wait)
    if status == 404 and at.lagging:
        return Decision(Verdict.RETRY, policy.backoff(min(at.attempt, 5)))
    return Decision(Verdict.ALREADY if already is not None and already() else Verdict.GIVE_UP)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds (Graph sends fractional values such as 2.128), or None."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
