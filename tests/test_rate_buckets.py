"""The GCRA buckets behind rate limits, in memory and in the real Redis.

Both backends must agree exactly: a node that falls back from Redis to its memory
enforces the same limits. Time is the ``now_ms`` each call passes (the node clock).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis_client

from steeple.errors import ConfigError
from steeple.services.rate_buckets import (
    Buckets,
    Charge,
    LocalBuckets,
    RedisBuckets,
    Refusal,
    retry_seconds,
)
from steeple.settings import OFF, Rate, Settings
from tests.support.cluster import forget_prefix, require_redis
from tests.support.services import REDIS_URL

NOW = 1_800_000_000_000.0


def charge(key: str = "k", cost: int = 1, per_second: float = 2, burst: int = 3) -> Charge:
    return Charge(key, cost, 1000 / per_second, burst)


@pytest.fixture
def prefix() -> str:
    return "steeple-test-" + secrets.token_hex(4)


@pytest.fixture(params=["memory", "redis"])
async def buckets(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Buckets]:
    if request.param == "memory":
        yield LocalBuckets()
        return
    require_redis()
    shared = RedisBuckets(REDIS_URL, prefix)
    yield shared
    await shared.close()
    await forget_prefix(REDIS_URL, prefix)


async def test_a_burst_passes_then_one_token_per_interval(buckets: Buckets) -> None:
    for n in range(3):
        assert await buckets.take([charge()], NOW + n) is None
    refusal = await buckets.take([charge()], NOW + 3)
    assert refusal is not None and refusal.index == 0
    assert 490 <= refusal.wait_ms <= 500  # half a second for the next token, less 3 ms
    assert await buckets.take([charge()], NOW + 499) is not None
    assert await buckets.take([charge()], NOW + 500) is None  # it came back
    assert await buckets.take([charge()], NOW + 501) is not None
    assert await buckets.take([charge()], NOW + 10_000) is None  # full again


async def test_several_charges_are_taken_all_or_nothing(buckets: Buckets) -> None:
    room = charge("room", burst=1)
    assert await buckets.take([charge("caller"), room], NOW) is None
    for _ in range(5):
        refusal = await buckets.take([charge("caller"), room], NOW)
        assert refusal is not None and refusal.index == 1
    # The caller spent one of its three, whatever the refused charges tried.
    assert await buckets.take([charge("caller", cost=2)], NOW) is None
    assert await buckets.take([charge("caller")], NOW) == Refusal(0, 500.0)


async def test_a_charge_of_several_tokens(buckets: Buckets) -> None:
    assert await buckets.take([charge(cost=3)], NOW) is None
    refusal = await buckets.take([charge(cost=2)], NOW + 100)
    assert refusal is not None and refusal.wait_ms == 900  # two tokens, 100 ms in


async def test_redis_keys_expire_when_their_bucket_is_full_again(prefix: str) -> None:
    require_redis()
    shared = RedisBuckets(REDIS_URL, prefix)
    client = redis_client.Redis.from_url(REDIS_URL)
    try:
        await shared.take([charge("a", cost=2, per_second=10, burst=20)], NOW)
        keys = [key async for key in client.scan_iter(match=f"{prefix}:rate:*")]
        assert keys == [f"{prefix}:rate:a".encode()]
        assert 0 < await client.pttl(keys[0]) <= 200  # two tokens at 10 a second
    finally:
        await client.aclose()
        await shared.close()
        await forget_prefix(REDIS_URL, prefix)


async def test_redis_away_falls_back_to_this_nodes_memory() -> None:
    away = RedisBuckets("redis://127.0.0.1:1/0", "steeple-test")  # nothing listens there
    try:
        assert await away.take([charge(burst=1)], NOW) is None
        assert await away.take([charge(burst=1)], NOW) is not None  # held by memory
    finally:
        await away.close()


async def test_memory_forgets_full_buckets() -> None:
    local = LocalBuckets()
    for n in range(100):
        await local.take([charge(f"k{n}")], NOW)
    await local.take([charge("late")], NOW + 60_000)
    assert len(local) < 40


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert [retry_seconds(ms) for ms in (0.1, 999, 1000, 1001)] == [1, 1, 1, 2]


ENV = {"JWT_SECRET": "s", "ENCRYPTION_KEY": "0123456789abcdef0123456789abcdef"}


def test_rate_settings_are_read_as_rate_and_burst_or_zero_for_off() -> None:
    settings = Settings.from_env({**ENV, "LIMIT_POST_ADDRESS": "7.5, 90", "LIMIT_JOIN_ROOM": "0"})
    assert settings.post_address == Rate(7.5, 90)
    assert settings.join_room == OFF and not settings.join_room.on
    assert settings.post_room == Rate(20, 100)  # the default


@pytest.mark.parametrize("raw", ["5", "five,60", "5,0", "-1,5", "5,6.5", "5,60,1"])
def test_a_bad_rate_setting_refuses_to_start_naming_it(raw: str) -> None:
    with pytest.raises(ConfigError, match="LIMIT_POST_PERSON"):
        Settings.from_env({**ENV, "LIMIT_POST_PERSON": raw})


def test_limits_are_shared_through_redis_in_redis_mode_or_when_asked() -> None:
    assert not Settings.from_env(ENV).shared_limits
    assert Settings.from_env({**ENV, "DELIVERY_PROVIDER": "redis"}).shared_limits
    assert Settings.from_env({**ENV, "LIMITS_BACKEND": "redis"}).shared_limits
    redis_memory = {**ENV, "DELIVERY_PROVIDER": "redis", "LIMITS_BACKEND": "memory"}
    assert not Settings.from_env(redis_memory).shared_limits
    with pytest.raises(ConfigError, match="LIMITS_BACKEND"):
        Settings.from_env({**ENV, "LIMITS_BACKEND": "disk"})
    with pytest.raises(ConfigError, match="ANONYMOUS_JOIN_BATCH"):
        Settings.from_env({**ENV, "ANONYMOUS_JOIN_BATCH": "0"})
