"""The HTTP part's arithmetic: the schedule, the ratios to the floor, the server log.

No timings are asserted anywhere: these check that the numbers are read and combined right.
"""

from bench import hot_paths, load, report
from tests.bench.summaries import SUMMARY, wrk_run


def test_each_endpoint_alternates_with_the_floor_after_one_warm_up_each() -> None:
    floor, result = load.floor_endpoint(), load.result_endpoint()
    runs = hot_paths.schedule(
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
    runs = hot_paths.schedule(
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
    levels = hot_paths.levels_from(slices_of(rates, endpoints=[result, respond]), titles=titles)
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
    assert hot_paths.combined([fast, slow])["latency_ms"]["p50"] == 15.0


def test_an_endpoint_with_errors_misses_its_goal_whatever_its_speed() -> None:
    result = load.result_endpoint()
    results = slices_of({}, endpoints=[result], **{"result-c8-2": 1})
    levels = hot_paths.levels_from(results, titles={"floor": "floor", "result": "result"})
    assert levels["8"]["result"]["ratio"] == 1.0
    assert levels["8"]["result"]["errors"] == 1 and levels["8"]["result"]["meets_goal"] is False
    assert any("result at 8 connections" in line for line in report.shortfalls({"http": {"levels": levels}}))


def test_the_server_log_summary_counts_errors_and_5xx(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "gunicorn.log"
    log.write_text(
        '{"level": "INFO", "status": 200}\n{"level": "ERROR", "status": 500}\n[gunicorn] Booting worker\n'
    )
    assert hot_paths.server_log_summary(log) == {"lines": 3, "errors": 1, "status_5xx": 1, "not_json": 1}
