"""The one outbound HTTP client: a signed JSON POST that cannot be pointed inside our network.

- Signed per Standard Webhooks with the owning service's `whsec_` secret (the `standardwebhooks`
  library makes the signature, so any receiver using a Standard Webhooks library verifies it);
  during the overlap after a rotation, with the new and the previous secret, both signatures in
  the one header (`v1,<new> v1,<previous>`), which such a library accepts with either secret.
- Redirects are never followed: a 3xx is a failed attempt of kind `redirect`.
- One total deadline per request. Socket timeouts alone restart on every byte, so a receiver
  trickling its answer could hold a worker forever; a watchdog shuts the connection's socket down
  when the deadline passes. (Name resolution is not covered: it is bounded by the resolver's own
  timeouts.) Once the status line and headers are in before the deadline, the status decides;
  the body is read as far as it got, at most the first 4 KiB.
- urllib3 directly, not `requests` (whose sessions, adapters and response objects cost a local
  POST several times the network's own work), with no retries: a POST is never sent twice.
- One pool manager per thread, whose connections are kept alive for OUTBOUND_KEEP_ALIVE_SECONDS
  of idleness (a POST to a receiver just answered skips the TCP and TLS handshakes); see
  `_KeptAliveMixin` for why that is short. A connection goes back to its pool only with its
  answer read to the end.
- Unless OUTBOUND_ALLOW_PRIVATE is true, only public addresses are reached. requests-hardened's
  filter (`ip_filter.get_ip_address`) resolves the name once and refuses a non-public address;
  we connect to exactly the address it checked, with the URL's name in the Host header, SNI and
  the certificate check (so DNS rebinding and spellings such as `2130706433`, `0177.0.0.1` or
  `[::ffff:127.0.0.1]` do not help); on top of its check we refuse what Python's `ipaddress` does
  not count as global (IPv4-compatible and site-local IPv6 among them) and IP literals before
  any resolution. No proxy from the environment is used (it would connect out of the filter's
  sight): urllib3 reads none.
"""

import base64
import contextlib
import contextvars
import errno
import functools
import heapq
import http.client
import ipaddress
import itertools
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

import certifi
from django.conf import settings
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress, get_ip_address
from standardwebhooks import Webhook
from urllib3 import BaseHTTPResponse, PoolManager, Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    LocationValueError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import parse_url
from urllib3.util.ssl_ import create_urllib3_context
from urllib3.util.ssl_match_hostname import CertificateError

RESPONSE_BODY_LIMIT = 4096
USER_AGENT = "loopback-webhooks/1"
# Destinations per thread whose connections are kept (the least recently used beyond are closed).
POOLS_PER_THREAD = 10

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# The one place a failure is put in words (an attempt's `error`, a trigger's `failure_cause`).
# Each names where the request went as host:port (never the URL's userinfo, path or query, which
# may hold credentials) and is built from the exception's type and errno, never from its text.
_CONNECTION_ERRNOS = {
    errno.ECONNREFUSED: "connection refused to {where}",
    errno.ECONNRESET: "connection reset by {where}",
    errno.ECONNABORTED: "connection reset by {where}",
    errno.EPIPE: "connection reset by {where}",
    errno.ENETUNREACH: "network unreachable: no route to {where}",
    errno.EHOSTUNREACH: "network unreachable: no route to {where}",
}


class ErrorKind:
    # Refused before anything was sent: a non-public address, or not an http(s) URL at all.
    REFUSED_DESTINATION = "refused_destination"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    REDIRECT = "redirect"
    HTTP_STATUS = "http_status"


@dataclass(frozen=True)
class OutboundResult:
    status_code: int | None
    duration_ms: int
    error_kind: str | None
    error: str
    body_prefix: str
    retry_after_seconds: int | None

    @property
    def ok(self) -> bool:
        return self.error_kind is None


@functools.lru_cache(maxsize=256)
def _webhook(secret: str) -> Webhook:
    # The library base64-decodes the secret into its key when built; a service's is reused.
    return Webhook(secret)


