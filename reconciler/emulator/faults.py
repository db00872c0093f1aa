"""What a real tenant does under load, on demand: throttling, 5xx, hang-ups, lag, expiry."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

from reconciler.emulator.wire import DroppedConnection, GraphError, Request

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")


class FaultSpecError(ValueError):
    """A --faults value that cannot be read."""


def _seconds(text: str) -> float:
    found = _DURATION.match(text)
    if not found:
        raise FaultSpecError(f"'{text}' is not a duration (e.g. 30ms, 2s, 1m)")
    value, unit = float(found.group(1)), found.group(2) or "s"
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


@dataclass
class Faults:
    """Parsed `--faults`: probabilities per request, durations in seconds."""

    throttle: float = 0.0
    error5xx: float = 0.0
    drop: float = 0.0
    commitfail: float = 0.0
    lag: float = 0.0
    latency: float = 0.0
    retry_after: float = 0.5
    budget: int | None = None
    write_budget: int | None = None
    token_ttl: float | None = None
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    _PROBABILITIES = ("throttle", "error5xx", "drop", "commitfail")
    _DURATIONS = {"lag": "lag", "latency": "latency", "retryafter": "retry_after",
                  "tokenttl": "token_ttl"}
    _COUNTS = {"budget": "budget", "writebudget": "write_budget", "seed": "seed"}

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """`throttle=0.3,error5xx=0.05,drop=0.02,commitfail=0.05,lag=2s,latency=30ms,...`"""
        faults = cls()
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            name, _, value = part.partition("=")
            name = name.strip().lower()
            try:
                if name in cls._PROBABILITIES:
                    probability = float(value)
                    if not 0 <= probability <= 1:
                        raise ValueError
                    setattr(faults, name, probability)
                elif name in cls._DURATIONS:
                    setattr(faults, cls._DURATIONS[name], _seconds(value.strip()))
                elif name in cls._COUNTS:
                    setattr(faults, cls._COUNTS[name], int(value))
                else:
                    known = [*cls._PROBABILITIES, *cls._DURATIONS, *cls._COUNTS]
                    raise FaultSpecError(f"unknown fault '{name}' (known: {', '.join(known)})")
            except ValueError as exc:
                if isinstance(exc, FaultSpecError):
                    raise
                raise FaultSpecError(f"{name}={value}: not a valid value") from exc
        if faults.seed is not None:
            faults.rng.seed(faults.seed)
        return faults

    def roll(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self.lock:
            return self.rng.random() < probability

    def before(self, request: Request, write: bool, inner: bool = False) -> None:
        """Faults that strike before the request is carried out (nothing is applied)."""

        if not inner and self.roll(self.drop / 2):
            raise DroppedConnection()
        if self.roll(self.error5xx):
            status = (500, 503, 504)[self.rng.randrange(3)]
            headers = {"Retry-After": "1"} if status == 503 else {}
            raise GraphError(status, "UnknownError" if status == 500 else "ServiceUnavailable",
                             "The service is temporarily unavailable.", headers)
        if self.roll(self.throttle):
            raise too_many_requests(self.retry_after, "ResourceUnitLimitExceeded")

    def after_commit(self, request: Request, inner: bool = False) -> None:
        """Faults that strike after a write was carried out: the reply is lost or an error."""

        if not inner and self.roll(self.drop / 2):
            raise DroppedConnection()
        if self.roll(self.commitfail):
            raise GraphError(500, "UnknownError", "An internal server error occurred.")


def too_many_requests(retry_after: float, information: str) -> GraphError:
    """An injected 429 (the cost model's own live in throttle.py)."""
    return GraphError(429, "TooManyRequests", "Please retry again later.", {
        "Retry-After": f"{retry_after:g}",
        "x-ms-throttle-scope": "Tenant_Application/ReadWrite",
        "x-ms-throttle-information": information,
    })
