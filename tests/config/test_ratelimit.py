"""rate_limit_hit: django-ratelimit's counting in one round trip, on Redis and on the in-process cache."""

import pytest
from django.core.cache import caches
from django_ratelimit.core import get_usage
from django_redis.cache import RedisCache
from pytest_django.fixtures import Settings

from config.api.ratelimit import rate_limit_hit


def test_hits_are_counted_and_limited_past_the_rate() -> None:
    usages = [rate_limit_hit(group="g", subject="visitor", rate="3/h") for _ in range(5)]
    assert [usage["count"] for usage in usages if usage] == [1, 2, 3, 4, 5]
    assert [usage["should_limit"] for usage in usages if usage] == [False, False, False, True, True]
    assert all(usage and usage["limit"] == 3 and 0 <= usage["time_left"] <= 3600 for usage in usages)


def test_each_subject_and_group_has_its_own_counter() -> None:
    rate_limit_hit(group="g", subject="a", rate="1/h")
    for group, subject in (("g", "b"), ("other", "a")):
        usage = rate_limit_hit(group=group, subject=subject, rate="1/h")
        assert usage is not None and (usage["count"], usage["should_limit"]) == (1, False)


def test_the_counter_is_django_ratelimits_own() -> None:
    # The same key and value: limits counted before this module (or by get_usage) carry over.
    rate_limit_hit(group="g", subject="s", rate="5/m")
    usage = get_usage(None, group="g", key=lambda _group, _request: "s", rate="5/m", increment=True)
    assert usage is not None and usage["count"] == 2
    again = rate_limit_hit(group="g", subject="s", rate="5/m")
    assert again is not None and again["count"] == 3


def test_switched_off_it_counts_nothing(settings: Settings) -> None:
    settings.RATELIMIT_ENABLE = False
    assert rate_limit_hit(group="g", subject="s", rate="1/h") is None


def test_on_redis_the_counter_expires_with_its_window() -> None:
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("needs Redis (set REDIS_URL)")
    rate_limit_hit(group="g", subject="ttl", rate="10/m")
    rate_limit_hit(group="g", subject="ttl", rate="10/m")
    client = cache.client.get_client(write=True)
    keys = list(client.scan_iter(match=str(cache.client.make_key("rl:*"))))
    assert len(keys) == 1
    # The window plus django-ratelimit's 5 s of slack, set when the counter was created and
    # never dropped by the increment.
    assert 55 <= client.ttl(keys[0]) <= 65
    assert int(client.get(keys[0])) == 2


def test_on_redis_a_server_that_forgot_the_script_still_counts() -> None:
    # A restarted or failed-over Redis has no cached scripts: the count must load it again.
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("needs Redis (set REDIS_URL)")
    rate_limit_hit(group="g", subject="flushed", rate="10/m")
    cache.client.get_client(write=True).script_flush()
    usage = rate_limit_hit(group="g", subject="flushed", rate="10/m")
    assert usage is not None and usage["count"] == 2
