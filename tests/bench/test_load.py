"""The wrk side: the endpoints under load, wrk's command line and the summary it writes."""

import json
from urllib.parse import parse_qs

from bench import load
from tests.bench.summaries import SUMMARY, wrk_run


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


def test_the_inbox_reads_are_gets_with_the_session_and_no_body() -> None:
    session = load.InboxSession(session_id="s1", csrf_token="c1")
    listing = load.inbox_list_endpoint(session=session)
    page = load.inbox_page_endpoint(session=session, notification_id="n1")
    for endpoint in (listing, page):
        assert endpoint.method == "GET" and endpoint.body == "" and not endpoint.fresh_ids
        assert endpoint.cookie == "sessionid=s1; csrftoken=c1"
    assert listing.path == "/inbox/" and page.path == "/inbox/n1/"


def test_the_inbox_answer_posts_the_form_with_its_token_and_counts_the_redirect() -> None:
    session = load.InboxSession(session_id="s1", csrf_token="c1")
    answer = load.inbox_answer_endpoint(session=session, action_id="decide", response_data="true")
    path, body = answer.request_for("n1")
    assert path == "/inbox/n1/"
    assert parse_qs(body) == {
        "csrfmiddlewaretoken": ["c1"],
        "action_id": ["decide"],
        "response_data": ["true"],
    }
    assert answer.content_type == load.FORM and answer.ok_status == 303
    assert answer.cookie == session.cookie and answer.fresh_ids
