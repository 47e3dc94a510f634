"""CPU per request of the floor and each hot path, in-process: what wrk's ratios cannot separate
from the machine's other work.

Each endpoint's requests go through the whole stack (Django test Client, CSRF checks on) with
fresh ids; a block's cost is the Python process's CPU (`time.process_time`) plus its PostgreSQL
backend's (`/proc/<pid>/stat`), divided by its requests. Blocks of every endpoint alternate, so a
busier minute costs them all alike; the lowest block of each is kept (the least disturbed).
Receiving the trigger's POST is the receiver's CPU, not counted.
"""

import os
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

from bench import probes
from bench.load import Endpoint

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu_seconds(pid: int) -> float:
    # utime and stime, fields 14 and 15; the command name before them may hold spaces.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_per_request(
    *,
    endpoints: list[Endpoint],
    fresh_ids: Callable[[Endpoint, int, str], list[str]],
    requests: int,
    blocks: int,
) -> dict[str, dict[str, int]]:
    """µs of CPU a request (Python, PostgreSQL, both) of each endpoint, the lowest of `blocks`."""
    api = probes.client()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    best: dict[str, dict[str, int]] = {}
    for block in range(blocks):
        for endpoint in endpoints:
            ids = fresh_ids(endpoint, requests, f"cpu-{block}") if endpoint.fresh_ids else ["-"] * requests
            python, database = time.process_time(), _backend_cpu_seconds(backend)
            for fresh_id in ids:
                response = probes.request(api, endpoint, fresh_id)
                expected = endpoint.ok_status or response.status_code
                if response.status_code != expected or not 200 <= expected < 400:
                    raise RuntimeError(f"{endpoint.name} answered {response.status_code} in-process")
            python_us = round((time.process_time() - python) * 1e6 / requests)
            database_us = round((_backend_cpu_seconds(backend) - database) * 1e6 / requests)
            measured = {
                "python_us": python_us,
                "postgresql_us": database_us,
                "total_us": python_us + database_us,
            }
            if endpoint.name not in best or measured["total_us"] < best[endpoint.name]["total_us"]:
                best[endpoint.name] = measured
    return best
