"""The outbound client against real local receivers (contract 5)."""

import base64
import json
import socket
import threading
import time
from collections.abc import Callable

import pytest
from pytest_django.fixtures import Settings
from standardwebhooks import Webhook, WebhookVerificationError

from config.accounts.secrets import new_webhook_secret
from config.outbound.client import ErrorKind, OutboundResult, post_signed
from tests.outbound.receivers import (
    Receiver,
    Respond,
    answering,
    answering_then_closing,
    hanging_up,
    holding_until_released,
    quick_then_trickling,
    reply,
    resetting,
    trickling_headers,
)

SECRET = new_webhook_secret()
BODY = json.dumps({"type": "notification.responded", "notification_id": "n-1"}).encode()


def post(url: str, *, timeout_seconds: float = 5.0, message_id: str = "msg_test") -> OutboundResult:
    return post_signed(
        url=url, secrets=[SECRET], message_id=message_id, body=BODY, timeout_seconds=timeout_seconds
    )


@pytest.fixture(autouse=True)
def _private_allowed_unless_a_test_says_otherwise(settings: Settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True


def test_a_2xx_is_ok_and_the_receiver_verifies_the_signature_with_a_standard_webhooks_library(
    receivers: Callable[[Respond], Receiver],
) -> None:
    receiver = receivers(answering(200, b'{"thanks": true}'))

    result = post(receiver.url, message_id="msg_abc")

    assert result.ok
    assert (result.status_code, result.error_kind, result.body_prefix) == (200, None, '{"thanks": true}')
    [received] = receiver.received
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["webhook-id"] == "msg_abc"
    assert received.headers["webhook-signature"].startswith("v1,")
    assert received.verified_payload(SECRET) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(received.body, received.headers)


def test_a_500_is_an_http_status_failure_with_the_answer_kept(
    receivers: Callable[[Respond], Receiver],
) -> None:
    receiver = receivers(answering(500, b"database on fire"))

    result = post(receiver.url)

    assert not result.ok
    assert (result.status_code, result.error_kind) == (500, ErrorKind.HTTP_STATUS)
    assert result.body_prefix == "database on fire"
    assert result.retry_after_seconds is None


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("120", 120), ("Thu, 01 Jan 1970 00:00:00 GMT", 0), ("soon", None)],
)
def test_a_429_reports_its_retry_after(
    receivers: Callable[[Respond], Receiver], retry_after: str, expected: int | None
) -> None:
    receiver = receivers(answering(429, headers={"Retry-After": retry_after}))

    result = post(receiver.url)

    assert (result.status_code, result.error_kind, result.retry_after_seconds) == (
        429,
        ErrorKind.HTTP_STATUS,
        expected,
    )


def test_only_the_first_4_kib_of_the_answer_are_kept_and_nul_bytes_are_replaced(
    receivers: Callable[[Respond], Receiver],
) -> None:
    receiver = receivers(answering(200, b"\x00" + b"x" * 10_000))

    result = post(receiver.url)

    assert result.ok
    assert len(result.body_prefix) == 4096
    assert result.body_prefix.startswith("\ufffdxxx")


def test_a_redirect_is_not_followed(receivers: Callable[[Respond], Receiver]) -> None:
    elsewhere = receivers(answering(200))
    receiver = receivers(answering(307, headers={"Location": elsewhere.url}))

    result = post(receiver.url)

    assert (result.status_code, result.error_kind) == (307, ErrorKind.REDIRECT)
    assert receiver.count == 1
    assert elsewhere.count == 0


def where(receiver: Receiver) -> str:
    return f"127.0.0.1:{receiver.server.server_port}"


def test_a_receiver_that_hangs_up_is_a_connection_failure(receivers: Callable[[Respond], Receiver]) -> None:
    receiver = receivers(hanging_up)

    result = post(receiver.url)

    assert (result.status_code, result.error_kind, result.error) == (
        None,
        ErrorKind.CONNECTION,
        f"{where(receiver)} closed the connection without answering",
    )
    assert receiver.count == 1


