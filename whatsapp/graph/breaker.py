"""A circuit breaker per WABA / phone number, kept in Redis so every worker shares it.

closed → (N failures within the window) → open → (cool-down passes) → half-open: one probe call
is let through; its success closes the circuit, its failure opens it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from aerostic.core import queues

_PREFIX = "aerostic:graph:breaker:"
_OPENED = ":opened"


@dataclass(frozen=True)
class BreakerState:
    key: str
    state: str  # closed | open | half_open
    failures: int
    opened_at: float | None
    retry_at: float | None


class CircuitBreaker:
    def __init__(
        self, key: str, *, threshold: int | None = None, window: float | None = None, cooldown: float | None = None
    ) -> None:
        self.key = key
        self.threshold = threshold or settings.GRAPH_BREAKER_THRESHOLD
        self.window = window or settings.GRAPH_BREAKER_WINDOW_SECONDS
        self.cooldown = cooldown or settings.GRAPH_BREAKER_COOLDOWN_SECONDS
        self._redis = queues.redis_connection()
        self._failures_key = f"{_PREFIX}{key}:failures"
        self._opened_key = f"{_PREFIX}{key}{_OPENED}"
        self._probe_key = f"{_PREFIX}{key}:probe"

    @classmethod
    def not_closed(cls) -> list[BreakerState]:
        """Every breaker that opened and has not closed since (open or half-open), read with a
        SCAN over their keys: for monitoring (/metrics), never on a send's path."""
        found = []
        for key in queues.redis_connection().scan_iter(match=f"{_PREFIX}*{_OPENED}", count=500):
            name = key.decode() if isinstance(key, bytes) else key
            state = cls(name.removeprefix(_PREFIX).removesuffix(_OPENED)).state()
            if state.state != "closed":
                found.append(state)
        return found

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one caller gets True."""
        opened = self._redis.get(self._opened_key)
        if opened is None:
            return True
        if time.time() < float(opened) + self.cooldown:
            return False
        return bool(self._redis.set(self._probe_key, "1", nx=True, ex=max(1, int(self.cooldown))))

    def permit(self) -> int | None:
        """For callers sending many requests at once: None when closed (no limit), 0 when open,
        1 when half-open and this caller got the single probe."""
        opened = self._redis.get(self._opened_key)
        if opened is None:
            return None
        return 1 if self.allow() else 0

    def record_success(self) -> None:
        self._redis.delete(self._failures_key, self._opened_key, self._probe_key)

    def record_failure(self) -> None:
        pipe = self._redis.pipeline()
        pipe.incr(self._failures_key)
        pipe.expire(self._failures_key, int(self.window))
        failures = pipe.execute()[0]
        half_open = self._redis.get(self._opened_key) is not None
        if half_open or failures >= self.threshold:
            self._redis.set(self._opened_key, str(time.time()))
            self._redis.delete(self._probe_key)

    def state(self) -> BreakerState:
        opened = self._redis.get(self._opened_key)
        failures = int(self._redis.get(self._failures_key) or 0)
        if opened is None:
            return BreakerState(self.key, "closed", failures, None, None)
        opened_at = float(opened)
        retry_at = opened_at + self.cooldown
        return BreakerState(self.key, "open" if time.time() < retry_at else "half_open", failures, opened_at, retry_at)

    def reset(self) -> None:
        self.record_success()
