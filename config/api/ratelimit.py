"""Fixed-window rate limits counted in the Django cache, in one round trip to Redis.

django-ratelimit's `get_usage(..., increment=True)` counts a hit with `cache.add` and, once the
window's counter exists, `cache.incr`: two round trips to Redis on every request but the first of
a window, on paths that are hot. `rate_limit_hit` keeps django-ratelimit's windows, cache keys and
answer (the same dict, fail-closed like RATELIMIT_FAIL_OPEN = False), and on Redis creates and
increments the counter in one Lua script (EVALSHA): one round trip and one reply, and atomic, so
the counter cannot expire between the two steps and come back without its expiry. Other caches
(the in-process one of the embedded default) count exactly as django-ratelimit does.

`rate_limit_check` is the one check every limit uses: it counts, raises the family's 429 with one
`Retry-After` rule, and decides what an unreachable Redis means for that limit (contract 1: a
limit that guards data is dropped, with a warning; the login limit refuses with 503).
"""

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_ip, _get_window, _make_cache_key
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.api.errors import RateLimited, ServiceUnavailable
from config.formats import parse_rate

logger = logging.getLogger(__name__)

# Create the window's counter with its expiry if it is new, then count: one atomic command.
COUNT_SCRIPT = "redis.call('SET', KEYS[1], 0, 'NX', 'EX', ARGV[1]) return redis.call('INCR', KEYS[1])"
# Take one hit back, but never bring back (without an expiry) a counter whose window has ended.
REFUND_SCRIPT = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0"

# While the cache is unreachable each process says so once per this many seconds, not per request.
UNAVAILABLE_WARNING_SECONDS = 60.0


def _run_in_redis(cache: RedisCache, script: str, key: str, args: list[Any]) -> int:
    client = cache.client.get_client(write=True)
    redis_key = cache.client.make_key(key)
    try:
        # EVALSHA, loading the script first on a server that does not know it yet.
        return int(client.register_script(script)(keys=[redis_key], args=args))
    except (RedisConnectionError, RedisTimeoutError, ResponseError) as exc:
        # What django-redis raises for the same failure of `add` or `incr`.
        raise ConnectionInterrupted(connection=client) from exc


def _count_in_redis(cache: RedisCache, key: str, timeout: int) -> int:
    return _run_in_redis(cache, COUNT_SCRIPT, key, [timeout])


def _count_elsewhere(cache: BaseCache, key: str, timeout: int) -> int | None:
    if cache.add(key, 1, timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:
        # The counter expired between the two calls: django-ratelimit counts that as a failure.
        return None


def _cache() -> BaseCache:
    return caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]


def rate_limit_hit(*, group: str, subject: str, rate: str) -> dict[str, Any] | None:
    """Count one hit of `subject` against `rate` (e.g. "5/h"); django-ratelimit's usage dict
    (`count`, `limit`, `should_limit`, `time_left`, and `period` and the counter's `key`), or None
    when rate limiting is switched off. An unreachable Redis raises ConnectionInterrupted."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return None
    limit, period = parse_rate(rate)
    window = _get_window(subject, period)
    key = _make_cache_key(group, window, rate, subject, ALL)
    cache = _cache()
    timeout = period + EXPIRATION_FUDGE
    if isinstance(cache, RedisCache):
        count: int | None = _count_in_redis(cache, key, timeout)
    else:
        count = _count_elsewhere(cache, key, timeout)
    if count is None:
        if getattr(settings, "RATELIMIT_FAIL_OPEN", False):
            return None
        return {"count": 0, "limit": 0, "should_limit": True, "time_left": -1, "period": period, "key": key}
    return {
        "count": count,
        "limit": limit,
        "should_limit": count > limit,
        "time_left": window - int(time.time()),
        "period": period,
        "key": key,
    }


def address_subject(request: HttpRequest) -> str:
    """The caller's address as django-ratelimit's `ip` key counts it: an IPv6 caller by its /64,
    which one machine can fill with addresses."""
    return str(_get_ip(request))


def retry_after_seconds(usage: dict[str, Any]) -> int:
    """Whole seconds until a hit would be accepted, 1 to the window's length.

    A window is counted until its last second (`time_left` 0) has passed, so that second counts.
    """
    return min(max(math.ceil(usage["time_left"]) + 1, 1), usage["period"])


@dataclass(frozen=True)
class Hit:
    """A hit that was counted, so that it can be taken back (`rate_limit_refund`)."""

    key: str


_warned_at: dict[str, float] = {}
_warned_lock = threading.Lock()


def _warn_unavailable(*, group: str, error: Exception) -> None:
    # Keyed by the cache's location, so each unreachable server is reported on its own.
    location = str(getattr(_cache(), "_server", ""))
    now = time.monotonic()
    with _warned_lock:
        if now - _warned_at.get(location, -math.inf) < UNAVAILABLE_WARNING_SECONDS:
            return
        _warned_at[location] = now
    logger.warning(
        "rate limits are not counted: the cache is unreachable",
        extra={"group": group, "error": type(error).__name__, "again_in_s": UNAVAILABLE_WARNING_SECONDS},
    )


def rate_limit_check(*, group: str, subject: str, rate: str, message: str, fail_open: bool) -> Hit | None:
    """Count one hit of `subject`; RateLimited (429, with Retry-After) beyond `rate`.

    While the cache is unreachable a limit with `fail_open` lets the request through (losing
    Redis forgets counters, never data) and warns once per interval; one without it refuses with
    ServiceUnavailable (503), for the limits that guard against guessing. Returns the hit, or
    None when nothing was counted.
    """
    try:
        usage = rate_limit_hit(group=group, subject=subject, rate=rate)
    except ConnectionInterrupted as exc:
        if not fail_open:
            raise ServiceUnavailable("The rate-limit store is unreachable; retry later.") from None
        _warn_unavailable(group=group, error=exc)
        return None
    if usage is None:
        return None
    if usage["should_limit"]:
        retry_after = retry_after_seconds(usage)
        raise RateLimited(f"{message} Retry in {retry_after} seconds.", retry_after=retry_after)
    return Hit(key=usage["key"])


def rate_limit_refund(hit: Hit | None) -> None:
    """Take back one counted hit (a login that succeeded counts no failure); others' hits stay."""
    if hit is None:
        return
    cache = _cache()
    try:
        if isinstance(cache, RedisCache):
            _run_in_redis(cache, REFUND_SCRIPT, hit.key, [])
        else:
            cache.decr(hit.key)
    except (ConnectionInterrupted, ValueError):
        # The store went away, or the window ended: there is nothing left to take back.
        return
