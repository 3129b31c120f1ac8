"""The send path's limits (rule 5 of whatsapp/sending/rules.py), in Redis, one round trip per limit
for a whole chunk (a single send is a list of one): the number's token bucket with an adaptive
(AIMD) rate factor, the workspace's quota per minute and per day, the 6-second pair limit and the
portfolio's messaging limit (unique users in a rolling 24 h). The Redis machinery, its clock and
its failure (`RateLimitUnavailable`: fail closed, do not send) are whatsapp/ratelimits.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from whatsapp.ratelimits import (
    KEY_PREFIX,
    RESERVE,
    RateLimitUnavailable,
    Script,
    clock,
    redis_call,
    reply_float,
)

__all__ = ["RateLimitUnavailable"]  # what a sender catches when a limit cannot be asked

DEFAULT_NUMBER_RATE = 80.0  # Meta's default throughput per phone number (msg/s)
SHARED_NUMBER_RATE = 20.0  # numbers shared with the WhatsApp Business app (coexistence)
HIGH_NUMBER_RATE = 1000.0  # throughput_level "HIGH"
PAIR_INTERVAL_SECONDS = 6.0  # Meta refuses more than ~1 message per 6 s to the same user (131056)
MESSAGING_LIMITS: dict[str, int | None] = {
    "TIER_250": 250,
    "TIER_1K": 1000,
    "TIER_2K": 2000,
    "TIER_10K": 10000,
    "TIER_100K": 100000,
    "TIER_UNLIMITED": None,
}

MIN_FACTOR = 1 / 64
RECOVERY_STEP = 1 / 32
RECOVERY_INTERVAL = 0.1  # at most one recovery step per 100 ms, so a burst of successes is one step
THROTTLE_INTERVAL = 1.0  # the throttle errors of one burst arrive together: halve once for all of them
FACTOR_TTL = 3600  # an hour without throttles or successes: start again at the full rate
REACH_WINDOW = 86400.0


# ---- Per phone number: token bucket with an adaptive (AIMD) rate factor ----------------------------

_TAKE_TOKENS = Script("""
local rate, now, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
local f = tonumber(redis.call('HGET', KEYS[2], 'f')) or 1
local eff = rate * math.min(1, math.max(tonumber(ARGV[3]), f))
local cap = math.max(1, eff)
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(s[1]), tonumber(s[2])
if tokens == nil then tokens, ts = cap, now end
if now > ts then tokens, ts = tokens + (now - ts) * eff, now end
tokens = math.min(cap, tokens)
local granted = math.max(0, math.min(want, math.floor(tokens)))
tokens = tokens - granted
local retry = 0
if granted < want then retry = (1 - (tokens - math.floor(tokens))) / eff end
redis.call('HSET', KEYS[1], 'tokens', fmt(tokens), 'ts', fmt(ts), 'cap', fmt(cap))
redis.call('PEXPIRE', KEYS[1], math.ceil((cap / eff + 1) * 1000))
return {granted, fmt(retry), fmt(eff)}
""")

_REFUND_TOKENS = Script("""
local s = redis.call('HMGET', KEYS[1], 'tokens', 'cap')
if s[1] then
  redis.call('HSET', KEYS[1], 'tokens', fmt(math.min(tonumber(s[2]), tonumber(s[1]) + tonumber(ARGV[1]))))
end
return 1
""")

_THROTTLED = Script("""
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'f', 'cut')
local f, cut = tonumber(s[1]) or 1, tonumber(s[2])
if cut == nil or now - cut >= interval then
  f = math.max(tonumber(ARGV[3]), f / 2)
  redis.call('HSET', KEYS[1], 'f', fmt(f), 'cut', fmt(now), 'up', fmt(now))
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return fmt(f)
""")

_SUCCEEDED = Script("""
local now = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'f', 'up')
local f = tonumber(s[1])
if f == nil then return '1' end
if now - (tonumber(s[2]) or 0) >= tonumber(ARGV[2]) then
  f = f + tonumber(ARGV[3])
  if f >= 1 then redis.call('DEL', KEYS[1]) return '1' end
  redis.call('HSET', KEYS[1], 'f', fmt(f), 'up', fmt(now))
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return fmt(f)
""")


def _bucket_key(phone_number_id: str) -> str:
    return f"{KEY_PREFIX}num:{phone_number_id}:bucket"


def _factor_key(phone_number_id: str) -> str:
    return f"{KEY_PREFIX}num:{phone_number_id}:factor"


def number_rate_for(throughput_level: str, *, shared_with_app: bool = False) -> float:
    """Messages per second a number may send, from Meta's `throughput_level` ("STANDARD" / "HIGH")."""
    if shared_with_app:
        return SHARED_NUMBER_RATE
    return HIGH_NUMBER_RATE if (throughput_level or "").strip().upper() == "HIGH" else DEFAULT_NUMBER_RATE


