"""Every setting with a format is a system check: a bad value stops manage.py and the server."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from tests.config.test_settings import manage, run_python

pytestmark = pytest.mark.django_db

SOLID = {"SECRET_KEY": "s" * 50, "REDIS_URL": "redis://127.0.0.1:6379/0"}


def check_errors() -> str:
    """What `manage.py check` says; empty when it passes."""
    try:
        call_command("check", stdout=StringIO(), stderr=StringIO())
    except SystemCheckError as error:
        return str(error)
    return ""


def test_the_project_settings_pass() -> None:
    assert check_errors() == ""


@pytest.mark.parametrize(
    ("setting", "value", "check_id", "says"),
    [
        ("ACTIONS_TRIGGER_RATE", "abc", "config.E001", "'abc' is not a rate"),
        ("ACTIONS_TRIGGER_RATE", "600/w", "config.E001", "'600/w' is not a rate"),
        (
            "OUTBOUND_KEEP_ALIVE_SECONDS",
            86400,
            "config.E002",
            "86400 is not a number of seconds from 0 to 3600",
        ),
        ("OUTBOUND_KEEP_ALIVE_SECONDS", -1, "config.E002", "-1 is not a number of seconds"),
        ("SECURE_HSTS_SECONDS", 1.5, "config.E003", "1.5 is not a whole number of seconds"),
        ("WEBHOOK_TIMEOUT_SECONDS", 0, "config.E004", "0 is not a number of seconds above 0"),
        ("WEBHOOK_LEASE_SECONDS", "a minute", "config.E005", "'a minute' is not a number of seconds"),
        ("WEBHOOK_RETRY_SCHEDULE_SECONDS", (5, "later"), "config.E006", "'later' is not a number of seconds"),
        ("WEBHOOK_RETRY_SCHEDULE_SECONDS", 5, "config.E006", "5 is not a list of delays"),
        ("WEBHOOK_RETRY_JITTER", 1.5, "config.E007", "1.5 is not a fraction from 0 to 0.99"),
        ("WEBHOOK_RETRY_AFTER_MAX_SECONDS", -5, "config.E008", "-5 is not a number of seconds"),
        ("WEBHOOK_POLL_SECONDS", 0, "config.E009", "0 is not a number of seconds above 0"),
        ("REDIS_URL", "localhost:6379", "config.E010", "'localhost:6379' is not a Redis URL"),
        ("WEBHOOK_SECRET_OVERLAP", "a day", "config.E012", "'a day' is not a duration"),
        ("WEBHOOK_SECRET_OVERLAP", "-1h", "config.E012", "'-1h' is not a duration"),
        ("EMAIL_RETRY_SCHEDULE_SECONDS", (60, -1), "config.E017", "-1 is not a number of seconds"),
        ("DEFAULT_FROM_EMAIL", "Loopback", "config.E018", "'Loopback' is not an e-mail address"),
        (
            "DEFAULT_FROM_EMAIL",
            "a@example.com\nBcc: b@example.com",
            "config.E018",
            "'a@example.com\\nBcc: b@example.com' is not an e-mail address",
        ),
        ("EMAIL_URL", "http://mail.example.com", "config.E019", "the URL must start with smtp://"),
        ("PUBLIC_BASE_URL", "example.com", "config.E020", "'example.com' is not a base URL"),
        ("RETAIN_WEBHOOK_PAYLOADS", "30", "config.E014", "'30' is not a retention"),
        ("RETAIN_NOTIFICATIONS", "0d", "config.E015", "'0d' is not a retention"),
        ("RETAIN_EXECUTIONS", "1w", "config.E016", "'1w' is not a retention"),
    ],
)
def test_a_bad_value_is_an_error_with_its_id_and_a_hint(
    settings, setting: str, value: object, check_id: str, says: str
) -> None:  # type: ignore[no-untyped-def]
    setattr(settings, setting, value)
    errors = check_errors()
    assert f"({check_id}) {setting}: {says}" in errors
    assert "HINT:" in errors


def test_the_lease_must_outlast_the_timeout(settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEBHOOK_TIMEOUT_SECONDS = 30
    settings.WEBHOOK_LEASE_SECONDS = 30
    errors = check_errors()
    assert "(config.E011) WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_TIMEOUT_SECONDS" in errors
    assert "Now 30 s and 30 s" in errors
    settings.WEBHOOK_LEASE_SECONDS = 31
    assert check_errors() == ""


@pytest.mark.parametrize("command", [("check",), ("migrate", "--check")])
def test_a_bad_rate_from_the_environment_stops_manage_py(command: tuple[str, ...]) -> None:
    result = manage(*command, **SOLID, ACTIONS_TRIGGER_RATE="abc")
    assert result.returncode != 0
    assert "config.E001" in result.stderr and "'abc' is not a rate" in result.stderr


def test_a_bad_rate_stops_the_wsgi_server_at_start() -> None:
    """gunicorn imports config.wsgi and runs no command: the app runs the checks itself."""
    result = run_python("import config.wsgi", **SOLID, ACTIONS_TRIGGER_RATE="abc")
    assert result.returncode != 0
    assert "config.E001" in result.stderr and "HINT:" in result.stderr
    assert run_python("import config.wsgi", **SOLID).returncode == 0


def test_an_unknown_log_level_or_database_url_stops_the_settings() -> None:
    """Both are needed before any check can run (logging, the databases), so the import refuses them."""
    level = run_python("import config.wsgi", **SOLID, LOG_LEVEL="loud")
    assert "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not 'loud'" in level.stderr
    database = run_python("import config.wsgi", **SOLID, DATABASE_URL="mysqlx://db/loopback")
    assert "DATABASE_URL is not a database URL" in database.stderr
    assert level.returncode != 0 and database.returncode != 0


PRODUCTION_STORAGE = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


def test_without_collectstatic_the_server_is_not_ready_and_says_why_once(
    settings, tmp_path: Path, client: Client, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION_STORAGE}
    with caplog.at_level("ERROR", logger="config.api.views"):
        answers = [client.get("/readyz") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [503, 503, 503]
    assert answers[0].json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "ok", "static": "not collected"},
    }
    [line] = [record for record in caplog.records if "collectstatic" in record.getMessage()]
    assert line.manifest == str(tmp_path / "staticfiles.json")  # type: ignore[attr-defined]


def test_with_the_manifest_the_server_is_ready(settings, tmp_path: Path, client: Client) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "staticfiles.json").write_text(
        '{"version": "1.1", "hash": "0", "paths": {"admin/css/base.css": "admin/css/base.0.css"}}'
    )
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION_STORAGE}
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["checks"]["static"] == "ok"


def test_an_email_url_needs_a_public_base_url(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_URL = "smtp://mail.example.com"
    settings.PUBLIC_BASE_URL = ""
    assert "(config.E021) PUBLIC_BASE_URL is not set" in check_errors()
    settings.PUBLIC_BASE_URL = "https://loopback.example.com"
    assert check_errors() == ""


def test_a_bad_email_url_is_refused_without_its_password(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_URL = "smtp://robin:hunter2@mail.example.com:port"
    errors = check_errors()
    assert "(config.E019) EMAIL_URL: the URL has a port that is not a number" in errors
    assert "hunter2" not in errors