def test_a_receiver_that_resets_the_connection_is_named_so(receivers: Callable[[Respond], Receiver]) -> None:
    receiver = receivers(resetting)

    result = post(receiver.url)

    assert (result.status_code, result.error_kind, result.error) == (
        None,
        ErrorKind.CONNECTION,
        f"connection reset by {where(receiver)}",
    )


def test_a_receiver_that_answers_502_is_named_with_its_status(
    receivers: Callable[[Respond], Receiver],
) -> None:
    receiver = receivers(answering(502))

    result = post(receiver.url)

    assert (result.status_code, result.error_kind, result.error) == (
        502,
        ErrorKind.HTTP_STATUS,
        f"{where(receiver)} answered 502",
    )


def test_a_receiver_that_answers_what_is_not_http_is_named_so() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"hello, this is not HTTP\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = post(f"http://127.0.0.1:{port}/hook")
    finally:
        thread.join(timeout=5)
        listener.close()

    assert result.error == f"127.0.0.1:{port} answered something that is not HTTP"


@pytest.mark.parametrize("allow_private", [True, False])
def test_a_name_that_does_not_resolve_is_named(settings: Settings, allow_private: bool) -> None:
    # With private addresses allowed the client's own connection resolves the name; otherwise the
    # address filter does.
    settings.OUTBOUND_ALLOW_PRIVATE = allow_private

    result = post("https://nonexistent.invalid/hook")

    assert (result.error_kind, result.error) == (
        ErrorKind.CONNECTION,
        "could not resolve nonexistent.invalid",
    )


def test_nothing_listening_is_a_connection_failure() -> None:
    port = _unused_port()

    result = post(f"http://127.0.0.1:{port}/hook")

    assert (result.error_kind, result.error) == (
        ErrorKind.CONNECTION,
        f"connection refused to 127.0.0.1:{port}",
    )


def test_the_cause_never_carries_the_url_s_credentials_path_or_query() -> None:
    port = _unused_port()

    result = post(f"http://hook-user:s3cret@127.0.0.1:{port}/hooks/personal?token=t0ken&email=a@b.example")

    assert result.error == f"connection refused to 127.0.0.1:{port}"


def test_a_receiver_slower_than_the_timeout_is_a_timeout(receivers: Callable[[Respond], Receiver]) -> None:
    receiver = receivers(holding_until_released)

    result = post(receiver.url, timeout_seconds=0.5)

    assert (result.status_code, result.error_kind, result.error) == (
        None,
        ErrorKind.TIMEOUT,
        f"timed out after 500 ms waiting for {where(receiver)}",
    )
    assert receiver.count == 1


def test_a_receiver_that_accepts_and_never_answers_is_a_timeout() -> None:
    # Listening, so the connection is made; nobody ever reads or answers.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        result = post(f"http://127.0.0.1:{port}/hook", timeout_seconds=0.3)
    finally:
        listener.close()

    assert (result.error_kind, result.error) == (
        ErrorKind.TIMEOUT,
        f"timed out after 300 ms waiting for 127.0.0.1:{port}",
    )


def test_the_timeout_is_a_total_deadline_even_when_every_read_gets_a_byte(
    receivers: Callable[[Respond], Receiver],
) -> None:
    # Each header line arrives well within a socket timeout of 0.5 s; only a deadline on the
    # whole request ends this answer (it would otherwise last until the receiver closes).
    receiver = receivers(trickling_headers)

    result = post(receiver.url, timeout_seconds=0.5)

    assert result.error_kind == ErrorKind.TIMEOUT
    assert not receiver.release.is_set()


