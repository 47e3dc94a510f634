"""rate_limit_hit: django-ratelimit's counting in one round trip, on Redis and on the in-process cache;
rate_limit_check: the one 429 (and Retry-After rule) every limit raises."""

import pytest
from django.core.cache import caches
from django_ratelimit.core import get_usage
from django_redis.cache import RedisCache
from pytest_django.fixtures import Settings

from config.api.errors import RateLimited
from config.api.ratelimit import rate_limit_check, rate_limit_hit, rate_limit_refund, retry_after_seconds


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


def test_beyond_the_rate_the_check_raises_429_with_retry_after_inside_the_window() -> None:
    for _ in range(2):
        assert rate_limit_check(group="g", subject="c", rate="2/m", message="Too many.", fail_open=True)
    with pytest.raises(RateLimited) as raised:
        rate_limit_check(group="g", subject="c", rate="2/m", message="Too many.", fail_open=True)
    assert 1 <= raised.value.retry_after <= 60
    assert raised.value.headers == {"Retry-After": str(raised.value.retry_after)}
    assert raised.value.message == f"Too many. Retry in {raised.value.retry_after} seconds."


@pytest.mark.parametrize(
    ("time_left", "period", "retry_after"),
    [(0, 60, 1), (1, 60, 2), (59, 60, 60), (-1, 60, 1), (3599, 3600, 3600), (5000, 900, 900)],
)
def test_retry_after_is_the_whole_seconds_until_a_hit_is_accepted_within_the_window(
    time_left: int, period: int, retry_after: int
) -> None:
    # The window counts through its last second (time_left 0): the next second is a new window.
    assert retry_after_seconds({"time_left": time_left, "period": period}) == retry_after


def test_switched_off_the_check_counts_and_refuses_nothing(settings: Settings) -> None:
    settings.RATELIMIT_ENABLE = False
    for _ in range(3):
        assert rate_limit_check(group="g", subject="off", rate="1/h", message="x", fail_open=False) is None


def test_a_refund_takes_back_one_hit_only() -> None:
    first = rate_limit_check(group="g", subject="r", rate="5/m", message="x", fail_open=True)
    rate_limit_check(group="g", subject="r", rate="5/m", message="x", fail_open=True)
    rate_limit_refund(first)
    usage = rate_limit_hit(group="g", subject="r", rate="5/m")
    assert usage is not None and usage["count"] == 2
