"""Send limits against the real Redis, with simulated time passed as `now`."""

from __future__ import annotations

import threading

import pytest
import redis

from aerostic.core import queues
from whatsapp import ratelimits
from whatsapp.sending import limits as rl

T0 = 1_700_000_000.0  # a fixed simulated clock (2023-11-14 22:13:20 UTC)
NUMBER = "pn-1"


def _take_one(*, rate: float, now: float, number: str = NUMBER) -> tuple[int, float, float]:
    return rl.take_number_tokens(number, rate=rate, want=1, now=now)


def _take_many(n: int, *, rate: float, now: float, number: str = NUMBER) -> int:
    """n sends of one token each (a single send is a list of one)."""
    return sum(_take_one(rate=rate, now=now, number=number)[0] for _ in range(n))


# ---- token bucket ----


def test_a_burst_of_rate_is_allowed_then_refused_until_one_token_refills():
    assert _take_many(80, rate=80, now=T0) == 80

    granted, wait, rate = _take_one(rate=80, now=T0)

    assert granted == 0
    assert wait == pytest.approx(1 / 80)
    assert rate == 80.0


def test_the_bucket_refills_with_simulated_time():
    _take_many(10, rate=10, now=T0)

    assert _take_many(10, rate=10, now=T0 + 0.5) == 5
    assert _take_many(20, rate=10, now=T0 + 10) == 10  # never more than one second of burst


def test_concurrent_workers_never_exceed_the_capacity():
    granted: list[int] = []

    def worker():
        granted.extend(_take_one(rate=50, now=T0)[0] for _ in range(100))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(granted) == 50


def test_rate_80_over_two_simulated_seconds_allows_the_burst_plus_160():
    allowed = 0
    for ms in range(2001):
        now = T0 + ms / 1000
        while _take_one(rate=80, now=now)[0]:
            allowed += 1

    assert abs(allowed - (80 + 160)) <= 1


def test_numbers_have_separate_buckets():
    _take_many(5, rate=5, now=T0)

    assert _take_one(rate=5, now=T0, number="pn-2")[0] == 1


def test_a_refund_gives_a_token_back_but_not_beyond_the_capacity():
    _take_many(3, rate=3, now=T0)

    for _ in range(4):
        rl.refund_number_tokens(NUMBER, 1)

    assert _take_many(5, rate=3, now=T0) == 3


@pytest.mark.parametrize(
    ("level", "shared", "rate"),
    [
        ("STANDARD", False, 80.0),
        ("HIGH", False, 1000.0),
        ("", False, 80.0),
        ("WEIRD", False, 80.0),
        ("HIGH", True, 20.0),
    ],
    ids=["standard", "high", "blank", "unknown", "shared-with-app"],
)
def test_number_rate_for_throughput_level(level, shared, rate):
    assert rl.number_rate_for(level, shared_with_app=shared) == rate


# ---- adaptive rate ----


def test_throttled_halves_the_factor_and_the_refill():
    assert rl.number_rate_factor(NUMBER) == 1.0

    assert rl.number_throttled(NUMBER, now=T0) == 0.5
    assert rl.number_rate_factor(NUMBER) == 0.5

    _take_many(100, rate=80, now=T0)  # the capacity follows the effective rate: one second of 40
    assert _take_many(100, rate=80, now=T0 + 1) == 40
    granted, wait, rate = _take_one(rate=80, now=T0 + 1)
    assert granted == 0
    assert wait == pytest.approx(1 / 40)
    assert rate == 40.0


def test_the_throttle_errors_of_one_burst_halve_once_and_the_factor_has_a_floor():
    assert rl.number_throttled(NUMBER, now=T0) == 0.5
    assert rl.number_throttled(NUMBER, now=T0 + 0.2) == 0.5

    factors = [rl.number_throttled(NUMBER, now=T0 + second) for second in range(1, 10)]

    assert factors[:3] == [0.25, 0.125, 0.0625]
    assert factors[-1] == 1 / 64


