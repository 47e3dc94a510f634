"""A summary as bench/lua/fresh_ids.lua writes it, and runs made from it."""

from bench import load

SOCKETS = ("connect", "read", "write", "timeout")
SUMMARY = {
    "requests": 5000,
    "duration_us": 10_000_000,
    "ok": 4990,
    "non2xx": 10,
    "reused_ids": 0,
    "socket_errors": {"connect": 0, "read": 2, "write": 0, "timeout": 1},
    "latency_us": {
        "p50": 12_500,
        "p90": 20_000,
        "p95": 25_000,
        "p99": 40_000,
        "max": 90_000,
        "mean": 13_000.5,
    },
    "first_failure": {"status": 409, "body": '{"error": {"code": "ALREADY_COMPLETED"}}'},
}


def wrk_run(endpoint: str, connections: int, requests: int, **changes: object) -> load.WrkRun:
    """A clean run of `requests` requests over 10 s, with `changes` to the summary wrk wrote."""
    clean = {"requests": requests, "ok": requests, "non2xx": 0, "socket_errors": dict.fromkeys(SOCKETS, 0)}
    return load.parse_wrk_summary(
        endpoint=endpoint, connections=connections, summary={**SUMMARY, **clean, **changes}
    )
