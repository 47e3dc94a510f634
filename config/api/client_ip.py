"""The caller's address for rate limits, behind our load balancer or not."""

import ipaddress

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The right-most X-Forwarded-For hop, which our balancer appended; else REMOTE_ADDR.

    Hops further left are whatever the client chose to send, so they are never trusted.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if hops:
        try:
            return str(ipaddress.ip_address(hops[-1]))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - a key, not a bind address
