"""The one outbound HTTP client: a signed JSON POST that cannot be pointed inside our network.

Every request is signed per Standard Webhooks with the owning service's `whsec_` secret. Redirects
are never followed. Unless OUTBOUND_ALLOW_PRIVATE is true, requests-hardened refuses any address
that is not public, judged on the address it actually connects to (after DNS), so a public name
resolving to 127.0.0.1 is refused too.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress
from standardwebhooks import Webhook

RESPONSE_BODY_LIMIT = 4096
USER_AGENT = "loopback-webhooks/1"


class ErrorKind:
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


def sign(*, secret: str, message_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    signature = Webhook(secret).sign(message_id, timestamp, body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }


def _session() -> HTTPSession:
    allow_private = settings.OUTBOUND_ALLOW_PRIVATE
    session = HTTPSession(
        Config(
            ip_filter_enable=not allow_private,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=(5.0, settings.WEBHOOK_TIMEOUT_SECONDS),
            user_agent_override=USER_AGENT,
        )
    )
    # A proxy from the environment would connect on our behalf and slip past the address filter.
    session.trust_env = False
    return session


def _retry_after(response: requests.Response) -> int | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int((when - datetime.now(UTC)).total_seconds()))


def _read_prefix(response: requests.Response, deadline: float) -> str:
    collected = b""
    for chunk in response.iter_content(chunk_size=1024):
        collected += chunk
        if len(collected) >= RESPONSE_BODY_LIMIT or time.monotonic() > deadline:
            break
    return collected[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")


def post_signed(
    *, url: str, secret: str, message_id: str, body: bytes, timeout_seconds: float
) -> OutboundResult:
    """POST `body` (JSON) to `url`, signed; never raises for anything the far side does."""
    headers = {"Content-Type": "application/json"}
    headers.update(sign(secret=secret, message_id=message_id, timestamp=datetime.now(UTC), body=body))
    started = time.monotonic()
    deadline = started + timeout_seconds

    def finish(**fields: object) -> OutboundResult:
        defaults: dict[str, object] = {
            "status_code": None,
            "error_kind": None,
            "error": "",
            "body_prefix": "",
            "retry_after_seconds": None,
        }
        defaults.update(fields)
        return OutboundResult(duration_ms=int((time.monotonic() - started) * 1000), **defaults)  # type: ignore[arg-type]

    try:
        with _session() as session:
            response = session.post(
                url,
                data=body,
                headers=headers,
                timeout=(min(timeout_seconds, 5.0), timeout_seconds),
                allow_redirects=False,
                stream=True,
            )
            with response:
                body_prefix = _read_prefix(response, deadline)
    except InvalidIPAddress:
        return finish(error_kind=ErrorKind.REFUSED_DESTINATION, error="destination address is not public")
    except requests.Timeout:
        return finish(error_kind=ErrorKind.TIMEOUT, error=f"no answer within {timeout_seconds:g} s")
    except requests.RequestException as exc:
        return finish(
            error_kind=ErrorKind.CONNECTION, error=f"{type(exc).__name__}: could not complete the request"
        )

    if time.monotonic() > deadline:
        return finish(
            status_code=response.status_code,
            error_kind=ErrorKind.TIMEOUT,
            error=f"no complete answer within {timeout_seconds:g} s",
            body_prefix=body_prefix,
        )
    if response.is_redirect or 300 <= response.status_code < 400:
        return finish(
            status_code=response.status_code,
            error_kind=ErrorKind.REDIRECT,
            error=f"answered {response.status_code} (redirects are not followed)",
            body_prefix=body_prefix,
        )
    if not 200 <= response.status_code < 300:
        return finish(
            status_code=response.status_code,
            error_kind=ErrorKind.HTTP_STATUS,
            error=f"answered {response.status_code}",
            body_prefix=body_prefix,
            retry_after_seconds=_retry_after(response),
        )
    return finish(status_code=response.status_code, body_prefix=body_prefix)
