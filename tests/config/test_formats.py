"""The one parser of each format that settings and commands are written in."""

from datetime import timedelta

import pytest

from config.formats import Rate, parse_duration, parse_rate, parse_redis_url, parse_retention, parse_seconds


@pytest.mark.parametrize(
    ("text", "rate"),
    [("600/m", Rate(600, 60)), ("5/h", Rate(5, 3600)), ("20/15m", Rate(20, 900)), ("1/d", Rate(1, 86400))],
)
def test_a_rate_is_requests_per_window(text: str, rate: Rate) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["abc", "600", "0/m", "600/M", "600/w", " 600/m", "600/0m", "-1/s", "", 600])
def test_anything_else_is_not_a_rate(text: object) -> None:
    with pytest.raises(ValueError, match="is not a rate; use a whole number of requests per s, m, h or d"):
        parse_rate(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(days=1)),
        ("7d", timedelta(days=7)),
    ],
)
def test_a_duration_is_a_whole_number_with_a_unit(text: str, duration: timedelta) -> None:
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["24", "h", "1.5h", "-1h", "1w", "1 h", "24H", "", "1h30m"])
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "retention"), [("0", None), ("30d", timedelta(days=30)), ("1s", timedelta(seconds=1))]
)
def test_a_retention_is_a_duration_or_0_for_forever(text: str, retention: timedelta | None) -> None:
    assert parse_retention(text) == retention


@pytest.mark.parametrize("text", ["0d", "0s", "30", "forever", "", " 30d", None])
def test_a_zero_duration_or_anything_else_is_not_a_retention(text: str) -> None:
    with pytest.raises(ValueError, match="is not a retention"):
        parse_retention(text)


def test_seconds_are_a_number_or_its_text_within_bounds() -> None:
    assert parse_seconds("0", high=3600) == 0.0
    assert parse_seconds(2.5) == 2.5
    assert parse_seconds(3600, high=3600) == 3600.0
    for value in ("soon", "-1", "nan", "inf", "86400", True, None, [1]):
        with pytest.raises(ValueError, match="is not a number of seconds from 0 to 3600"):
            parse_seconds(value, high=3600)
    with pytest.raises(ValueError, match="is not a number of seconds above 0"):
        parse_seconds(0, above=True)


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache.internal:6380/1", "unix:///run/redis.sock"]
)
def test_redis_urls(url: str) -> None:
    assert parse_redis_url(url) == url


@pytest.mark.parametrize("url", ["foo", "127.0.0.1:6379", "http://cache:6379", "redis://", "unix://"])
def test_what_is_not_a_redis_url(url: str) -> None:
    with pytest.raises(ValueError, match="is not a Redis URL"):
        parse_redis_url(url)
