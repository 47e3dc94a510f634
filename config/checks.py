"""Deployment checks of our own, reported by `manage.py check --deploy` and at server start."""

import logging
from typing import Any

from django.conf import settings
from django.core import checks

logger = logging.getLogger("config")

IN_PROCESS_CACHE_MESSAGE = (
    "REDIS_URL is not set: the cache and every rate limit live inside each process, so with more "
    "than one process (gunicorn workers, several hosts) each keeps its own count."
)


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_cache(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.REDIS_URL:
        return []
    return [
        checks.Warning(IN_PROCESS_CACHE_MESSAGE, hint="Set REDIS_URL=redis://host:6379/0.", id="config.W001")
    ]


def warn_if_unshared_cache() -> None:
    if not settings.DEBUG and not settings.REDIS_URL:
        logger.warning(IN_PROCESS_CACHE_MESSAGE)