def test_a_short_deadline_is_not_held_up_by_a_longer_one_already_running(
    receivers: Callable[[Respond], Receiver],
) -> None:
    # One watchdog thread serves the deadlines of every request of the process: a deadline that
    # comes after a longer one must still fall due first.
    slow = receivers(holding_until_released)
    longer_results: list[OutboundResult] = []
    longer = threading.Thread(target=lambda: longer_results.append(post(slow.url, timeout_seconds=10.0)))
    longer.start()
    assert slow.wait_for(1)
    trickling = receivers(trickling_headers)

    result = post(trickling.url, timeout_seconds=0.5)

    assert result.error_kind == ErrorKind.TIMEOUT
    assert not trickling.release.is_set()
    assert longer.is_alive()
    slow.release.set()
    longer.join()
    assert [(r.status_code, r.error_kind) for r in longer_results] == [(200, None)]


def test_the_body_of_a_timely_answer_is_read_only_until_the_deadline(
    receivers: Callable[[Respond], Receiver],
) -> None:
    def status_then_trickle(handler, number, receiver):  # type: ignore[no-untyped-def]
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        handler.wfile.write(b"started")
        handler.wfile.flush()
        while not receiver.release.wait(0.1):
            handler.wfile.write(b".")
            handler.wfile.flush()

    receiver = receivers(status_then_trickle)

    result = post(receiver.url, timeout_seconds=0.5)

    # The status arrived in time and decides; the body is kept as far as it came.
    assert (result.ok, result.status_code) == (True, 200)
    assert result.body_prefix.startswith("started")
    assert not receiver.release.is_set()


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[::7f00:1]",
        "[fe80::1]",
        "[fc00::1]",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "127.1",
    ],
)
def test_non_public_destinations_are_refused_before_connecting(settings: Settings, host: str) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False

    result = post(f"http://{host}:{_unused_port()}/hook")

    # Nothing listens on that port: a connection attempt would be a `connection` error instead.
    assert (result.status_code, result.error_kind) == (None, ErrorKind.REFUSED_DESTINATION)
    assert "not a public address" in result.error


def test_a_reachable_local_receiver_is_refused_unless_private_addresses_are_allowed(
    settings: Settings, receivers: Callable[[Respond], Receiver]
) -> None:
    receiver = receivers(answering(200))
    settings.OUTBOUND_ALLOW_PRIVATE = False

    refused = [post(receiver.url), post(receiver.url.replace("127.0.0.1", "localhost"))]
    settings.OUTBOUND_ALLOW_PRIVATE = True
    allowed = post(receiver.url)

    assert [r.error_kind for r in refused] == [ErrorKind.REFUSED_DESTINATION] * 2
    port = receiver.server.server_port
    assert [r.error for r in refused] == [
        f"refused 127.0.0.1:{port}: 127.0.0.1 is not a public address",
        f"refused localhost:{port}: 127.0.0.1 is not a public address",
    ]
    assert allowed.ok
    assert receiver.count == 1


@pytest.mark.parametrize("url", ["", "ftp://example.com/hook", "http://", "http://a..b/", "not a url"])
def test_what_is_not_an_http_url_is_refused(url: str) -> None:
    result = post(url)

    assert (result.error_kind, result.error) == (
        ErrorKind.REFUSED_DESTINATION,
        "refused: not an absolute http(s) URL",
    )


def test_a_proxy_in_the_environment_is_ignored(
    monkeypatch: pytest.MonkeyPatch, receivers: Callable[[Respond], Receiver]
) -> None:
    # A proxy would connect on our behalf, out of the address filter's sight.
    proxy = receivers(answering(200))
    receiver = receivers(answering(200))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)

    result = post(receiver.url)

    assert result.ok
    assert (receiver.count, proxy.count) == (1, 0)


def test_any_2xx_counts_and_nothing_else(receivers: Callable[[Respond], Receiver]) -> None:
    receiver = receivers(lambda handler, number, r: reply(handler, {1: 201, 2: 299}.get(number, 503)))

    results = [post(receiver.url) for _ in range(3)]

    assert [(r.status_code, r.ok) for r in results] == [(201, True), (299, True), (503, False)]


