"""The harness's own logic: parsing wrk's summary, ratios, the schedule, reports, the receiver.

No timings are asserted anywhere: these check that the numbers are read and combined right.
"""

import argparse
import http.client
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from config.bench import load, orchestrator, report

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


def test_wrk_summary_is_read_in_requests_per_second_and_milliseconds() -> None:
    run = load.parse_wrk_summary(endpoint="result", connections=8, summary=SUMMARY)
    assert run.requests_per_second == 500.0
    assert run.latency_ms["p50"] == 12.5
    assert run.latency_ms["p99"] == 40.0
    # Non-2xx answers and socket errors are all errors.
    assert run.errors == 13
    assert run.as_dict()["errors"] == 13


def test_an_id_used_twice_is_an_error() -> None:
    run = wrk_run("result", 8, 1000, reused_ids=5)
    assert run.errors == 5


def test_each_request_gets_its_own_id_in_path_and_body() -> None:
    endpoint = load.result_endpoint()
    path, body = endpoint.request_for("abc")
    assert path == "/v1/public/actions/abc/result"
    assert json.loads(body)["result"] == "success"
    floor_path, floor_body = load.floor_endpoint().request_for("b0t")
    assert floor_path == "/bench/floor"
    assert json.loads(floor_body) == {"botId": "b0t"}
    respond = load.respond_endpoint(user_token="ut_x", action_id="decide", response_data=True)
    assert json.loads(respond.request_for("n1")[1]) == {
        "notification_id": "n1",
        "action_id": "decide",
        "response_data": True,
    }
    assert respond.credential == "ut_x"


def test_triggers_need_no_fresh_ids() -> None:
    dry = load.dry_run_endpoint(service_key="sk_x", action_id="hook")
    real = load.trigger_endpoint(service_key="sk_x", action_id="hook")
    assert not dry.fresh_ids and not real.fresh_ids
    assert json.loads(dry.body) == {"dry_run": True}
    assert json.loads(real.body) == {"decision": True}
    assert dry.path == real.path == "/actions/hook/trigger"


def test_enough_ids_are_seeded_for_the_fastest_expected_rate() -> None:
    assert load.ids_needed(seconds=2, max_rate=2500) >= 5_000


def test_wrk_gets_the_script_and_never_more_threads_than_connections() -> None:
    command = load.wrk_command(base_url="http://127.0.0.1:1", connections=1, seconds=10, threads=2)
    assert "-t1" in command and "-c1" in command and "-d10s" in command
    assert str(load.LUA_SCRIPT) in command
    assert load.LUA_SCRIPT.exists()


def test_each_endpoint_alternates_with_the_floor_after_one_warm_up_each() -> None:
    floor, result = load.floor_endpoint(), load.result_endpoint()
    runs = orchestrator.schedule(
        floor=floor, endpoints=[result], connections=[8, 64], seconds=4, warmup=2, slices=2
    )
    assert [run.label for run in runs] == [
        "warmup-floor",
        "warmup-result",
        "floor-for-result-c8-1",
        "result-c8-1",
        "floor-for-result-c8-2",
        "result-c8-2",
        "floor-for-result-c64-1",
        "result-c64-1",
        "floor-for-result-c64-2",
        "result-c64-2",
    ]
    assert not any(run.measured for run in runs[:2]) and all(run.measured for run in runs[2:])
    assert {run.seconds for run in runs[2:]} == {2.0}
    assert {run.pair for run in runs if run.endpoint is floor and run.measured} == {"result"}


def slices_of(rates: dict[str, int], *, endpoints: list[load.Endpoint], **errors: int) -> list:  # type: ignore[type-arg]
    """A schedule of 2 slices of 10 s at 8 connections, each run at its rate (requests/s)."""
    runs = orchestrator.schedule(
        floor=load.floor_endpoint(), endpoints=endpoints, connections=[8], seconds=20, warmup=2, slices=2
    )
    return [
        (run, wrk_run(run.endpoint.name, 8, rates.get(run.label, 5) * 10, non2xx=errors.get(run.label, 0)))
        for run in runs
    ]


