"""The caller's address for rate limits, behind our load balancer or not."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# The key of callers whose address is unknown (a proxy on a Unix socket leaves REMOTE_ADDR empty):
# they share one bucket, which is strict but never an error.
UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a rate-limit key, not a bind address


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """Behind our balancer, the right-most X-Forwarded-For hop (the one it appended); else REMOTE_ADDR.

    Hops further left are whatever the client chose to send, so they are never trusted.
    """
    if settings.BEHIND_TLS_PROXY:
        hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops and (forwarded := _address(hops[-1])):
            return forwarded
    return _address(request.META.get("REMOTE_ADDR") or "") or UNKNOWN_ADDRESS
