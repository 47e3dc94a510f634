"""Real threads released at once, for the once-only promises (run against PostgreSQL)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def in_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, all released at once; their results (or the exception
    each raised) in order. Each thread closes its own database connection when done."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the test reads it, a thread cannot raise into it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