def test_ratio_is_against_the_floor_slices_next_to_the_endpoint() -> None:
    result, respond = (
        load.result_endpoint(),
        load.respond_endpoint(user_token="t", action_id="a", response_data=1),
    )
    rates = {
        "floor-for-result-c8-1": 1000,
        "result-c8-1": 600,
        "floor-for-result-c8-2": 600,  # the machine got busy: both halves slow down together
        "result-c8-2": 360,
        "floor-for-respond-c8-1": 900,
        "respond-c8-1": 400,
        "floor-for-respond-c8-2": 900,
        "respond-c8-2": 500,
        "warmup-result": 1,
    }
    titles = {"floor": "floor", "result": "result", "respond": "respond"}
    levels = orchestrator.levels_from(slices_of(rates, endpoints=[result, respond]), titles=titles)
    assert list(levels) == ["8"]
    level = levels["8"]
    assert level["result"]["requests_per_second"] == 480.0
    assert level["result"]["floor_requests_per_second"] == 800.0
    assert level["result"]["ratio"] == 0.6 and level["result"]["meets_goal"] is True
    assert level["respond"]["ratio"] == 0.5 and level["respond"]["meets_goal"] is False
    assert level["floor"]["requests_per_second"] == 850.0
    assert level["floor"]["slices_requests_per_second"] == [1000.0, 600.0, 900.0, 900.0]


def test_latency_of_slices_is_weighted_by_their_requests() -> None:
    fast = wrk_run("result", 8, 3000, latency_us={**SUMMARY["latency_us"], "p50": 10_000})
    slow = wrk_run("result", 8, 1000, latency_us={**SUMMARY["latency_us"], "p50": 30_000})
    assert orchestrator.combined([fast, slow])["latency_ms"]["p50"] == 15.0


def test_an_endpoint_with_errors_misses_its_goal_whatever_its_speed() -> None:
    result = load.result_endpoint()
    results = slices_of({}, endpoints=[result], **{"result-c8-2": 1})
    levels = orchestrator.levels_from(results, titles={"floor": "floor", "result": "result"})
    assert levels["8"]["result"]["ratio"] == 1.0
    assert levels["8"]["result"]["errors"] == 1 and levels["8"]["result"]["meets_goal"] is False
    assert any("result at 8 connections" in line for line in report.shortfalls({"http": {"levels": levels}}))


@pytest.mark.parametrize(
    ("rows", "consistent"),
    [(100, True), (108, True), (109, False), (99, False)],
)
def test_database_counts_may_exceed_wrk_counts_by_the_requests_in_flight(rows: int, consistent: bool) -> None:
    check = {"answered_2xx": 100, "in_flight_allowance": 8, "rows_completed": rows}
    assert report.check_consistent(check) is consistent


def test_changelist_growth_beyond_three_times_is_a_shortfall() -> None:
    slow = {"scale": {"checks": {"changelist_growth": {"value": 3.4, "goal": 3.0, "meets_goal": False}}}}
    fast = {"scale": {"checks": {"changelist_growth": {"value": 1.2, "goal": 3.0, "meets_goal": True}}}}
    assert report.shortfalls(slow) == ["changelist: 3.4x slower at the largest size (goal 3.0x)"]
    assert report.shortfalls(fast) == []


def test_a_section_of_the_doc_is_replaced_and_the_rest_kept() -> None:
    text = "# Benchmarks\n\nprose\n<!-- bench:http:start -->\nold\n<!-- bench:http:end -->\nafter\n"
    updated = report.replace_section(text, "http", "new table")
    assert (
        updated
        == "# Benchmarks\n\nprose\n<!-- bench:http:start -->\nnew table\n<!-- bench:http:end -->\nafter\n"
    )
    appended = report.replace_section("# Benchmarks\n", "scale", "rows")
    assert appended.endswith("<!-- bench:scale:start -->\nrows\n<!-- bench:scale:end -->\n")


def test_markdown_tables_carry_the_machine_and_every_endpoint() -> None:
    machine = {
        "date": "2026-01-01T00:00:00Z",
        "commit": "abc1234",
        "cpu": "Test CPU",
        "cores": 2,
        "memory_gib": 4.0,
        "python": "3.12.1",
        "postgresql": "15.2",
        "redis": "7.0",
        "django": "6.1",
        "gunicorn": "23",
        "wrk": "wrk 4.1.0",
        "load_average_at_start": [0.5, 0.4, 0.3],
    }
    levels = {
        "8": {
            "floor": {
                "title": "floor",
                "requests_per_second": 900.0,
                "ratio": 1.0,
                "errors": 0,
                "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0},
            },
            "result": {
                "title": "result post",
                "requests_per_second": 540.0,
                "ratio": 0.6,
                "meets_goal": True,
                "errors": 0,
                "latency_ms": {"p50": 1.5, "p95": 2.5, "p99": 3.5},
            },
        }
    }
    http = {
        "settings": {"workers": 4, "threads": 2, "seconds": 10, "slices": 5, "warmup_seconds": 2},
        "levels": levels,
        "queries": {"floor": {"queries": 2}, "result": {"queries": 3}},
        "skipped": {"respond": "not in this checkout yet"},
    }
    table = report.http_markdown(http, machine)
    assert "Test CPU, 2 cores, 4.0 GiB" in table and "PostgreSQL 15.2" in table
    assert "| result post | 8 | 540 | 0.60 ✓ | 1.5 | 2.5 | 3.5 | 0 | 3 |" in table
    assert "skipped: not in this checkout yet" in table
    scale = {
        "levels": {"10000": {"figures": {"changelist": 40.0}}, "1000000": {"figures": {"changelist": 60.0}}},
        "notes": ["a note"],
    }
    scale_table = report.scale_markdown(scale, machine)
    assert (
        "| Contact Submissions changelist, first view (cache emptied) (ms) | 40.0 | 60.0 | 1.50x |"
        in scale_table
    )
    assert "10,000 rows" in scale_table and "- a note" in scale_table