def test_the_deadline_also_cuts_a_tls_handshake_that_never_ends() -> None:
    # A "TLS server" that starts a huge record and sends it one byte at a time: every read of
    # the handshake gets data, so no per-read timeout ever fires.
    listener = socket.create_server(("127.0.0.1", 0))
    release = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)  # the ClientHello
            conn.sendall(b"\x16\x03\x03\x40\x00")
            while not release.wait(0.1):
                try:
                    conn.sendall(b"\x02")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = post(f"https://127.0.0.1:{listener.getsockname()[1]}/hook", timeout_seconds=0.5)
    finally:
        still_trickling = not release.is_set()
        release.set()
        thread.join(timeout=5)
        listener.close()

    assert result.error_kind == ErrorKind.TIMEOUT
    assert still_trickling


# Kept-alive connections


def test_posts_in_quick_succession_share_one_connection(receivers: Callable[[Respond], Receiver]) -> None:
    receiver = receivers(answering(204))

    results = [post(receiver.url, message_id=f"msg_{n}") for n in range(3)]

    assert [(r.ok, r.status_code) for r in results] == [(True, 204)] * 3
    assert len({received.peer for received in receiver.received}) == 1


def test_a_connection_idle_for_longer_than_the_setting_is_not_reused(
    receivers: Callable[[Respond], Receiver], settings: Settings
) -> None:
    settings.OUTBOUND_KEEP_ALIVE_SECONDS = 0.5
    receiver = receivers(answering(204))

    post(receiver.url)
    post(receiver.url)
    time.sleep(0.8)
    post(receiver.url)

    first, second, third = (received.peer for received in receiver.received)
    assert first == second
    assert third != second


def test_no_connection_is_reused_when_the_setting_is_zero(
    receivers: Callable[[Respond], Receiver], settings: Settings
) -> None:
    settings.OUTBOUND_KEEP_ALIVE_SECONDS = 0
    receiver = receivers(answering(204))

    post(receiver.url)
    post(receiver.url)

    assert len({received.peer for received in receiver.received}) == 2


def test_a_connection_the_receiver_closed_is_replaced_not_failed(
    receivers: Callable[[Respond], Receiver],
) -> None:
    receiver = receivers(answering_then_closing)

    first = post(receiver.url)
    time.sleep(0.3)  # the close reaches us, as an idle timeout would before our next send
    second = post(receiver.url)

    assert (first.ok, second.ok) == (True, True)
    assert receiver.received[0].peer != receiver.received[1].peer


def test_the_deadline_also_cuts_an_answer_on_a_reused_connection(
    receivers: Callable[[Respond], Receiver],
) -> None:
    # Every header line arrives within the socket timeout: only the deadline ends this answer.
    receiver = receivers(quick_then_trickling)

    assert post(receiver.url).ok
    result = post(receiver.url, timeout_seconds=0.5)

    assert result.error_kind == ErrorKind.TIMEOUT
    # Unwatched, the answer would run on until http.client gives up at 100 headers (10 s).
    assert result.duration_ms < 5000
    assert receiver.received[0].peer == receiver.received[1].peer


def test_the_post_goes_to_the_url_s_path_and_query_with_its_host_and_our_user_agent(
    receivers: Callable[[Respond], Receiver],
) -> None:
    receiver = receivers(answering(204))

    assert post(f"{receiver.url}?service=s-1&kind=hook").ok

    [received] = receiver.received
    assert received.path == "/hook?service=s-1&kind=hook"
    assert received.headers["Host"] == f"127.0.0.1:{receiver.server.server_port}"
    assert received.headers["User-Agent"] == "loopback-webhooks/1"
    assert received.headers["Content-Length"] == str(len(BODY))


