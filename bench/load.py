"""Driving load with wrk: the endpoints under test, one wrk run, and what it measured."""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

LUA_SCRIPT = Path(__file__).resolve().parent / "lua" / "fresh_ids.lua"

# A hot path's goal: at least this fraction of the floor's throughput at the same concurrency.
FLOOR_RATIO_GOAL = 0.6

RESULT_BODY = json.dumps(
    {
        "result": "success",
        "contactMetadata": {
            "deliveryStatus": "delivered",
            "deliveryMethod": "same_page",
            "signalSource": "bench",
            "networkStatus": 200,
            "submitToSignalMs": 420,
        },
    }
)


FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Endpoint:
    """One endpoint under load. `{id}` in path and body is replaced by a fresh id per request.

    Answered means `ok_status` (0: any 2xx), the status the database's count is checked against.
    """

    name: str
    title: str
    path: str
    body: str = ""
    method: str = "POST"
    content_type: str = "application/json"
    fresh_ids: bool = True
    credential: str = ""
    cookie: str = ""
    ok_status: int = 0

    def request_for(self, fresh_id: str) -> tuple[str, str]:
        return self.path.replace("{id}", fresh_id), self.body.replace("{id}", fresh_id)


def floor_endpoint() -> Endpoint:
    return Endpoint(
        name="floor",
        title="floor: SELECT + UPDATE of a bot (`POST /bench/floor`)",
        path="/bench/floor",
        body='{"botId": "{id}"}',
    )


def result_endpoint() -> Endpoint:
    return Endpoint(
        name="result",
        title="widget result post (`POST /v1/public/actions/{executionId}/result`)",
        path="/v1/public/actions/{id}/result",
        body=RESULT_BODY,
    )


def respond_endpoint(*, user_token: str, action_id: str, response_data: Any) -> Endpoint:
    body = json.dumps({"notification_id": "{id}", "action_id": action_id, "response_data": response_data})
    return Endpoint(
        name="respond",
        title="client respond (`POST /api/v1/client/respond`)",
        path="/api/v1/client/respond",
        body=body,
        credential=user_token,
    )


def dry_run_endpoint(*, service_key: str, action_id: str) -> Endpoint:
    return Endpoint(
        name="trigger_dry_run",
        title="dry-run trigger (`POST /actions/{id}/trigger`, `dry_run: true`)",
        path=f"/actions/{action_id}/trigger",
        body='{"dry_run": true}',
        fresh_ids=False,
        credential=service_key,
    )


def trigger_endpoint(*, service_key: str, action_id: str) -> Endpoint:
    return Endpoint(
        name="trigger",
        title="trigger to a local receiver (`POST /actions/{id}/trigger`, `decision: true`)",
        path=f"/actions/{action_id}/trigger",
        body='{"decision": true}',
        fresh_ids=False,
        credential=service_key,
    )


@dataclass(frozen=True)
class InboxSession:
    """A person signed in to the inbox: the cookies a browser would send, and the form's token."""

    session_id: str
    csrf_token: str

    @property
    def cookie(self) -> str:
        return f"sessionid={self.session_id}; csrftoken={self.csrf_token}"


def inbox_list_endpoint(*, session: InboxSession) -> Endpoint:
    return Endpoint(
        name="inbox_list",
        title="inbox list (`GET /inbox/`)",
        path="/inbox/",
        method="GET",
        fresh_ids=False,
        cookie=session.cookie,
    )


def inbox_page_endpoint(*, session: InboxSession, notification_id: str) -> Endpoint:
    return Endpoint(
        name="inbox_page",
        title="a notification's page (`GET /inbox/{id}/`)",
        path=f"/inbox/{notification_id}/",
        method="GET",
        fresh_ids=False,
        cookie=session.cookie,
    )


def inbox_answer_endpoint(*, session: InboxSession, action_id: str, response_data: str) -> Endpoint:
    body = urlencode(
        {"csrfmiddlewaretoken": session.csrf_token, "action_id": action_id, "response_data": response_data}
    )
    return Endpoint(
        name="inbox_answer",
        title="inbox form answer (`POST /inbox/{id}/`, 303 to the page)",
        path="/inbox/{id}/",
        body=body,
        content_type=FORM,
        cookie=session.cookie,
        # Answered, the form redirects to the notification's page (See Other).
        ok_status=303,
    )


@dataclass(frozen=True)
class WrkRun:
    endpoint: str
    connections: int
    seconds: float
    requests: int
    ok: int
    non2xx: int
    reused_ids: int
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]
    first_failure: dict[str, Any]

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        """Everything that is not a clean 2xx answer to a request sent once."""
        return self.non2xx + sum(self.socket_errors.values()) + self.reused_ids

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "connections": self.connections,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "requests_per_second": round(self.requests_per_second, 1),
            "ok": self.ok,
            "non2xx": self.non2xx,
            "reused_ids": self.reused_ids,
            "socket_errors": self.socket_errors,
            "errors": self.errors,
            "latency_ms": self.latency_ms,
            "first_failure": self.first_failure,
        }


def parse_wrk_summary(*, endpoint: str, connections: int, summary: dict[str, Any]) -> WrkRun:
    """The JSON that lua/fresh_ids.lua writes in done(), in the units the report uses."""
    latency = summary["latency_us"]
    return WrkRun(
        endpoint=endpoint,
        connections=connections,
        seconds=summary["duration_us"] / 1_000_000,
        requests=int(summary["requests"]),
        ok=int(summary["ok"]),
        non2xx=int(summary["non2xx"]),
        reused_ids=int(summary["reused_ids"]),
        socket_errors={key: int(value) for key, value in summary["socket_errors"].items()},
        latency_ms={key: round(float(value) / 1000, 2) for key, value in latency.items()},
        first_failure=summary["first_failure"],
    )


def wrk_command(*, base_url: str, connections: int, seconds: float, threads: int) -> list[str]:
    return [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        base_url,
    ]


def run_wrk(
    *,
    endpoint: Endpoint,
    base_url: str,
    connections: int,
    seconds: float,
    threads: int,
    ids_file: Path | None,
    out_file: Path,
) -> WrkRun:
    """One wrk run against `endpoint`; wrk is its own process, apart from the server's."""
    threads = min(threads, connections)
    env = {
        **os.environ,
        "BENCH_METHOD": endpoint.method,
        "BENCH_PATH": endpoint.path,
        "BENCH_BODY": endpoint.body,
        "BENCH_CONTENT_TYPE": endpoint.content_type,
        "BENCH_AUTH": endpoint.credential,
        "BENCH_COOKIE": endpoint.cookie,
        "BENCH_OK_STATUS": str(endpoint.ok_status or ""),
        "BENCH_IDS": str(ids_file) if ids_file else "",
        "BENCH_THREADS": str(threads),
        "BENCH_OUT": str(out_file),
    }
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.unlink(missing_ok=True)
    command = wrk_command(base_url=base_url, connections=connections, seconds=seconds, threads=threads)
    completed = subprocess.run(  # noqa: S603 - a fixed command line
        command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if completed.returncode != 0 or not out_file.exists():
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()[:500]}")
    summary = json.loads(out_file.read_text())
    return parse_wrk_summary(endpoint=endpoint.name, connections=connections, summary=summary)


def ids_needed(*, seconds: float, max_rate: int) -> int:
    """Fresh ids for one run: enough for `max_rate` requests a second, with room to spare."""
    return int(seconds * max_rate) + 200