def sign(*, secrets: Sequence[str], message_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    text = body.decode()
    signatures = [_webhook(secret).sign(message_id, timestamp, text) for secret in secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def is_public_address(ip: IPAddress) -> bool:
    """True only for an address on the public internet (the SSRF rule of contract 5)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return False
    if any(ip in network for network in EXTRA_BLOCKED_NET_RANGES):
        return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


class _Deadline:
    """Shuts down every socket of one request when its time is up, wherever the request is blocked."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        self.expired = False
        _watchdog.add(self, at=time.monotonic() + seconds)

    def watch(self, sock: socket.socket) -> None:
        # A duplicate, because TLS takes the original socket object over (detaching it), and
        # because a descriptor we hold cannot be closed and reused by anyone else before `close`.
        duplicate = sock.dup()
        with self._lock:
            self._sockets.append(duplicate)
            if self.expired:
                _shutdown(duplicate)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    @property
    def closed(self) -> bool:
        return self._closed

    def expire(self) -> None:
        with self._lock:
            if self._closed:
                return
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


class _Watchdog:
    """One thread per process that expires the deadlines of all requests as they fall due.

    A timer thread per request made every send wait for a new thread to be scheduled first, on a
    busy machine the largest part of a local trigger's cost. Closed deadlines are dropped when
    they reach the front of the queue.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: _Deadline, *, at: float) -> None:
        with self._condition:
            heapq.heappush(self._queue, (at, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbound-deadlines", daemon=True)
                self._thread.start()
            # The thread sleeps until the earliest deadline; only a new earliest one needs it awake.
            # Waking it for every request cost each POST a thread switch (about a third of its CPU).
            if self._queue[0][2] is deadline:
                self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                now = time.monotonic()
                due: list[_Deadline] = []
                while self._queue and (self._queue[0][0] <= now or self._queue[0][2].closed):
                    due.append(heapq.heappop(self._queue)[2])
                if not due:
                    self._condition.wait(self._queue[0][0] - now if self._queue else None)
                    continue
            # Outside the queue's lock: a deadline's own lock is never taken while holding it.
            for deadline in due:
                deadline.expire()


_watchdog = _Watchdog()


def _after_fork() -> None:
    # A child process starts with its parent's lock in whatever state it was and without its
    # thread; and it must not share its parent's kept-alive connections.
    global _watchdog, _pools
    _watchdog = _Watchdog()
    _pools = _Pools()


os.register_at_fork(after_in_child=_after_fork)


def _shutdown(sock: socket.socket) -> None:
    # An OSError means the connection is already gone: nothing left to interrupt.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


# The deadline of the request running in this thread; connections register their socket with it.
_current_deadline: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "outbound_deadline", default=None
)


def _watched(sock: socket.socket) -> socket.socket:
    deadline = _current_deadline.get()
    if deadline is not None:
        deadline.watch(sock)
    return sock


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())


class _KeptAliveMixin:
    """A pool that reuses a connection only while it is fresh, and puts it under the deadline.

    A connection the far side closes while we send would fail a POST that must not be sent
    twice (a trigger); servers close idle connections after a few seconds (gunicorn 2 s, Node 5 s,
    nginx 75 s), so one idle for longer than OUTBOUND_KEEP_ALIVE_SECONDS (1 s by default) is
    closed and replaced before use. One the far side has already closed is replaced too (urllib3
    checks before reuse). A reused connection's socket is watched by the request's deadline as a
    new one is.
    """

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        idle_since = getattr(conn, "idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since >= settings.OUTBOUND_KEEP_ALIVE_SECONDS:
            conn.close()
        if conn.sock is not None:
            _watched(conn.sock)
        return conn

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            conn.idle_since = time.monotonic()
        super()._put_conn(conn)  # type: ignore[misc]


class _WatchedHTTPPool(_KeptAliveMixin, HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(_KeptAliveMixin, HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _ip_literal(host: str) -> IPAddress | None:
    # Judged before resolution: a resolver without IPv6 would answer `[::1]` with "no such host",
    # and a zone id (`fe80::1%eth0`) is not resolvable at all; both are refusals, not network errors.
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class _NotAnHttpUrl(Exception):
    pass


class _UnresolvedHost(Exception):
    pass


@dataclass(frozen=True)
class _Destination:
    scheme: str
    # Where to connect: the checked address when the filter is on, else the URL's host.
    connect_host: str
    port: int
    # The URL's host, for SNI and the certificate; with its port, when it names one, the Host header.
    hostname: str
    host_header: str
    target: str
    authorization: str | None


@dataclass(frozen=True)
class _ParsedUrl:
    scheme: str
    hostname: str
    literal: IPAddress | None
    port: int
    host_header: str
    target: str
    authorization: str | None


@functools.lru_cache(maxsize=256)
def _parsed_url(url: str) -> _ParsedUrl:
    """What the URL alone says about where to go, parsed once per URL (an action's target is
    posted to again and again); whether its host may be reached is decided per request."""
    try:
        parsed = parse_url(url)
    except LocationParseError as exc:
        raise _NotAnHttpUrl from exc
    scheme = (parsed.scheme or "").lower()
    if scheme not in ("http", "https") or not parsed.host:
        raise _NotAnHttpUrl
    hostname = parsed.host
    literal = _ip_literal(hostname)
    if literal is None:
        # What `socket` would fail to encode (an empty label, as in `a..b`) is a malformed URL.
        try:
            hostname.encode("idna")
        except UnicodeError as exc:
            raise _NotAnHttpUrl from exc
    authorization = None
    if parsed.auth:
        # As a browser (and `requests`) would: credentials in the URL are sent as Basic auth.
        user, _, password = parsed.auth.partition(":")
        credentials = f"{unquote(user)}:{unquote(password)}".encode()
        authorization = "Basic " + base64.b64encode(credentials).decode()
    return _ParsedUrl(
        scheme=scheme,
        hostname=hostname,
        literal=literal,
        port=parsed.port or (443 if scheme == "https" else 80),
        host_header=hostname if parsed.port is None else f"{hostname}:{parsed.port}",
        target=parsed.request_uri,
        authorization=authorization,
    )


def _destination(url: str, *, allow_private: bool) -> _Destination:
    parsed = _parsed_url(url)
    hostname, literal, port = parsed.hostname, parsed.literal, parsed.port
    connect_host = hostname
    if not allow_private:
        if literal is not None and not is_public_address(literal):
            raise InvalidIPAddress(literal)
        # requests-hardened's filter: one lookup, its own rule; then ours, on the same address,
        # which is the one connected to (so a second lookup cannot answer differently). Its
        # refusal is an OSError too (a `requests` exception): only the lookup's own are caught.
        # Resolved on every request, never cached: the name may point elsewhere by now.
        try:
            checked, _ = get_ip_address(hostname.strip("[]"), port, allow_loopback=False)
        except (socket.gaierror, TimeoutError, UnicodeError) as exc:
            raise _UnresolvedHost from exc
        if not is_public_address(checked):
            raise InvalidIPAddress(checked)
        connect_host = f"[{checked}]" if checked.version == 6 else str(checked)
    return _Destination(
        scheme=parsed.scheme,
        connect_host=connect_host,
        port=port,
        hostname=hostname,
        host_header=parsed.host_header,
        target=parsed.target,
        authorization=parsed.authorization,
    )


class _Pools(threading.local):
    """One urllib3 pool manager per thread: its pools keep connections alive (within the limits
    of `_KeptAliveMixin`), and its few most recent destinations keep theirs."""

    def __init__(self) -> None:
        self._manager: PoolManager | None = None

    def for_destination(self, destination: _Destination) -> HTTPConnectionPool:
        if self._manager is None:
            # One TLS context per thread, with certifi's roots as `requests` used: loading them
            # for every new connection (urllib3's default without a context) costs milliseconds.
            context = create_urllib3_context()
            context.load_verify_locations(certifi.where())
            self._manager = PoolManager(num_pools=POOLS_PER_THREAD, maxsize=1, ssl_context=context)
            self._manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
        tls = (
            # Certificate and SNI for the name in the URL, not for the address connected to.
            {"server_hostname": destination.hostname, "assert_hostname": destination.hostname}
            if destination.scheme == "https"
            else None
        )
        return self._manager.connection_from_host(
            destination.connect_host, destination.port, destination.scheme, pool_kwargs=tls
        )


_pools = _Pools()


def _retry_after(response: BaseHTTPResponse) -> int | None:
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, int((when - datetime.now(UTC)).total_seconds()))


def _read_prefix(response: BaseHTTPResponse) -> str:
    collected = bytearray()
    try:
        # read1 returns what has arrived (one read), so a body cut short still leaves its start.
        while len(collected) < RESPONSE_BODY_LIMIT:
            chunk = response.read1(RESPONSE_BODY_LIMIT - len(collected), decode_content=True)
            if not chunk:
                break
            collected += chunk
    except (HTTPError, OSError):
        # The status already arrived and decides; a body cut short (by the deadline or a dropped
        # connection) is kept as far as it came.
        pass
    # PostgreSQL text cannot hold NUL, and the answer is only kept for people to read.
    return bytes(collected[:RESPONSE_BODY_LIMIT]).decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _release(response: BaseHTTPResponse, *, reusable: bool) -> None:
    # A connection goes back to the pool for the next POST only with its answer read to the end;
    # one with unread bytes (more than 4 KiB, or cut by the deadline) is closed, so that the next
    # answer read from it cannot be the rest of this one.
    if not (reusable and response.closed):
        response.close()
    response.release_conn()


def post_signed(
    *, url: str, secrets: Sequence[str], message_id: str, body: bytes, timeout_seconds: float
) -> OutboundResult:
    """POST `body` (JSON) to `url`, signed with each of `secrets`; never raises for anything the
    far side does.

    `timeout_seconds` bounds the whole request, connecting and reading the answer included.
    """
    started = time.monotonic()

    def finish(**fields: Any) -> OutboundResult:
        defaults: dict[str, Any] = {
            "status_code": None,
            "error_kind": None,
            "error": "",
            "body_prefix": "",
            "retry_after_seconds": None,
        }
        defaults.update(fields)
        return OutboundResult(duration_ms=int((time.monotonic() - started) * 1000), **defaults)

    deadline = _Deadline(timeout_seconds)
    context_token = _current_deadline.set(deadline)
    try:
        destination = _destination(url, allow_private=bool(settings.OUTBOUND_ALLOW_PRIVATE))
        headers = {
            "Host": destination.host_header,
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
        }
        if destination.authorization is not None:
            headers["Authorization"] = destination.authorization
        headers.update(sign(secrets=secrets, message_id=message_id, timestamp=datetime.now(UTC), body=body))
        response = _pools.for_destination(destination).urlopen(
            "POST",
            destination.target,
            body=body,
            headers=headers,
            # Never sent twice (a trigger must not be), never redirected: a 3xx is the answer.
            retries=False,
            redirect=False,
            assert_same_host=False,
            timeout=Timeout(connect=timeout_seconds, read=timeout_seconds),
            preload_content=False,
            release_conn=False,
        )
        try:
            # Cut off by the deadline, a half-sent header block reads as complete: the check
            # must come from the deadline itself, not from what was parsed.
            answered_in_time = not deadline.expired
            body_prefix = _read_prefix(response) if answered_in_time else ""
        finally:
            _release(response, reusable=not deadline.expired)
    except InvalidIPAddress as exc:
        return finish(
            error_kind=ErrorKind.REFUSED_DESTINATION,
            error=f"refused {_where(url)}: {exc} is not a public address",
        )
    except (_NotAnHttpUrl, LocationValueError):
        return finish(error_kind=ErrorKind.REFUSED_DESTINATION, error="refused: not an absolute http(s) URL")
    except _UnresolvedHost:
        return finish(error_kind=ErrorKind.CONNECTION, error=f"could not resolve {_host(url)}")
    except HTTPError as exc:
        # urllib3 counts a refused connection as a connect timeout too (NewConnectionError).
        timed_out = isinstance(exc, ConnectTimeoutError | ReadTimeoutError) and not isinstance(
            exc, NewConnectionError
        )
        if deadline.expired or timed_out:
            return finish(error_kind=ErrorKind.TIMEOUT, error=_timed_out(url, timeout_seconds))
        return finish(error_kind=ErrorKind.CONNECTION, error=_connection_failure(url, exc))
    finally:
        deadline.close()
        _current_deadline.reset(context_token)

    if not answered_in_time:
        return finish(error_kind=ErrorKind.TIMEOUT, error=_timed_out(url, timeout_seconds))
    status = response.status
    if 300 <= status < 400:
        return finish(
            status_code=status,
            error_kind=ErrorKind.REDIRECT,
            error=f"{_where(url)} answered {status}, a redirect (not followed)",
            body_prefix=body_prefix,
        )
    if not 200 <= status < 300:
        return finish(
            status_code=status,
            error_kind=ErrorKind.HTTP_STATUS,
            error=f"{_where(url)} answered {status}",
            body_prefix=body_prefix,
            retry_after_seconds=_retry_after(response),
        )
    return finish(status_code=status, body_prefix=body_prefix)


def _host(url: str) -> str:
    # Only reached for a URL `_destination` parsed: its host is there.
    return parse_url(url).host or ""


def _where(url: str) -> str:
    """host:port of the URL (an IPv6 address in brackets), the port its scheme's when it names none."""
    parsed = parse_url(url)
    port = parsed.port or (443 if (parsed.scheme or "").lower() == "https" else 80)
    return f"{parsed.host}:{port}"


def _timed_out(url: str, timeout_seconds: float) -> str:
    return f"timed out after {round(timeout_seconds * 1000)} ms waiting for {_where(url)}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it wraps: urllib3 keeps the original as the cause (a new
    connection's), as an argument (ProtocolError's, SSLError's), or both."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [arg for arg in current.args if isinstance(arg, BaseException)]
        pending.extend(wrapped + [e for e in (current.__cause__, current.__context__) if e is not None])


def _connection_failure(url: str, exc: HTTPError) -> str:
    where = _where(url)
    for cause in _chain(exc):
        if isinstance(cause, NameResolutionError | socket.gaierror):
            return f"could not resolve {_host(url)}"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS failed with {where}: certificate not accepted ({cause.verify_message})"
        if isinstance(cause, CertificateError):
            # urllib3's own check of the URL's name against the certificate's.
            return f"TLS failed with {where}: certificate not valid for {_host(url)}"
        if isinstance(cause, ssl.SSLError):
            reason = (cause.reason or "handshake failed").lower().replace("_", " ")
            return f"TLS failed with {where}: {reason}"
        if isinstance(cause, http.client.RemoteDisconnected):
            # Also a ConnectionResetError, without an errno: the far side closed, it did not reset.
            return f"{where} closed the connection without answering"
        if isinstance(cause, OSError) and cause.errno in _CONNECTION_ERRNOS:
            return _CONNECTION_ERRNOS[cause.errno].format(where=where)
        if isinstance(cause, http.client.HTTPException):
            return f"{where} answered something that is not HTTP"
    if isinstance(exc, SSLError):
        return f"TLS failed with {where}"
    errnos = [cause.errno for cause in _chain(exc) if isinstance(cause, OSError) and cause.errno]
    if errnos:
        return f"could not connect to {where} ({os.strerror(errnos[0]).lower()})"
    if isinstance(exc, ProtocolError):
        return f"{where} closed the connection"
    return f"could not connect to {where}"