def test_credentials_in_the_url_are_sent_as_basic_auth(receivers: Callable[[Respond], Receiver]) -> None:
    receiver = receivers(answering(204))

    assert post(receiver.url.replace("http://", "http://hook%40user:s%3Acret@")).ok

    [received] = receiver.received
    assert received.headers["Authorization"] == "Basic " + base64.b64encode(b"hook@user:s:cret").decode()


def test_a_tls_failure_is_a_connection_failure_named_so(receivers: Callable[[Respond], Receiver]) -> None:
    # The receiver speaks plain HTTP: the TLS handshake fails at once.
    receiver = receivers(answering(200))

    result = post(receiver.url.replace("http://", "https://"))

    # The SSL reason as OpenSSL words it ("wrong version number" for OpenSSL 3.0).
    prefix = f"TLS failed with {where(receiver)}: "
    assert (result.status_code, result.error_kind) == (None, ErrorKind.CONNECTION)
    assert result.error.startswith(prefix) and len(result.error) > len(prefix)


def test_a_post_is_never_sent_twice_even_when_a_reused_connection_fails(
    receivers: Callable[[Respond], Receiver],
) -> None:
    receiver = receivers(
        lambda handler, number, r: reply(handler, 204) if number == 1 else hanging_up(handler, number, r)
    )

    first, second = post(receiver.url), post(receiver.url)

    assert (first.ok, second.error_kind) == (True, ErrorKind.CONNECTION)
    assert receiver.count == 2
    assert receiver.received[0].peer == receiver.received[1].peer


def test_the_rest_of_a_long_answer_never_becomes_the_next_answer(
    receivers: Callable[[Respond], Receiver],
) -> None:
    # Only the first 4 KiB are read: the connection must not go back to the pool with the rest.
    receiver = receivers(
        lambda handler, number, r: reply(handler, 200, b"a" * 10_000 if number == 1 else b"second")
    )

    first, second = post(receiver.url), post(receiver.url)

    assert first.body_prefix == "a" * 4096
    assert (second.ok, second.status_code, second.body_prefix) == (True, 200, "second")


def test_a_chunked_answer_read_to_its_last_chunk_keeps_the_connection(
    receivers: Callable[[Respond], Receiver],
) -> None:
    def chunked(handler, number, receiver):  # type: ignore[no-untyped-def]
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b"5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n")

    receiver = receivers(chunked)

    results = [post(receiver.url) for _ in range(2)]

    assert [(r.ok, r.body_prefix) for r in results] == [(True, "hello!")] * 2
    assert receiver.received[0].peer == receiver.received[1].peer


def test_an_answer_that_closes_the_connection_is_not_followed_by_a_post_on_it(
    receivers: Callable[[Respond], Receiver],
) -> None:
    receiver = receivers(answering(200, b"bye", headers={"Connection": "close"}))

    results = [post(receiver.url) for _ in range(2)]

    assert [(r.ok, r.body_prefix) for r in results] == [(True, "bye")] * 2
    assert receiver.received[0].peer != receiver.received[1].peer


def test_a_connection_cut_by_the_deadline_is_replaced_for_the_next_post(
    receivers: Callable[[Respond], Receiver],
) -> None:
    def trickling_second(handler, number, receiver):  # type: ignore[no-untyped-def]
        if number == 2:
            trickling_headers(handler, number, receiver)
        else:
            reply(handler, 204)

    receiver = receivers(trickling_second)

    results = [post(receiver.url, timeout_seconds=0.5) for _ in range(3)]

    assert [r.error_kind for r in results] == [None, ErrorKind.TIMEOUT, None]
    first, second, third = (received.peer for received in receiver.received)
    assert first == second
    assert third != second


def test_each_thread_keeps_its_own_connections(receivers: Callable[[Respond], Receiver]) -> None:
    receiver = receivers(answering(204))
    other = threading.Thread(target=lambda: post(receiver.url))

    post(receiver.url)
    other.start()
    other.join()
    post(receiver.url)

    mine, theirs, mine_again = (received.peer for received in receiver.received)
    assert mine == mine_again
    assert theirs != mine
