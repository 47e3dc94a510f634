"""Bot allowlists: patterns of targets a bot may act on, matched on parsed URLs (contract 2).

`https://example.com` allows that origin, any path; `https://example.com/contact` allows the paths
`/contact` and `/contact/...` (not `/contactus`); `https://*.example.com` allows any subdomain,
not the apex. Scheme, host (lower-cased, IDNA, trailing dot dropped) and effective port must be
equal. A target with userinfo, a non-http(s) scheme or no host never matches.
"""

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import idna

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_PATTERNS = 100
MAX_URL_LENGTH = 2048
# Browsers read a backslash as a slash and drop tabs and newlines; a URL holding any of them (or
# any other control character or space) is refused rather than guessed at.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
_DOT_SEGMENT = re.compile(r"%2e", re.IGNORECASE)
# Browsers accept underscores and hyphens anywhere in an ASCII label; the rest of the rules of
# a DNS name (length, characters) still hold.
_ASCII_LABEL = re.compile(r"[a-z0-9_-]{1,63}")


class InvalidUrl(ValueError):
    pass


@dataclass(frozen=True)
class ParsedTarget:
    scheme: str
    host: str
    port: int
    path: str
    has_userinfo: bool


@dataclass(frozen=True)
class AllowPattern:
    scheme: str
    host: str  # for a wildcard pattern, the parent domain without "*."
    port: int
    path: str  # "" for any path, else a normalised path without a trailing slash
    wildcard: bool

    def matches(self, target: ParsedTarget) -> bool:
        if target.has_userinfo or target.scheme != self.scheme or target.port != self.port:
            return False
        if self.wildcard:
            if not target.host.endswith("." + self.host):
                return False
        elif target.host != self.host:
            return False
        if not self.path:
            return True
        return target.path == self.path or target.path.startswith(self.path + "/")


def _is_numeric_label(label: str) -> bool:
    # WHATWG URL: a host whose last label is a number is parsed as an IPv4 address.
    return bool(re.fullmatch(r"[0-9]+|0[xX][0-9a-fA-F]*", label))


def _normalise_ip(host: str) -> str | None:
    """The canonical form of an IP literal, None when `host` is a domain name."""
    if ":" in host:
        if "%" in host:
            raise InvalidUrl("an IPv6 zone identifier has no meaning on the web")
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError as exc:
            raise InvalidUrl(f"the host {host!r} is not a valid IPv6 address") from exc
    if _is_numeric_label(host.rsplit(".", 1)[-1]):
        # Only the dotted-decimal form is accepted: browsers read "0x7f.1" or "2130706433" as
        # 127.0.0.1, and comparing such spellings as strings would be guessing.
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError as exc:
            raise InvalidUrl(f"the host {host!r} is neither a domain name nor a dotted IPv4 address") from exc
    return None


def _normalise_host(hostname: str) -> str:
    host = hostname.lower()
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    if not host:
        raise InvalidUrl("the URL has no host")
    ip = _normalise_ip(host)
    if ip is not None:
        return ip
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidUrl(f"the host {hostname!r} is not a valid domain name") from exc
        if _normalise_ip(host) is not None:
            raise InvalidUrl(f"the host {hostname!r} is not a valid domain name")
    if len(host) > 253 or not all(_ASCII_LABEL.fullmatch(label) for label in host.split(".")):
        raise InvalidUrl(f"the host {hostname!r} is not a valid domain name")
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except idna.IDNAError as exc:
                raise InvalidUrl(f"the host {hostname!r} holds an invalid IDNA label") from exc
    return host


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, with percent-encoded dots read as dots as browsers do.
    segments: list[str] = []
    parts = _DOT_SEGMENT.sub(".", path).split("/")
    for index, segment in enumerate(parts):
        last = index == len(parts) - 1
        if segment == ".":
            if last:
                segments.append("")
            continue
        if segment == "..":
            if len(segments) > 1:
                segments.pop()
            if last:
                segments.append("")
            continue
        segments.append(segment)
    normalised = "/".join(segments)
    return normalised if normalised.startswith("/") else "/" + normalised


def _split(url: str) -> SplitResult:
    if not isinstance(url, str) or _UNSAFE_CHARACTERS.search(url):
        raise InvalidUrl("the URL contains spaces, backslashes or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError as exc:
        raise InvalidUrl(str(exc)) from exc
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise InvalidUrl("the URL must start with http:// or https://")
    if not parts.netloc or not parts.hostname:
        raise InvalidUrl("the URL has no host")
    return parts


def _effective_port(parts: SplitResult) -> int:
    return parts.port if parts.port is not None else DEFAULT_PORTS[parts.scheme.lower()]


def parse_target(url: str) -> ParsedTarget:
    """Parse an absolute http(s) URL; InvalidUrl when it is not one."""
    parts = _split(url)
    return ParsedTarget(
        scheme=parts.scheme.lower(),
        host=_normalise_host(parts.hostname or ""),
        port=_effective_port(parts),
        path=_remove_dot_segments(parts.path or "/"),
        has_userinfo="@" in parts.netloc,
    )


def parse_pattern(pattern: str) -> AllowPattern:
    """Parse an allowlist pattern; InvalidUrl says what is wrong with it."""
    if len(pattern) > MAX_URL_LENGTH:
        raise InvalidUrl(f"a pattern is at most {MAX_URL_LENGTH} characters long")
    parts = _split(pattern)
    if "@" in parts.netloc:
        raise InvalidUrl("a pattern may not carry a user name or password")
    if parts.query or parts.fragment or pattern.endswith(("?", "#")):
        raise InvalidUrl("a pattern may not carry a query or a fragment")
    hostname = parts.hostname or ""
    wildcard = hostname.startswith("*.")
    if wildcard:
        hostname = hostname[2:]
    if "*" in hostname or (not wildcard and "*" in parts.netloc):
        raise InvalidUrl("a wildcard may only stand as the first label, as in https://*.example.com")
    host = _normalise_host(hostname)
    if wildcard and (host.startswith("[") or _is_numeric_label(host.rsplit(".", 1)[-1])):
        raise InvalidUrl("a wildcard stands for subdomains of a domain name, not of an IP address")
    if wildcard and "." not in host:
        raise InvalidUrl("a wildcard needs a parent domain with at least two labels")
    path = _remove_dot_segments(parts.path) if parts.path else ""
    return AllowPattern(
        scheme=parts.scheme.lower(),
        host=host,
        port=_effective_port(parts),
        path=path.rstrip("/"),
        wildcard=wildcard,
    )


def validate_patterns(patterns: object) -> list[str]:
    """The patterns, checked and without duplicates; InvalidUrl quotes the first bad one."""
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise InvalidUrl("allowedTargets must be a list of strings")
    if len(patterns) > MAX_PATTERNS:
        raise InvalidUrl(f"an allowlist holds at most {MAX_PATTERNS} patterns")
    for pattern in patterns:
        try:
            parse_pattern(pattern)
        except InvalidUrl as exc:
            raise InvalidUrl(f"invalid allowlist pattern {pattern!r}: {exc}") from None
    return list(dict.fromkeys(patterns))


def target_allowed(*, target_url: str, patterns: list[str]) -> bool:
    try:
        target = parse_target(target_url)
    except InvalidUrl:
        return False
    if target.has_userinfo:
        return False
    for pattern in patterns:
        try:
            if parse_pattern(pattern).matches(target):
                return True
        except InvalidUrl:
            continue
    return False