UNLIMITED_RATE = 1_000_000.0


def send_rate_of(phone: Any) -> float:
    """A PhoneNumber's rate: Meta's throughput level, capped by the staff's `send_rate_limit` when set.
    A sandbox number with SANDBOX_RATE_LIMITS off has no bucket to speak of (benchmarks)."""
    from django.conf import settings

    rate = number_rate_for(phone.throughput_level)
    if not settings.SANDBOX_RATE_LIMITS and phone.account.mode == "sandbox":
        rate = UNLIMITED_RATE
    if phone.send_rate_limit:
        rate = min(rate, float(phone.send_rate_limit))
    return rate


def take_number_tokens(
    phone_number_id: str, *, rate: float, want: int, now: float | None = None
) -> tuple[int, float, float]:
    """Up to `want` tokens from the number's bucket: (granted, seconds until the next token when fewer
    were granted than wanted, the effective rate in force). The bucket refills at the effective rate
    (rate × adaptive factor) and holds one second of it (at least one token), so a throttled number
    also loses its burst."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    keys = [_bucket_key(phone_number_id), _factor_key(phone_number_id)]
    granted, retry, eff = _TAKE_TOKENS(keys, [rate, clock(now), MIN_FACTOR, max(0, int(want))])
    return int(granted), reply_float(retry), reply_float(eff)


def refund_number_tokens(phone_number_id: str, count: int) -> None:
    """Give back tokens taken for sends that did not happen (never above the bucket's capacity)."""
    if count > 0:
        _REFUND_TOKENS([_bucket_key(phone_number_id)], [count])


def number_throttled(phone_number_id: str, *, now: float | None = None) -> float:
    """Meta throttled the number (130429 / 80007): halve its rate factor, at most once per second."""
    args = [clock(now), THROTTLE_INTERVAL, MIN_FACTOR, FACTOR_TTL]
    return reply_float(_THROTTLED([_factor_key(phone_number_id)], args))


def number_succeeded(phone_number_id: str, *, now: float | None = None) -> float:
    """A send went through: grow the factor back by 1/32, at most once per 100 ms, up to 1.0."""
    args = [clock(now), RECOVERY_INTERVAL, RECOVERY_STEP, FACTOR_TTL]
    return reply_float(_SUCCEEDED([_factor_key(phone_number_id)], args))


def number_rate_factor(phone_number_id: str) -> float:
    value = redis_call(lambda redis: redis.hget(_factor_key(phone_number_id), "f"))
    return 1.0 if value is None else reply_float(value)


# ---- Per tenant: fixed windows (per UTC minute, per UTC day) ----------------------------------------
# Fixed windows: simple and one key each, at the cost of allowing up to twice the limit across a
# window boundary.

# Grants what fits (not all or nothing): a chunk sends as many as the window still allows, and a
# refusal leaves the counter as it was, so it never eats the quota.
_TAKE_UP_TO = Script("""
local limit, want = tonumber(ARGV[1]), tonumber(ARGV[2])
local used = tonumber(redis.call('GET', KEYS[1])) or 0
local granted = math.max(0, math.min(want, limit - used))
if granted > 0 then
  redis.call('INCRBY', KEYS[1], granted)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return granted
""")


def _day_key(tenant_id: int, t: float) -> str:
    return f"{KEY_PREFIX}tenant:{tenant_id}:campaign-day:{datetime.fromtimestamp(t, tz=UTC).strftime('%Y%m%d')}"


def take_tenant_quota(
    tenant_id: int, *, per_minute: int, per_day: int | None, want: int, now: float | None = None
) -> tuple[int, float, str]:
    """Up to `want` sends against the tenant's per-minute limit and, for campaign sends, its per-day
    limit (`per_day` None: not a campaign): (granted, seconds until more may be granted, why fewer
    were granted)."""
    t = clock(now)
    window = int(t // 60)
    minute_key = f"{KEY_PREFIX}tenant:{tenant_id}:minute:{window}"
    granted = int(_TAKE_UP_TO([minute_key], [per_minute, max(0, int(want)), 120]))
    if granted < want and granted == 0:
        return 0, (window + 1) * 60 - t, f"The workspace's limit of {per_minute} messages per minute is reached."
    if per_day is None:
        return granted, 0.0, ""
    day_granted = int(_TAKE_UP_TO([_day_key(tenant_id, t)], [per_day, granted, 2 * 86400]))
    if day_granted < granted:
        redis_call(lambda redis: redis.decrby(minute_key, granted - day_granted))
    if day_granted == 0:
        reason = f"The workspace's limit of {per_day} campaign messages per day is reached."
        return 0, (int(t // 86400) + 1) * 86400 - t, reason
    return day_granted, 0.0, ""


# Gives back only to a window that still exists (the minute may have rolled over since the take),
# never below zero, keeping its expiry: a give-back never creates a key that would live forever.
_GIVE_BACK = Script("""
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key))
  if used ~= nil then
    redis.call('SET', key, math.max(0, used - tonumber(ARGV[1])), 'KEEPTTL')
  end
end
return 1
""")


def return_tenant_quota(tenant_id: int, count: int, *, per_day: bool = True, now: float | None = None) -> None:
    """Give back quota taken for sends that did not happen (`per_day`: campaign sends, which also
    took from the day's quota)."""
    if count <= 0:
        return
    t = clock(now)
    keys = [f"{KEY_PREFIX}tenant:{tenant_id}:minute:{int(t // 60)}"]
    if per_day:
        keys.append(_day_key(tenant_id, t))
    _GIVE_BACK(keys, [count])


def tenant_campaign_day_used(tenant_id: int, *, now: float | None = None) -> int:
    value = redis_call(lambda redis: redis.get(_day_key(tenant_id, clock(now))))
    return int(value or 0)


# ---- Per (number, recipient) pair ------------------------------------------------------------------


def _pair_key(phone_number_id: str, recipient_index: str) -> str:
    return f"{KEY_PREFIX}pair:{phone_number_id}:{recipient_index}"


def take_pairs(phone_number_id: str, recipient_indexes: Sequence[str], *, now: float | None = None) -> list[float]:
    """Reserve the next PAIR_INTERVAL_SECONDS for this number → each recipient (a blind index), in one
    round trip: per recipient 0.0 when reserved, else the seconds until it may be."""
    if not recipient_indexes:
        return []
    keys = [_pair_key(phone_number_id, index) for index in recipient_indexes]
    return [reply_float(wait) for wait in RESERVE(keys, [clock(now), PAIR_INTERVAL_SECONDS])]


def release_pairs(phone_number_id: str, recipient_indexes: Sequence[str]) -> None:
    """Undo reservations whose sends did not happen."""
    if recipient_indexes:
        keys = [_pair_key(phone_number_id, index) for index in recipient_indexes]
        redis_call(lambda redis: redis.delete(*keys))


# ---- Per business portfolio: messaging limit (unique users in a rolling 24 h) -----------------------

# A user reached again keeps counting until 24 h after the *latest* message (as Meta counts), so the
# score moves forward, never back. limit < 0 means unlimited: still recorded, so users_reached stays
# true and a later lower tier applies at once.
_REACH = Script("""
local now, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now - window))
local out = {}
for i = 4, #ARGV do
  local member = ARGV[i]
  local score = tonumber(redis.call('ZSCORE', KEYS[1], member))
  if score == nil and limit >= 0 and redis.call('ZCARD', KEYS[1]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    if oldest[2] == nil then out[i - 3] = fmt(window)
    else out[i - 3] = fmt(math.max(1, tonumber(oldest[2]) + window - now)) end
  else
    if score == nil or now > score then redis.call('ZADD', KEYS[1], fmt(now), member) end
    out[i - 3] = '0'
  end
end
redis.call('PEXPIRE', KEYS[1], math.ceil((window + 60) * 1000))
return out
""")


def _reach_key(portfolio_id: str) -> str:
    return f"{KEY_PREFIX}reach:{portfolio_id}"


def reach_users(
    portfolio_id: str, recipient_indexes: Sequence[str], *, limit: int | None, now: float | None = None
) -> list[float]:
    """Count business-initiated messages to these users against the portfolio's messaging limit, in
    one round trip: per recipient 0.0 when counted, else the seconds until a place frees up."""
    if not recipient_indexes:
        return []
    args = [clock(now), -1 if limit is None else limit, REACH_WINDOW, *recipient_indexes]
    return [reply_float(wait) for wait in _REACH([_reach_key(portfolio_id)], args)]


def users_reached(portfolio_id: str, *, now: float | None = None) -> int:
    """Distinct users reached by the portfolio in the 24 h before `now` (a read: no trimming)."""
    since = f"({clock(now) - REACH_WINDOW!r}"
    return int(redis_call(lambda redis: redis.zcount(_reach_key(portfolio_id), since, "+inf")))
