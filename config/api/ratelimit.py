"""Fixed-window rate limits counted in the Django cache, in one round trip to Redis.

django-ratelimit's `get_usage(..., increment=True)` counts a hit with `cache.add` and, once the
window's counter exists, `cache.incr`: two round trips to Redis on every request but the first of
a window, on paths that are hot. `rate_limit_hit` keeps django-ratelimit's windows, cache keys and
answer (the same dict, fail-closed like RATELIMIT_FAIL_OPEN = False), and on Redis creates and
increments the counter in one Lua script (EVALSHA): one round trip and one reply, and atomic, so
the counter cannot expire between the two steps and come back without its expiry. Other caches
(the in-process one of the embedded default) count exactly as django-ratelimit does.
"""

import time
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.formats import parse_rate

# Create the window's counter with its expiry if it is new, then count: one atomic command.
COUNT_SCRIPT = "redis.call('SET', KEYS[1], 0, 'NX', 'EX', ARGV[1]) return redis.call('INCR', KEYS[1])"


def _count_in_redis(cache: RedisCache, key: str, timeout: int) -> int:
    client = cache.client.get_client(write=True)
    redis_key = cache.client.make_key(key)
    try:
        # EVALSHA, loading the script first on a server that does not know it yet.
        count = client.register_script(COUNT_SCRIPT)(keys=[redis_key], args=[timeout])
    except (RedisConnectionError, RedisTimeoutError, ResponseError) as exc:
        # What django-redis raises for the same failure of `add` or `incr`.
        raise ConnectionInterrupted(connection=client) from exc
    return int(count)


def _count_elsewhere(cache: BaseCache, key: str, timeout: int) -> int | None:
    if cache.add(key, 1, timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:
        # The counter expired between the two calls: django-ratelimit counts that as a failure.
        return None


def rate_limit_hit(*, group: str, subject: str, rate: str) -> dict[str, Any] | None:
    """Count one hit of `subject` against `rate` (e.g. "5/h"); django-ratelimit's usage dict
    (`count`, `limit`, `should_limit`, `time_left`), or None when rate limiting is switched off."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return None
    limit, period = parse_rate(rate)
    window = _get_window(subject, period)
    key = _make_cache_key(group, window, rate, subject, ALL)
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    timeout = period + EXPIRATION_FUDGE
    if isinstance(cache, RedisCache):
        count: int | None = _count_in_redis(cache, key, timeout)
    else:
        count = _count_elsewhere(cache, key, timeout)
    if count is None:
        if getattr(settings, "RATELIMIT_FAIL_OPEN", False):
            return None
        return {"count": 0, "limit": 0, "should_limit": True, "time_left": -1}
    return {
        "count": count,
        "limit": limit,
        "should_limit": count > limit,
        "time_left": window - int(time.time()),
    }
