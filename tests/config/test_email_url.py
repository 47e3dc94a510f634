"""EMAIL_URL into Django's mailer settings (config/formats.py parse_email_url)."""

import pytest

from config.formats import parse_email_url


def options(url: str) -> dict[str, object]:
    mailer = parse_email_url(url)
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    return mailer["OPTIONS"]


def test_plain_smtp_with_credentials() -> None:
    assert options("smtp://loopback:s3cret@mail.example.com:2525") == {
        "host": "mail.example.com",
        "port": 2525,
        "username": "loopback",
        "password": "s3cret",
        "use_tls": False,
        "use_ssl": False,
        "timeout": 10,
    }


@pytest.mark.parametrize(
    ("url", "port", "use_tls", "use_ssl"),
    [
        ("smtp://mail.example.com", 25, False, False),
        ("smtp+starttls://mail.example.com", 587, True, False),
        ("SMTP+STARTTLS://mail.example.com:25", 25, True, False),
        ("smtps://mail.example.com", 465, False, True),
        ("smtps://mail.example.com:1465/", 1465, False, True),
    ],
)
def test_each_scheme_has_its_tls_and_default_port(url: str, port: int, use_tls: bool, use_ssl: bool) -> None:
    parsed = options(url)
    assert (parsed["port"], parsed["use_tls"], parsed["use_ssl"]) == (port, use_tls, use_ssl)
    assert (parsed["username"], parsed["password"]) == ("", "")


def test_credentials_are_percent_decoded() -> None:
    parsed = options("smtp+starttls://apikey%40example.com:p%3Ass%2Fw%40rd@smtp.example.com")
    assert (parsed["username"], parsed["password"]) == ("apikey@example.com", "p:ss/w@rd")


def test_an_ipv6_host_and_a_timeout() -> None:
    parsed = options("smtp://[::1]:1025?timeout=30")
    assert (parsed["host"], parsed["port"], parsed["timeout"]) == ("::1", 1025, 30)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.example.com", "must start with smtp://"),
        ("submission://mail.example.com", "must start with smtp://"),
        ("mail.example.com:25", "must start with smtp://"),
        ("smtp://", "names no host"),
        ("smtp://user:pw@:25", "names no host"),
        ("smtp://mail.example.com:99999", "port"),
        ("smtp://mail.example.com:0", "port"),
        ("smtp://mail.example.com:abc", "port"),
        ("smtp://mail.example.com/inbox", "takes no path"),
        ("smtp://mail.example.com?ssl=1", "only the query parameter timeout"),
        ("smtp://mail.example.com?timeout=0", "its timeout must be"),
        ("smtp://mail.example.com?timeout=ten", "its timeout must be"),
    ],
)
def test_a_bad_url_is_refused_without_repeating_it(url: str, problem: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_email_url(url.replace("user:pw", "user:hunter2"))
    assert problem in str(refused.value)
    assert "hunter2" not in str(refused.value)