def test_successes_recover_the_factor_gradually_not_in_one_burst():
    rl.number_throttled(NUMBER, now=T0)

    burst = [rl.number_succeeded(NUMBER, now=T0 + 0.2) for _ in range(50)]
    assert burst[-1] == pytest.approx(0.5 + 1 / 32)

    factors = [rl.number_succeeded(NUMBER, now=T0 + 0.2 * step) for step in range(2, 40)]
    assert all(a <= b for a, b in zip(factors, factors[1:], strict=False))
    assert factors[0] < 0.6
    assert factors[-1] == 1.0
    assert rl.number_rate_factor(NUMBER) == 1.0


def test_success_on_an_unthrottled_number_stays_at_one():
    assert rl.number_succeeded(NUMBER, now=T0) == 1.0


# ---- pair ----


def test_a_second_message_to_the_same_recipient_within_6_s_is_refused():
    assert rl.take_pairs(NUMBER, ["bi-alice"], now=T0) == [0.0]

    waits = rl.take_pairs(NUMBER, ["bi-alice"], now=T0 + 2)

    assert waits == [pytest.approx(4.0)]
    assert rl.take_pairs(NUMBER, ["bi-alice"], now=T0 + 6) == [0.0]


def test_other_recipients_and_other_numbers_are_independent():
    rl.take_pairs(NUMBER, ["bi-alice"], now=T0)

    assert rl.take_pairs(NUMBER, ["bi-bob"], now=T0) == [0.0]
    assert rl.take_pairs("pn-2", ["bi-alice"], now=T0) == [0.0]


def test_a_released_pair_can_be_taken_again():
    rl.take_pairs(NUMBER, ["bi-alice"], now=T0)

    rl.release_pairs(NUMBER, ["bi-alice"])

    assert rl.take_pairs(NUMBER, ["bi-alice"], now=T0 + 1) == [0.0]


# ---- messaging limit (portfolio reach) ----


def test_reach_counts_distinct_users_and_rolls_over_after_24_hours():
    assert rl.reach_users("bp-1", ["A"], limit=2, now=T0) == [0.0]
    assert rl.reach_users("bp-1", ["B"], limit=2, now=T0 + 10) == [0.0]

    assert rl.reach_users("bp-1", ["C"], limit=2, now=T0 + 60) == [pytest.approx(86400 - 60)]
    assert rl.reach_users("bp-1", ["A"], limit=2, now=T0 + 60) == [0.0]
    assert rl.users_reached("bp-1", now=T0 + 60) == 2

    assert rl.reach_users("bp-1", ["C"], limit=2, now=T0 + 86400 + 10) == [0.0]  # B has rolled out
    assert rl.users_reached("bp-1", now=T0 + 86400 + 10) == 2  # A (again at +60) and C


def test_numbers_of_one_portfolio_share_the_count():
    # The portfolio id is the key: the send path passes the same one for every number of it.
    rl.reach_users("bp-1", ["A"], limit=1, now=T0)

    assert rl.reach_users("bp-1", ["B"], limit=1, now=T0)[0] > 0
    assert rl.reach_users("bp-2", ["B"], limit=1, now=T0) == [0.0]


def test_an_unlimited_portfolio_is_always_allowed_and_still_counted():
    assert rl.reach_users("bp-1", [f"user-{i}" for i in range(300)], limit=None, now=T0) == [0.0] * 300
    assert rl.users_reached("bp-1", now=T0) == 300


# ---- tenant windows ----


def test_tenant_minute_limit_resets_with_the_next_minute():
    minute = 28_333_334 * 60.0
    for _ in range(3):
        assert rl.take_tenant_quota(7, per_minute=3, per_day=None, want=1, now=minute + 1) == (1, 0.0, "")

    granted, wait, why = rl.take_tenant_quota(7, per_minute=3, per_day=None, want=1, now=minute + 15)

    assert granted == 0
    assert wait == pytest.approx(45)
    assert why == "The workspace's limit of 3 messages per minute is reached."
    assert rl.take_tenant_quota(8, per_minute=3, per_day=None, want=1, now=minute + 15)[0] == 1
    assert rl.take_tenant_quota(7, per_minute=3, per_day=None, want=1, now=minute + 60)[0] == 1