def test_machine_facts_are_read_from_proc() -> None:
    assert report.cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n") == "AMD EPYC 7B13"
    assert report.memory_gib("MemTotal:       24683520 kB\nMemFree: 1 kB\n") == 23.5
    assert report.memory_gib("") is None


def test_arguments_allow_running_parts() -> None:
    args = orchestrator.parse_args(["--only", "scale", "--rows", "10000"])
    assert args.only == "scale" and args.rows == [10_000]
    assert orchestrator.parse_args([]).rows == [10_000, 1_000_000]
    assert orchestrator.parse_args([]).connections == [8, 64]
    with pytest.raises(argparse.ArgumentTypeError):
        orchestrator.int_list("10k")
    with pytest.raises(argparse.ArgumentTypeError):
        orchestrator.int_list("0")


def test_the_bench_never_leaves_this_machine() -> None:
    orchestrator.require_loopback("postgres://postgres@127.0.0.1:5432/loopback_bench")
    orchestrator.require_loopback("redis://localhost:6379/14")
    with pytest.raises(SystemExit):
        orchestrator.require_loopback("postgres://postgres@db.example.com:5432/loopback_bench")


def test_the_bench_database_is_reset_through_the_maintenance_database() -> None:
    url, name = orchestrator.maintenance_url("postgres://postgres@127.0.0.1:5432/loopback_bench")
    assert url == "postgres://postgres@127.0.0.1:5432/postgres" and name == "loopback_bench"
    with pytest.raises(SystemExit):
        orchestrator.maintenance_url('postgres://postgres@127.0.0.1:5432/x"; DROP')


def test_the_server_runs_with_production_settings_and_the_floor_on() -> None:
    env = orchestrator.bench_environment(database_url="postgres://db", redis_url="redis://r/14")
    assert env["DEBUG"] == "false" and len(env["SECRET_KEY"]) >= 50
    assert env["BENCH_FLOOR_ENABLED"] == "true" and env["OUTBOUND_ALLOW_PRIVATE"] == "true"
    assert env["DATABASE_URL"] == "postgres://db" and env["REDIS_URL"] == "redis://r/14"
    count, unit = env["ACTIONS_TRIGGER_RATE"].split("/")
    assert int(count) >= 100_000 and unit == "s"


def test_the_server_log_summary_counts_errors_and_5xx(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "gunicorn.log"
    log.write_text(
        '{"level": "INFO", "status": 200}\n{"level": "ERROR", "status": 500}\n[gunicorn] Booting worker\n'
    )
    assert orchestrator.server_log_summary(log) == {"lines": 3, "errors": 1, "status_5xx": 1, "not_json": 1}


def test_the_receiver_answers_204_and_counts_on_new_and_kept_alive_connections() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "config.bench.receiver"], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2]
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().decode().strip())
        base = f"http://127.0.0.1:{port}"
        for _ in range(2):
            request = urllib.request.Request(f"{base}/hook", data=b'{"a": 1}', method="POST")
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 204
        kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for body in (b"{}", b'{"b": 2}', b""):
            kept_alive.request("POST", "/hook", body=body, headers={"Content-Type": "application/json"})
            answer = kept_alive.getresponse()
            assert (answer.status, answer.read()) == (204, b"")
        kept_alive.request("GET", "/count")
        assert kept_alive.getresponse().read() == b"5"
        kept_alive.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_measured_command_reports_its_own_peak_memory() -> None:
    small = orchestrator.measured_run(["python3", "-c", "pass"], timeout=30)
    big = orchestrator.measured_run(
        ["python3", "-c", "x = bytearray(200 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"], timeout=30
    )
    assert small.returncode == 0 and big.returncode == 0
    # Its own peak, not the pytest process it was started from.
    assert small.peak_rss_mib < 60
    assert big.peak_rss_mib > small.peak_rss_mib + 150
    slow = orchestrator.measured_run(["python3", "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert slow.timed_out
