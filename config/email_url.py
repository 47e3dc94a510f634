"""`EMAIL_URL` (contract 9) into Django's mailer settings.

`smtp://user:password@host:port` (plain, port 25 by default), `smtp+starttls://...` (STARTTLS,
587) and `smtps://...` (TLS from the first byte, 465). User and password are percent-decoded; the
only query parameter is `timeout` (seconds, default 10). Our own parser rather than
`dj-email-url` (docs/decisions.md): that one knows no `smtp+starttls`, reads `smtps` as STARTTLS,
and passes an unknown scheme or a malformed port through silently.

Errors name what is wrong and never repeat the URL, which holds a password.
"""

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEFAULT_TIMEOUT_SECONDS = 10
MAX_TIMEOUT_SECONDS = 300

# scheme: (default port, STARTTLS, implicit TLS)
SCHEMES: dict[str, tuple[int, bool, bool]] = {
    "smtp": (25, False, False),
    "smtp+starttls": (587, True, False),
    "smtps": (465, False, True),
}


def _invalid(problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"EMAIL_URL {problem}")


def _timeout(query: str) -> int:
    params = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - {"timeout"})
    if unknown:
        raise _invalid("takes only the query parameter timeout")
    values = params.get("timeout")
    if values is None:
        return DEFAULT_TIMEOUT_SECONDS
    if len(values) != 1 or not values[0].isdigit() or not 1 <= int(values[0]) <= MAX_TIMEOUT_SECONDS:
        raise _invalid(f"timeout must be a whole number of seconds from 1 to {MAX_TIMEOUT_SECONDS}")
    return int(values[0])


def mailer_from_url(url: str) -> dict[str, Any]:
    """The `MAILERS["default"]` entry (Django's SMTP backend and its OPTIONS) that `url` describes."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _invalid("must start with smtp://, smtp+starttls:// or smtps://")
    default_port, starttls, implicit_tls = SCHEMES[scheme]
    if not parts.hostname:
        raise _invalid("names no host")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise _invalid("has a port that is not a number from 1 to 65535")
    if parts.path not in ("", "/") or parts.fragment:
        raise _invalid("takes no path (smtp://user:password@host:port)")
    return {
        "BACKEND": SMTP_BACKEND,
        "OPTIONS": {
            "host": parts.hostname,
            "port": port or default_port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": starttls,
            "use_ssl": implicit_tls,
            "timeout": _timeout(parts.query),
        },
    }