def test_campaign_day_limit_grants_what_is_left_and_resets_at_utc_midnight():
    midnight = 19_675 * 86400.0
    quota = {"per_minute": 1000, "per_day": 10}
    assert rl.take_tenant_quota(7, **quota, want=8, now=midnight + 3600)[0] == 8

    assert rl.take_tenant_quota(7, **quota, want=3, now=midnight + 3600)[0] == 2  # what fits, not none
    granted, wait, why = rl.take_tenant_quota(7, **quota, want=1, now=midnight + 3600)

    assert granted == 0
    assert wait == pytest.approx(86400 - 3600)
    assert why == "The workspace's limit of 10 campaign messages per day is reached."
    assert rl.take_tenant_quota(7, **quota, want=1, now=midnight + 86399)[0] == 0
    assert rl.take_tenant_quota(7, **quota, want=10, now=midnight + 86400)[0] == 10


def test_a_refusal_by_the_day_gives_the_minute_back():
    minute = 28_333_334 * 60.0
    assert rl.take_tenant_quota(7, per_minute=10, per_day=3, want=5, now=minute)[0] == 3  # the minute keeps 3

    assert rl.take_tenant_quota(7, per_minute=10, per_day=3, want=5, now=minute)[0] == 0

    assert rl.take_tenant_quota(7, per_minute=10, per_day=None, want=10, now=minute)[0] == 7
    assert rl.tenant_campaign_day_used(7, now=minute) == 3


def test_sends_without_a_daily_limit_ignore_and_leave_the_campaign_day():
    # per_day None: one-off sends, which only the minute limits.
    minute = 28_333_334 * 60.0
    assert rl.take_tenant_quota(7, per_minute=100, per_day=5, want=5, now=minute)[0] == 5

    assert rl.take_tenant_quota(7, per_minute=100, per_day=None, want=20, now=minute) == (20, 0.0, "")

    assert rl.tenant_campaign_day_used(7, now=minute) == 5
    assert rl.take_tenant_quota(7, per_minute=100, per_day=None, want=100, now=minute)[0] == 75


def test_returning_quota_without_the_day_gives_back_only_the_minute():
    minute = 28_333_334 * 60.0
    assert rl.take_tenant_quota(7, per_minute=10, per_day=100, want=10, now=minute)[0] == 10

    rl.return_tenant_quota(7, 4, per_day=False, now=minute)

    assert rl.take_tenant_quota(7, per_minute=10, per_day=None, want=10, now=minute)[0] == 4
    assert rl.tenant_campaign_day_used(7, now=minute) == 10


def test_a_give_back_after_the_minute_rolled_over_creates_no_key_and_never_goes_below_zero():
    minute = 28_333_334 * 60.0
    assert rl.take_tenant_quota(7, per_minute=10, per_day=None, want=3, now=minute)[0] == 3

    rl.return_tenant_quota(7, 3, per_day=True, now=minute + 60)  # the next minute, no day key yet
    rl.return_tenant_quota(7, 5, per_day=False, now=minute)  # more than was taken

    redis_client = queues.redis_connection()
    assert redis_client.exists(f"{ratelimits.KEY_PREFIX}tenant:7:minute:{int(minute // 60) + 1}") == 0
    assert redis_client.ttl(f"{ratelimits.KEY_PREFIX}tenant:7:minute:{int(minute // 60)}") > 0
    assert rl.take_tenant_quota(7, per_minute=10, per_day=None, want=20, now=minute)[0] == 10


# ---- Redis down ----


@pytest.mark.parametrize(
    "check",
    [
        lambda: rl.take_number_tokens(NUMBER, rate=80, want=1),
        lambda: rl.refund_number_tokens(NUMBER, 1),
        lambda: rl.number_throttled(NUMBER),
        lambda: rl.number_rate_factor(NUMBER),
        lambda: rl.take_pairs(NUMBER, ["bi-alice"]),
        lambda: rl.release_pairs(NUMBER, ["bi-alice"]),
        lambda: rl.reach_users("bp-1", ["A"], limit=None),
        lambda: rl.take_tenant_quota(7, per_minute=10, per_day=None, want=1),
        lambda: rl.return_tenant_quota(7, 1),
    ],
    ids=["token", "refund", "throttled", "factor", "pair", "release", "reach", "tenant-minute", "return-quota"],
)
def test_redis_down_raises_rate_limit_unavailable(monkeypatch, check):
    dead = redis.Redis(port=1, socket_connect_timeout=0.2, retry_on_error=[], retry=None)
    monkeypatch.setattr(queues, "redis_connection", lambda: dead)

    with pytest.raises(rl.RateLimitUnavailable):
        check()


