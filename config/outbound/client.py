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
- Our own HTTP/1.1 exchange on the standard library: the request written in one piece to a
  socket we opened, the answer parsed by `http.client.HTTPResponse` (status line, headers,
  Content-Length or chunked framing). No urllib3 or `requests` in between: their pools, retry
  and response objects cost a local POST several times the exchange itself. No retries: a POST
  is never sent twice.
- Each thread keeps connections alive for OUTBOUND_KEEP_ALIVE_SECONDS of idleness, one per
  destination for its POOLS_PER_THREAD most recent (a POST to a receiver just answered skips the
  TCP and TLS handshakes); see `_Connections` for why that is short. A connection is kept only
  with its answer read to the end.
- Unless OUTBOUND_ALLOW_PRIVATE is true, only public addresses are reached. requests-hardened's
  filter (`ip_filter.get_ip_address`) resolves the name once and refuses a non-public address;
  we connect to exactly the address it checked, with the URL's name in the Host header, SNI and
  the certificate check (so DNS rebinding and spellings such as `2130706433`, `0177.0.0.1` or
  `[::ffff:127.0.0.1]` do not help); on top of its check we refuse what Python's `ipaddress` does
  not count as global (IPv4-compatible and site-local IPv6 among them) and IP literals before
  any resolution. No proxy is used (it would connect out of the filter's sight): we open our
  own sockets and read no proxy settings.
"""

import base64
import contextlib
import errno
import functools
import heapq
import http.client
import ipaddress
import itertools
import os
import re
import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import certifi
from django.conf import settings
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress, get_ip_address
from standardwebhooks import Webhook

RESPONSE_BODY_LIMIT = 4096
USER_AGENT = "loopback-webhooks/1"
# Destinations per thread whose connections are kept (the least recently used beyond are closed).
POOLS_PER_THREAD = 10

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# The one place a failure is put in words (an attempt's `error`, a trigger's `failure_cause`, the
# API docs' examples of them): the `cause_` functions and these. Each names where the request went
# as host:port (never the URL's userinfo, path or query, which may hold credentials) and is built
# from the exception's type and errno, never from its text.
_CONNECTION_ERRNOS = {
    errno.ECONNREFUSED: "connection refused to {where}",
    errno.ECONNRESET: "connection reset by {where}",
    errno.ECONNABORTED: "connection reset by {where}",
    errno.EPIPE: "connection reset by {where}",
    errno.ENETUNREACH: "network unreachable: no route to {where}",
    errno.EHOSTUNREACH: "network unreachable: no route to {where}",
}


def cause_not_public(where: str, address: object) -> str:
    return f"refused {where}: {address} is not a public address"


def cause_timed_out(where: str, timeout_ms: int) -> str:
    return f"timed out after {timeout_ms} ms waiting for {where}"


def cause_redirect(where: str, status: int) -> str:
    return f"{where} answered {status}, a redirect (not followed)"


def cause_answered(where: str, status: int) -> str:
    return f"{where} answered {status}"


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
        # A duplicate of the descriptor, because TLS takes the original socket object over
        # (detaching it) and a TLS socket cannot be `dup`ed, and because a descriptor we hold
        # cannot be closed and reused by anyone else before `close`.
        duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
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
    global _watchdog, _connections
    _watchdog = _Watchdog()
    _connections = _Connections()


os.register_at_fork(after_in_child=_after_fork)


def _shutdown(sock: socket.socket) -> None:
    # An OSError means the connection is already gone: nothing left to interrupt.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _ip_literal(host: str) -> IPAddress | None:
    # Judged before resolution: a resolver without IPv6 would answer `[::1]` with "no such host",
    # and a zone id (`fe80::1%eth0`) is not resolvable at all; both are refusals, not network errors.
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


# A host name in IDNA's ASCII form is visible ASCII other than "%" (a space, a control character
# or an escape is a malformed URL); what else no name can hold the resolver refuses.
_HOST_NAME = re.compile(r"[!-$&-~]+")
# What cannot stand in a URL, escaped before `urlsplit` sees it (which would strip or drop some,
# posting elsewhere than the URL says): in the path or query it is sent escaped; in the scheme or
# host it makes the URL malformed.
_NOT_IN_A_URL = re.compile(r"[\x00-\x20\x7f]")
# What may stand in a request target unescaped: RFC 3986's pchar, "/" and "?", and "%" to keep
# escapes the URL already has; anything else (spaces, controls, non-ASCII) is percent-encoded,
# and so is a "%" that starts no escape.
_TARGET_SAFE = "!$&'()*+,;=:@/?%"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class _NotAnHttpUrl(Exception):
    pass


class _UnresolvedHost(Exception):
    pass


@dataclass(frozen=True)
class _ParsedUrl:
    scheme: str
    # For the lookup, the connection, SNI and the certificate: an IPv6 address without brackets.
    name: str
    literal: IPAddress | None
    port: int
    # host:port as failures name it (an IPv6 address in brackets), the port its scheme's if none.
    where: str
    host_header: str
    target: str
    authorization: str | None


@functools.lru_cache(maxsize=256)
def _parsed_url(url: str) -> _ParsedUrl:
    """What the URL alone says about where to go, parsed once per URL (an action's target is
    posted to again and again); whether its host may be reached is decided per request."""
    try:
        parts = urlsplit(_NOT_IN_A_URL.sub(lambda unsafe: f"%{ord(unsafe[0]):02X}", url))
        named_port = parts.port
    except ValueError as exc:
        raise _NotAnHttpUrl from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise _NotAnHttpUrl
    literal = _ip_literal(unquote(parts.hostname))
    if literal is not None:
        # As the URL spells it (a zone id unescaped): `::ffff:127.0.0.1` is not `::ffff:7f00:1` to a reader.
        name = unquote(parts.hostname)
        host = f"[{name}]" if literal.version == 6 else name
    else:
        try:
            # IDNA's ASCII form; what it cannot encode (an empty label, as in `a..b`) is malformed.
            name = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise _NotAnHttpUrl from exc
        if not _HOST_NAME.fullmatch(name):
            raise _NotAnHttpUrl
        host = name
    port = named_port or (443 if scheme == "https" else 80)
    authorization = None
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        # As a browser (and `requests`) would: credentials in the URL are sent as Basic auth.
        user, _, password = userinfo.partition(":")
        credentials = f"{unquote(user)}:{unquote(password)}".encode()
        authorization = "Basic " + base64.b64encode(credentials).decode()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _ParsedUrl(
        scheme=scheme,
        name=name,
        literal=literal,
        port=port,
        where=f"{host}:{port}",
        host_header=host if named_port is None else f"{host}:{named_port}",
        target=_STRAY_PERCENT.sub("%25", quote(target, safe=_TARGET_SAFE)),
        authorization=authorization,
    )


@dataclass(frozen=True)
class _Destination:
    url: _ParsedUrl
    # Where to connect: the checked address when the filter is on, else the URL's host.
    address: str

    @property
    def key(self) -> tuple[str, str, int, str]:
        # A kept connection serves the same scheme, address and port, and (for TLS) the same name.
        return (self.url.scheme, self.address, self.url.port, self.url.name)


def _destination(url: _ParsedUrl, *, allow_private: bool) -> _Destination:
    if allow_private:
        return _Destination(url=url, address=url.name)
    if url.literal is not None and not is_public_address(url.literal):
        raise InvalidIPAddress(url.literal)
    # requests-hardened's filter: one lookup, its own rule; then ours, on the same address,
    # which is the one connected to (so a second lookup cannot answer differently). Its
    # refusal is an OSError too (a `requests` exception): only the lookup's own are caught.
    # Resolved on every request, never cached: the name may point elsewhere by now.
    try:
        checked, _ = get_ip_address(url.name, url.port, allow_loopback=False)
    except (socket.gaierror, TimeoutError, UnicodeError) as exc:
        raise _UnresolvedHost from exc
    if not is_public_address(checked):
        raise InvalidIPAddress(checked)
    return _Destination(url=url, address=str(checked))


def _connect(destination: _Destination, *, timeout_seconds: float, deadline: _Deadline) -> socket.socket:
    sock = socket.create_connection((destination.address, destination.url.port), timeout_seconds)
    try:
        # The request goes out in one write; without this, a body beyond one segment would wait
        # for the delayed ACK of the first.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Watched before the TLS handshake, which a far side can trickle forever too.
        deadline.watch(sock)
        if destination.url.scheme == "https":
            # Certificate and SNI for the name in the URL, not for the address connected to.
            return _connections.tls().wrap_socket(sock, server_hostname=destination.url.name)
    except BaseException:
        sock.close()
        raise
    return sock


def _dropped(sock: socket.socket) -> bool:
    # An idle connection has nothing to read: readable means the far side closed it (or sent what
    # nobody asked for), and a POST sent on it would be lost.
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _Connections(threading.local):
    """This thread's kept-alive connections: one idle socket per destination, for its
    POOLS_PER_THREAD most recently used destinations.

    A connection the far side closes while we send would fail a POST that must not be sent
    twice (a trigger); servers close idle connections after a few seconds (gunicorn 2 s, Node 5 s,
    nginx 75 s), so one idle for OUTBOUND_KEEP_ALIVE_SECONDS (1 s by default) or longer is closed
    and replaced before use, and so is one the far side has already closed.
    """

    def __init__(self) -> None:
        self._idle: OrderedDict[tuple[str, str, int, str], tuple[socket.socket, float]] = OrderedDict()
        self._tls: ssl.SSLContext | None = None

    def take(self, destination: _Destination) -> socket.socket | None:
        kept = self._idle.pop(destination.key, None)
        if kept is None:
            return None
        sock, idle_since = kept
        if time.monotonic() - idle_since >= settings.OUTBOUND_KEEP_ALIVE_SECONDS or _dropped(sock):
            sock.close()
            return None
        return sock

    def keep(self, destination: _Destination, sock: socket.socket) -> None:
        self._idle[destination.key] = (sock, time.monotonic())
        if len(self._idle) > POOLS_PER_THREAD:
            _, (oldest, _) = self._idle.popitem(last=False)
            oldest.close()

    def tls(self) -> ssl.SSLContext:
        if self._tls is None:
            # With certifi's roots as `requests` used, once per thread: loading them for every
            # new connection costs milliseconds.
            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls


_connections = _Connections()


def _retry_after(response: http.client.HTTPResponse) -> int | None:
    value = (response.getheader("Retry-After") or "").strip()
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


def _read_prefix(response: http.client.HTTPResponse) -> str:
    collected = bytearray()
    try:
        # read1 returns what has arrived (one read), so a body cut short still leaves its start.
        while len(collected) < RESPONSE_BODY_LIMIT:
            chunk = response.read1(RESPONSE_BODY_LIMIT - len(collected))
            if not chunk:
                break
            collected += chunk
    except (http.client.HTTPException, OSError):
        # The status already arrived and decides; a body cut short (by the deadline or a dropped
        # connection) is kept as far as it came.
        pass
    # PostgreSQL text cannot hold NUL, and the answer is only kept for people to read.
    return bytes(collected).decode("utf-8", errors="replace").replace("\x00", "\ufffd")


@dataclass(frozen=True)
class _Answer:
    status: int
    retry_after_seconds: int | None
    body_prefix: str


class _TimedOut(Exception):
    pass


def _exchange(
    destination: _Destination, request: bytes, *, timeout_seconds: float, deadline: _Deadline
) -> _Answer:
    """Send `request` on a kept or new connection and read the answer, all under `deadline`
    (closed on return); raises what the network raised, or `_TimedOut`."""
    sock = None
    complete = False
    try:
        sock = _connections.take(destination)
        if sock is None:
            sock = _connect(destination, timeout_seconds=timeout_seconds, deadline=deadline)
        else:
            sock.settimeout(timeout_seconds)
            deadline.watch(sock)
        sock.sendall(request)
        response = http.client.HTTPResponse(sock, method="POST")
        try:
            response.begin()
            # Cut off by the deadline, a half-sent header block reads as complete: the check
            # must come from the deadline itself, not from what was parsed.
            if deadline.expired:
                raise _TimedOut
            answer = _Answer(response.status, _retry_after(response), _read_prefix(response))
            # Kept only with its answer read to the end (Content-Length or the last chunk): with
            # unread bytes (over 4 KiB, or cut short) the next answer read from it could be the
            # rest of this one. http.client closes the answer at its last chunk, but `read1` does
            # not at its Content-Length: there, nothing left to read is the end.
            complete = not response.will_close and (response.isclosed() or response.length == 0)
        finally:
            response.close()
    except (OSError, http.client.HTTPException) as exc:
        if deadline.expired or isinstance(exc, TimeoutError):
            raise _TimedOut from exc
        raise
    finally:
        # Closed first, so that no expiry comes between the check below and the socket's keeping.
        deadline.close()
        if sock is not None:
            if complete and not deadline.expired:
                _connections.keep(destination, sock)
            else:
                sock.close()
    return answer


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

    try:
        parsed = _parsed_url(url)
    except _NotAnHttpUrl:
        return finish(error_kind=ErrorKind.REFUSED_DESTINATION, error="refused: not an absolute http(s) URL")
    # Started before the name is resolved, which it cannot interrupt but which takes its share.
    deadline = _Deadline(timeout_seconds)
    try:
        destination = _destination(parsed, allow_private=bool(settings.OUTBOUND_ALLOW_PRIVATE))
        request = _request(parsed, secrets, message_id, body)
        answer = _exchange(destination, request, timeout_seconds=timeout_seconds, deadline=deadline)
    except InvalidIPAddress as exc:
        return finish(
            error_kind=ErrorKind.REFUSED_DESTINATION,
            error=cause_not_public(parsed.where, exc),
        )
    except _UnresolvedHost:
        return finish(error_kind=ErrorKind.CONNECTION, error=f"could not resolve {parsed.name}")
    except _TimedOut:
        return finish(
            error_kind=ErrorKind.TIMEOUT,
            error=cause_timed_out(parsed.where, round(timeout_seconds * 1000)),
        )
    except (OSError, http.client.HTTPException) as exc:
        return finish(error_kind=ErrorKind.CONNECTION, error=_connection_failure(parsed, exc))
    finally:
        deadline.close()

    status = answer.status
    if 300 <= status < 400:
        return finish(
            status_code=status,
            error_kind=ErrorKind.REDIRECT,
            error=cause_redirect(parsed.where, status),
            body_prefix=answer.body_prefix,
        )
    if not 200 <= status < 300:
        return finish(
            status_code=status,
            error_kind=ErrorKind.HTTP_STATUS,
            error=cause_answered(parsed.where, status),
            body_prefix=answer.body_prefix,
            retry_after_seconds=answer.retry_after_seconds,
        )
    return finish(status_code=status, body_prefix=answer.body_prefix)


def _request(url: _ParsedUrl, secrets: Sequence[str], message_id: str, body: bytes) -> bytes:
    headers = {
        "Host": url.host_header,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        # The answer is only kept for people to read, as it came.
        "Accept-Encoding": "identity",
    }
    if url.authorization is not None:
        headers["Authorization"] = url.authorization
    headers.update(sign(secrets=secrets, message_id=message_id, timestamp=datetime.now(UTC), body=body))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST {url.target} HTTP/1.1\r\n{head}\r\n".encode("latin-1") + body


# OpenSSL's codes for a certificate that is valid, but for another name or address.
_NOT_FOR_THIS_HOST = {62, 64}  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


def _connection_failure(url: _ParsedUrl, exc: OSError | http.client.HTTPException) -> str:
    where = url.where
    if isinstance(exc, socket.gaierror):
        return f"could not resolve {url.name}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        if exc.verify_code in _NOT_FOR_THIS_HOST:
            return f"TLS failed with {where}: certificate not valid for {url.name}"
        return f"TLS failed with {where}: certificate not accepted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        reason = (exc.reason or "handshake failed").lower().replace("_", " ")
        return f"TLS failed with {where}: {reason}"
    if isinstance(exc, http.client.RemoteDisconnected):
        # Also a ConnectionResetError, without an errno: the far side closed, it did not reset.
        return f"{where} closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        return f"{where} answered something that is not HTTP"
    if exc.errno in _CONNECTION_ERRNOS:
        return _CONNECTION_ERRNOS[exc.errno].format(where=where)
    if exc.errno:
        return f"could not connect to {where} ({os.strerror(exc.errno).lower()})"
    return f"could not connect to {where}"
