"""The allowlist matcher works on parsed URLs (contract 2), and patterns are validated when saved."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from hypothesis import assume, given
from hypothesis import strategies as st

from conversations.allowlist import InvalidUrl, parse_pattern, target_allowed, validate_patterns
from conversations.models import Bot
from tests.factories import ServiceFactory


def allowed(target: str, *patterns: str) -> bool:
    return target_allowed(target_url=target, patterns=list(patterns))


@pytest.mark.parametrize(
    "target",
    [
        "https://example.com",
        "https://example.com/",
        "https://example.com/any/path?x=1#frag",
        "https://EXAMPLE.COM/contact",
        "https://Example.Com./contact",
        "https://example.com:443/contact",
        "https://example.com:0443/",
        "https://example.com:/",
    ],
)
def test_an_origin_pattern_allows_that_origin_with_any_path(target: str) -> None:
    assert allowed(target, "https://example.com")


@pytest.mark.parametrize(
    "target",
    [
        "https://example.com.evil.net/",
        "https://example.com@evil.net/",
        "https://user:pass@example.com/",
        "https://@example.com/",
        "https://example.com:443@evil.net/",
        "https://evil.net/?https://example.com",
        "https://evil.net/#https://example.com",
        "https://evil.net/https://example.com",
        "https://evilexample.com/",
        "https://sub.example.com/",
        "http://example.com/",
        "https://example.com:8443/",
        "https://example.com:80/",
        "javascript:alert(1)//https://example.com",
        "javascript://example.com/%0aalert(1)",
        "data:text/html,https://example.com",
        "ftp://example.com/",
        "//example.com/",
        "/contact",
        "example.com",
        "https:example.com",
        "https:///example.com",
        "https://example.com\\@evil.net/",
        "https://evil.net\\.example.com/",
        " https://example.com/",
        "https://exa mple.com/",
        "https://example.com\t/",
        "https://example%2Ecom/",
        "https://example.com%2F@evil.net/",
        "",
    ],
)
def test_tricks_do_not_pass_for_the_origin(target: str) -> None:
    assert not allowed(target, "https://example.com")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://example.com/contact", True),
        ("https://example.com/contact/", True),
        ("https://example.com/contact/sales?x=1", True),
        ("https://example.com/contact?x=1", True),
        ("https://example.com/contactus", False),
        ("https://example.com/contact.html", False),
        ("https://example.com/", False),
        ("https://example.com/Contact", False),
        ("https://example.com/about/../contact", True),
        ("https://example.com/./contact/x", True),
        ("https://example.com/contact/../admin", False),
        ("https://example.com/contact/%2e%2e/admin", False),
        ("https://example.com/contact/%2E%2E/admin", False),
        ("https://example.com/contact/..", False),
        ("https://example.com/contact%2F..%2Fadmin", False),
        ("https://example.com/x?/contact", False),
        ("https://example.com/x#/contact", False),
    ],
)
def test_a_path_pattern_allows_that_path_and_below_after_dot_segments(target: str, expected: bool) -> None:
    assert allowed(target, "https://example.com/contact") is expected


def test_a_path_pattern_with_a_trailing_slash_means_the_same() -> None:
    assert allowed("https://example.com/contact", "https://example.com/contact/")
    assert not allowed("https://example.com/contactus", "https://example.com/contact/")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://shop.example.com/", True),
        ("https://a.b.example.com/x", True),
        ("https://SHOP.EXAMPLE.COM/", True),
        ("https://example.com/", False),
        ("https://badexample.com/", False),
        ("https://shop.example.com.evil.net/", False),
        ("https://shop.example.com@evil.net/", False),
        ("http://shop.example.com/", False),
    ],
)
def test_a_wildcard_pattern_allows_subdomains_not_the_apex(target: str, expected: bool) -> None:
    assert allowed(target, "https://*.example.com") is expected


@pytest.mark.parametrize(
    ("target", "pattern"),
    [
        ("https://bücher.example/", "https://xn--bcher-kva.example"),
        ("https://xn--bcher-kva.example/", "https://bücher.example"),
        ("https://BÜCHER.example/", "https://bücher.example"),
        ("https://shop.bücher.example/", "https://*.xn--bcher-kva.example"),
        ("https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/", "https://example.com"),  # full-width
        ("https://[::1]:8443/", "https://[0:0::1]:8443"),
        ("https://127.0.0.1/", "https://127.0.0.1:443"),
        ("https://my_host.example.com/", "https://my_host.example.com"),
        ("http://example.com:80/", "http://example.com"),
        ("http://example.com/", "http://example.com:80"),
    ],
)
def test_hosts_and_ports_are_compared_in_their_normal_form(target: str, pattern: str) -> None:
    assert allowed(target, pattern)


@pytest.mark.parametrize(
    ("target", "pattern"),
    [
        ("https://bucher.example/", "https://bücher.example"),
        ("https://2130706433/", "https://127.0.0.1"),
        ("https://0x7f.0.0.1/", "https://127.0.0.1"),
        ("https://127.1/", "https://127.0.0.1"),
        ("https://[::1]/", "https://[::2]"),
        ("https://[fe80::1%25eth0]/", "https://[fe80::1]"),
        ("https://example.com:8080/", "https://example.com:8081"),
    ],
)
def test_other_hosts_and_ports_do_not_match(target: str, pattern: str) -> None:
    assert not allowed(target, pattern)


def test_any_pattern_of_the_list_may_allow_and_bad_stored_ones_are_skipped() -> None:
    assert allowed("https://b.example/x", "not a pattern", "https://a.example", "https://b.example")
    assert not allowed("https://c.example/x", "not a pattern", "https://a.example")
    assert not allowed("https://a.example/")


@pytest.mark.parametrize(
    "pattern",
    [
        "example.com",
        "//example.com",
        "ftp://example.com",
        "javascript:alert(1)",
        "data:text/html,hi",
        "https://",
        "https://user@example.com",
        "https://user:pw@example.com",
        "https://example.com/?q=1",
        "https://example.com/#x",
        "https://example.com/?",
        "https://*.com",
        "https://*example.com",
        "https://a.*.example.com",
        "https://*.*.example.com",
        "https://*",
        "https://*.[::1]",
        "https://*.10.0.0.1",
        "https://example.com:99999",
        "https://example.com:http",
        "https://exa mple.com",
        "https://example.com\\x",
        "https://xn--zz.example",
        "https://a..example",
        "https://1.2.3",
        "https://0x7f.0.0.1",
        "https://[fe80::1%25eth0]",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_invalid_patterns_are_refused_with_the_pattern_quoted(pattern: str) -> None:
    with pytest.raises(InvalidUrl) as raised:
        validate_patterns(["https://fine.example", pattern])
    assert repr(pattern)[:60] in str(raised.value)


@pytest.mark.parametrize("patterns", ["https://example.com", None, [1], [["https://example.com"]], {"a": 1}])
def test_an_allowlist_is_a_list_of_strings(patterns: object) -> None:
    with pytest.raises(InvalidUrl):
        validate_patterns(patterns)


def test_an_allowlist_is_bounded_and_deduplicated() -> None:
    assert validate_patterns(["https://a.example", "https://b.example", "https://a.example"]) == [
        "https://a.example",
        "https://b.example",
    ]
    with pytest.raises(InvalidUrl, match="at most"):
        validate_patterns([f"https://h{n}.example" for n in range(101)])


@pytest.mark.django_db
def test_create_bot_validates_its_patterns() -> None:
    service = ServiceFactory(name="owner")
    with pytest.raises(CommandError, match=re.escape("ftp://files.example")):
        call_command(
            "create_bot", "Site", "--service", "owner", "--allow", "ftp://files.example", stdout=StringIO()
        )
    assert not Bot.objects.filter(service=service).exists()


# Property tests: a generated domain, path and the tricks built around them.

labels = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
domains = st.lists(labels, min_size=2, max_size=4).map(".".join)
segments = st.from_regex(r"[A-Za-z0-9_~-]{1,10}", fullmatch=True)
paths = st.lists(segments, max_size=4).map(lambda parts: "/" + "/".join(parts))


@given(domains, paths)
def test_an_origin_allows_every_path_of_it(domain: str, path: str) -> None:
    pattern = f"https://{domain}"
    parse_pattern(pattern)
    assert allowed(f"https://{domain}{path}", pattern)
    assert allowed(f"https://{domain.upper()}:443{path}", pattern)
    assert allowed(f"https://{domain}.{path}", pattern)


@given(domains, domains, paths)
def test_the_origin_is_never_fooled_by_an_other_host(domain: str, other: str, path: str) -> None:
    assume(other != domain)
    pattern = f"https://{domain}"
    tricks = [
        f"https://{domain}.{other}{path}",
        f"https://{domain}@{other}{path}",
        f"https://{domain}:443@{other}{path}",
        f"https://{other}/?{pattern}",
        f"https://{other}/{pattern}",
        f"https://x{domain}{path}",
        f"https://sub.{domain}{path}",
        f"http://{domain}{path}",
        f"https://{domain}:8443{path}",
        f"javascript://{domain}{path}",
        f"data:text/html,{pattern}",
    ]
    for target in tricks:
        assert not allowed(target, pattern), target


@given(domains, segments, st.text(alphabet="abcXYZ09._~-", min_size=1, max_size=8), paths)
def test_a_path_pattern_stops_at_a_segment_boundary(
    domain: str, segment: str, suffix: str, rest: str
) -> None:
    pattern = f"https://{domain}/{segment}"
    assert allowed(f"https://{domain}/{segment}{rest}", pattern)
    assert allowed(f"https://{domain}/elsewhere/../{segment}{rest}", pattern)
    assert not allowed(f"https://{domain}/{segment}{suffix}", pattern) or suffix in {".", ".."}
    assert not allowed(f"https://{domain}/{segment}/../other{rest}", pattern)


@given(domains, labels)
def test_a_wildcard_allows_subdomains_only(domain: str, label: str) -> None:
    pattern = f"https://*.{domain}"
    assert allowed(f"https://{label}.{domain}/", pattern)
    assert not allowed(f"https://{domain}/", pattern)
    assert not allowed(f"https://{label}{domain}/", pattern)


@given(st.text(max_size=80))
def test_any_text_is_an_answer_never_an_exception(target: str) -> None:
    assert allowed(target, "https://example.com", "https://*.example.com/contact") in {True, False}