# ---- a whole chunk in one call ----


def test_tokens_for_a_chunk_grant_what_the_bucket_holds_and_say_the_rate_in_force():
    assert rl.take_number_tokens(NUMBER, rate=80, want=50, now=T0) == (50, 0.0, 80.0)
    granted, wait, rate = rl.take_number_tokens(NUMBER, rate=80, want=50, now=T0)
    assert (granted, rate) == (30, 80.0) and wait == pytest.approx(1 / 80)
    rl.refund_number_tokens(NUMBER, 10)
    assert rl.take_number_tokens(NUMBER, rate=80, want=50, now=T0)[0] == 10
    rl.number_throttled(NUMBER, now=T0)
    assert rl.take_number_tokens(NUMBER, rate=80, want=50, now=T0 + 1)[2] == 40.0  # halved


def test_tenant_quota_grants_up_to_both_limits_and_gives_back_what_was_not_sent():
    assert rl.take_tenant_quota(7, per_minute=100, per_day=150, want=60, now=T0)[0] == 60
    granted, wait, why = rl.take_tenant_quota(7, per_minute=100, per_day=150, want=60, now=T0)
    assert granted == 40 and wait == 0.0  # the minute has 40 left
    granted, wait, why = rl.take_tenant_quota(7, per_minute=100, per_day=150, want=10, now=T0)
    assert granted == 0 and 0 < wait <= 60 and "per minute" in why
    granted, _wait, _why = rl.take_tenant_quota(7, per_minute=100, per_day=150, want=100, now=T0 + 60)
    assert granted == 50  # the day has 50 left (100 used)
    rl.return_tenant_quota(7, 20, now=T0 + 60)
    assert rl.tenant_campaign_day_used(7, now=T0 + 60) == 130


def test_pairs_and_reach_for_a_chunk_answer_per_recipient_in_one_call():
    assert rl.take_pairs(NUMBER, ["a", "b"], now=T0) == [0.0, 0.0]
    waits = rl.take_pairs(NUMBER, ["a", "c"], now=T0 + 1)
    assert waits[0] == pytest.approx(5.0) and waits[1] == 0.0
    rl.release_pairs(NUMBER, ["a"])
    assert rl.take_pairs(NUMBER, ["a"], now=T0 + 1) == [0.0]

    assert rl.reach_users("portfolio", ["u1", "u2", "u3"], limit=2, now=T0)[:2] == [0.0, 0.0]
    assert rl.reach_users("portfolio", ["u1", "u4"], limit=2, now=T0 + 10) == [0.0, pytest.approx(86390.0)]
    assert rl.users_reached("portfolio", now=T0 + 10) == 2


# ---- named windows and cooldowns (person-driven actions) ----


def test_named_windows_are_all_or_nothing_and_a_refusal_takes_nothing():
    hour_and_day = [(2, 3600), (1, 86400)]
    assert ratelimits.take_windows("t:1:create", limits=hour_and_day, now=T0) == (-1, 0.0)
    refused, wait = ratelimits.take_windows("t:1:create", limits=hour_and_day, now=T0)
    assert refused == 1 and wait == pytest.approx(86400 - T0 % 86400)
    roomier_day = [(2, 3600), (5, 86400)]
    assert ratelimits.take_windows("t:1:create", limits=roomier_day, now=T0)[0] == -1  # the refusal did not count
    assert ratelimits.take_windows("t:1:create", limits=roomier_day, now=T0)[0] == 0  # the hour is full at 2
    assert ratelimits.take_windows("t:2:create", limits=roomier_day, now=T0)[0] == -1  # another name, its own count


def test_a_cooldown_allows_one_action_then_says_how_long_to_wait():
    assert ratelimits.take_cooldown("t:1:check", seconds=30, now=T0).allowed
    refused = ratelimits.take_cooldown("t:1:check", seconds=30, now=T0 + 10)
    assert not refused.allowed and refused.retry_after == pytest.approx(20)
    assert ratelimits.take_cooldown("t:1:check", seconds=30, now=T0 + 30).allowed
