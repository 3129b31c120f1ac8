"""Redis-based limits shared by every worker process and host: the machinery of the send path's
limits (whatsapp/sending/limits.py) and the limits of person-driven actions (template submissions,
connection checks), fixed windows and cooldowns under any name.

- One round trip per limit: each limit is one Lua script (EVALSHA) over a list of keys, so
  check-and-take is atomic and many concurrent workers never overshoot a limit.
- Clocks: `now` (default `time.time()`) comes from the caller, so tests can simulate time. Scripts
  never let a worker whose clock runs behind mint tokens or move state backwards.
- Fail closed: any Redis error raises `RateLimitUnavailable`; sending blind risks Meta blocking the
  number, so the sender should retry later instead.
- Keys live under `aerostic:rl:` and expire on their own once they carry no information. Recipients
  appear only as blind indexes, never as phone numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from aerostic.core import queues


@dataclass(frozen=True)
class Permit:
    allowed: bool
    retry_after: float  # seconds until a retry may succeed (0.0 when allowed)


class RateLimitUnavailable(RuntimeError):
    """Redis could not be asked: the caller must not send (retry later), since the limits are unknown."""


KEY_PREFIX = "aerostic:rl:"


def reply_float(x: Any) -> float:
    return float(x)  # script replies are bytes or str depending on decode_responses; float() takes both


class Script:
    """A Lua script run with EVALSHA on the current process's connection (loaded once on NOSCRIPT)."""

    def __init__(self, source: str) -> None:
        self.source = "local function fmt(x) return string.format('%.17g', x) end\n" + source
        self._script: Any = None

    def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        def run(redis: Any) -> Any:
            if self._script is None:  # a benign race: two threads may both build the same object
                self._script = redis.register_script(self.source)
            return self._script(keys=list(keys), args=list(args), client=redis)

        return redis_call(run)


def redis_call(operation: Callable[[Any], Any]) -> Any:
    try:
        return operation(queues.redis_connection())
    except RedisError as exc:
        raise RateLimitUnavailable(f"Rate limits unavailable ({exc.__class__.__name__}); not sending.") from exc


def clock(now: float | None) -> float:
    return time.time() if now is None else float(now)


# Reserves the next `interval` seconds under each key (a number → recipient pair here, a cooldown
# below). SET NX PX, but the value is the reservation time: a refusal carries the exact remaining
# wait (always > 0) in the same round trip, and a simulated `now` works although PX runs on the
# server's clock.
RESERVE = Script("""
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i, key in ipairs(KEYS) do
  local last = tonumber(redis.call('GET', key))
  if last ~= nil and now - last < interval then
    out[i] = fmt(math.min(interval, interval - (now - last)))
  else
    redis.call('SET', key, fmt(now), 'PX', math.ceil(interval * 1000))
    out[i] = '0'
  end
end
return out
""")


# ---- Person-driven actions: fixed windows and cooldowns under any name ------------------------------
# Callers name the scope (e.g. "tenant:7:template-create"). A refusal never eats the quota, and a
# cooldown is a reservation like a pair's, so its refusal carries the exact remaining wait.

# All windows or none: KEYS are the windows' counters, ARGV their (limit, ttl) pairs. Returns the
# 1-based index of the first full window, or 0 when every window took one.
_TAKE_WINDOWS = Script("""
for i, key in ipairs(KEYS) do
  if (tonumber(redis.call('GET', key)) or 0) + 1 > tonumber(ARGV[2 * i - 1]) then return i end
end
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[2 * i])
end
return 0
""")


def take_windows(name: str, *, limits: Sequence[tuple[int, int]], now: float | None = None) -> tuple[int, float]:
    """One action against every `(limit, period seconds)` fixed window (UTC-aligned), all or nothing.
    Returns (-1, 0.0) when taken, else (index of the full window in `limits`, seconds until it ends)."""
    t = clock(now)
    keys, args = [], []
    for limit, period in limits:
        keys.append(f"{KEY_PREFIX}{name}:{period}:{int(t // period)}")
        args += [limit, 2 * period]
    refused = int(_TAKE_WINDOWS(keys, args))
    if not refused:
        return -1, 0.0
    period = limits[refused - 1][1]
    return refused - 1, (int(t // period) + 1) * period - t


def take_cooldown(name: str, *, seconds: float, now: float | None = None) -> Permit:
    """At most one action per `seconds` under this name."""
    (reply,) = RESERVE([f"{KEY_PREFIX}cooldown:{name}"], [clock(now), seconds])
    wait = reply_float(reply)
    return Permit(wait == 0, wait)
