"""Measurements taken in-process with Django's test Client, against the bench database.

- `count_queries`: the SQL one request of an endpoint runs, through the whole middleware stack.
- `time_get`, `time_call`: the admin pages at scale (a staff session) and the summary, median of a
  few requests.
- `api_call`, `inbox_login`: the project's own API and login page, called in-process to set up
  the bench's data and sessions.
- `export_once`: one streamed download of the CSV export, run by `bench.export_probe` in a
  process of its own so that the harness can read that process's peak memory.
"""

import json
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.load import Endpoint, InboxSession

# The test Client's host must be one the production settings allow.
CLIENT_HOST = "127.0.0.1"
LOGIN_PATH = "/inbox/login/"


def client() -> Client:
    # CSRF checked as for a browser: the inbox's form posts must carry the session's token.
    return Client(SERVER_NAME=CLIENT_HOST, enforce_csrf_checks=True)


def staff_client(*, username: str) -> Client:
    staff = client()
    staff.force_login(User.objects.get(username=username))
    return staff


def api_call(method: str, path: str, body: dict[str, Any], credential: str) -> tuple[int, dict[str, Any]]:
    """A call through the project's own API (in-process), to set up owners the way a user would."""
    response = getattr(client(), method)(
        path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {credential}"},
    )
    try:
        payload = response.json()
    except ValueError:
        payload = {"raw": response.content[:300].decode(errors="replace")}
    return response.status_code, payload


def inbox_login(*, username: str, password: str) -> InboxSession:
    """Sign in through the inbox's login page, as a browser does: its form, then its cookies."""
    browser = client()
    browser.get(LOGIN_PATH)
    response = browser.post(
        LOGIN_PATH,
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        },
    )
    if response.status_code != 302:
        raise RuntimeError(f"POST {LOGIN_PATH} answered {response.status_code}, not the redirect of a login")
    # Signing in rotates the CSRF token: these are the cookies the login answer set.
    return InboxSession(
        session_id=browser.cookies["sessionid"].value, csrf_token=browser.cookies["csrftoken"].value
    )


def request(client: Client, endpoint: Endpoint, fresh_id: str) -> HttpResponse:
    """One request of `endpoint`, the one wrk sends (its credential, cookies and body)."""
    path, body = endpoint.request_for(fresh_id)
    headers = {"Authorization": f"Bearer {endpoint.credential}"} if endpoint.credential else {}
    if endpoint.cookie:
        headers["Cookie"] = endpoint.cookie
    if endpoint.method == "GET":
        return client.get(path, headers=headers)  # type: ignore[return-value]
    return client.post(path, data=body, content_type=endpoint.content_type, headers=headers)  # type: ignore[return-value]


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")


def is_transaction_control(sql: str) -> bool:
    return sql.lstrip().upper().startswith(TRANSACTION_CONTROL)


def count_queries(*, endpoint: Endpoint, fresh_ids: list[str]) -> dict[str, Any]:
    """Queries per request, read on the last of a few requests (the first pays one-time costs).

    `queries` leaves out BEGIN/COMMIT/SAVEPOINT (which Django's capture lists as statements too);
    `statements` counts everything that went to the server.
    """
    api = client()
    runs: list[dict[str, Any]] = []
    for fresh_id in fresh_ids:
        with CaptureQueriesContext(connection) as captured:
            response = request(api, endpoint, fresh_id)
        statements = [query["sql"] for query in captured.captured_queries]
        runs.append(
            {
                "status": response.status_code,
                "queries": sum(not is_transaction_control(sql) for sql in statements),
                "statements": len(statements),
                "sql": [sql[:200] for sql in statements],
            }
        )
    return {**runs[-1], "runs": runs}


def consume(response: Any) -> tuple[int, int]:
    """Bytes and lines of a response, read the way a browser would, without keeping them."""
    size = lines = 0
    # Under WSGI a streaming response is a plain iterator of bytes.
    chunks: Iterable[bytes] = (
        cast(Iterable[bytes], response.streaming_content)
        if isinstance(response, StreamingHttpResponse)
        else [response.content]
    )
    for chunk in chunks:
        size += len(chunk)
        lines += chunk.count(b"\n")
    return size, lines


def time_get(*, client: Client, url: str, repeat: int, cold: bool) -> dict[str, Any]:
    """Median wall time of `repeat` GETs of `url` after one unmeasured GET, with its query count.

    `cold` empties the cache before each request, so that what a page caches (the admin's
    summary) is computed again every time: the cost of a first view, not of a reload.
    """
    if cold:
        cache.clear()
    client.get(url)
    timings: list[float] = []
    status = queries = size = 0
    for _ in range(repeat):
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            size, _ = consume(response)
            timings.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        queries = sum(not is_transaction_control(query["sql"]) for query in captured.captured_queries)
    return {
        "url": url,
        "cold": cold,
        "status": status,
        "median_ms": round(statistics.median(timings), 1),
        "min_ms": round(min(timings), 1),
        "max_ms": round(max(timings), 1),
        "queries": queries,
        "bytes": size,
    }


def time_call(*, call: Callable[[], object], repeat: int) -> dict[str, Any]:
    """Median wall time of `repeat` calls after one unmeasured call."""
    call()
    timings: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(timings), 1),
        "min_ms": round(min(timings), 1),
        "max_ms": round(max(timings), 1),
    }


def export_once(*, url: str, username: str) -> dict[str, Any]:
    started = time.perf_counter()
    response = staff_client(username=username).get(url)
    size, lines = consume(response)
    return {
        "status": response.status_code,
        "streaming": isinstance(response, StreamingHttpResponse),
        "content_type": response.get("Content-Type", ""),
        "bytes": size,
        "lines": lines,
        "seconds": round(time.perf_counter() - started, 2),
    }
