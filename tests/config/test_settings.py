"""Settings come from the environment (contract 1); each case runs in a fresh process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": db["ENGINE"],
    "conn_max_age": db.get("CONN_MAX_AGE"),
    "health_checks": db.get("CONN_HEALTH_CHECKS"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "secure_cookies": settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE,
    "allow_private": settings.OUTBOUND_ALLOW_PRIVATE,
    "trigger_rate": settings.ACTIONS_TRIGGER_RATE,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "keep_alive": settings.OUTBOUND_KEEP_ALIVE_SECONDS,
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}),
}))
"""


def run_python(code: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}
    }
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"
    for key, value in env.items():
        if value is not None:
            environment[key] = value
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def settings_under(**env: str | None) -> dict[str, object]:
    result = run_python(PRINT_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_secret_key_and_debug_off_the_server_refuses_to_start() -> None:
    result = run_python(PRINT_SETTINGS)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [({}, "SECRET_KEY is not set"), ({"DEBUG": "maybe"}, "DEBUG must be true or false")],
)
def test_a_command_under_bad_settings_says_which_in_one_line(env: dict[str, str], message: str) -> None:
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings", **env}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("manage.py: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_production_defaults_when_debug_is_off() -> None:
    values = settings_under(SECRET_KEY="s" * 50)
    assert values["debug"] is False
    assert values["secure_cookies"] is True
    assert values["allow_private"] is False
    assert values["trigger_rate"] == "600/m"
    assert values["allowed_hosts"] == []
    assert values["keep_alive"] == 1.0


def test_embedded_default_is_sqlite_and_an_in_process_cache() -> None:
    values = settings_under(DEBUG="true")
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"


def test_database_url_selects_postgresql_with_persistent_connections() -> None:
    values = settings_under(SECRET_KEY="s" * 50, DATABASE_URL="postgres://u:p@db.internal:5432/loopback")
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["conn_max_age"] == 600
    assert values["health_checks"] is True
    assert values["db_options"] == {"server_side_binding": True}


def test_server_side_binding_can_be_turned_off_for_a_transaction_pooler() -> None:
    values = settings_under(
        SECRET_KEY="s" * 50,
        DATABASE_URL="postgres://u:p@db.internal:5432/loopback",
        DATABASE_SERVER_SIDE_BINDING="false",
    )
    assert values["db_options"] == {"server_side_binding": False}


def test_redis_url_puts_the_cache_and_rate_limits_in_redis() -> None:
    values = settings_under(SECRET_KEY="s" * 50, REDIS_URL="redis://127.0.0.1:6379/0")
    assert values["cache"] == "django_redis.cache.RedisCache"


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_boolean_setting_that_is_not_a_boolean_is_refused(value: str) -> None:
    result = run_python(PRINT_SETTINGS, DEBUG=value)
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_the_keep_alive_of_outbound_connections_is_a_number_of_seconds() -> None:
    assert settings_under(DEBUG="true", OUTBOUND_KEEP_ALIVE_SECONDS="0")["keep_alive"] == 0.0
    assert settings_under(DEBUG="true", OUTBOUND_KEEP_ALIVE_SECONDS="0.5")["keep_alive"] == 0.5
    result = run_python(PRINT_SETTINGS, DEBUG="true", OUTBOUND_KEEP_ALIVE_SECONDS="soon")
    assert result.returncode != 0
    assert "OUTBOUND_KEEP_ALIVE_SECONDS must be a number, not 'soon'" in result.stderr
    # Its range is a system check's (tests/config/test_checks.py).
    for value in ("-1", "nan", "86400"):
        result = manage("check", DEBUG="true", OUTBOUND_KEEP_ALIVE_SECONDS=value)
        assert result.returncode != 0
        assert "config.E002" in result.stderr and "is not a number of seconds from 0 to 3600" in result.stderr


def manage(*args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    return run_python(
        f"import sys; sys.argv = ['manage.py', *{list(args)!r}]; import manage; manage.main()", **env
    )


def test_check_passes_with_redis_and_no_ratelimit_check_is_silenced() -> None:
    result = manage(
        "check", "--fail-level", "WARNING", SECRET_KEY="s" * 50, REDIS_URL="redis://127.0.0.1:6379/0"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "django_ratelimit" not in result.stdout + result.stderr


def test_check_passes_on_the_embedded_default() -> None:
    result = manage("check", "--fail-level", "WARNING", DEBUG="true")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_reports_an_in_process_cache() -> None:
    result = manage("check", "--deploy", SECRET_KEY="s" * 50)
    assert "config.W001" in result.stdout + result.stderr
    assert "REDIS_URL is not set" in result.stdout + result.stderr


def test_the_wsgi_server_warns_at_start_without_redis() -> None:
    result = run_python("import config.wsgi", SECRET_KEY="s" * 50)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["level"] == "WARNING"
    assert "REDIS_URL is not set" in line["message"]


def test_the_wsgi_server_is_quiet_with_redis() -> None:
    result = run_python("import config.wsgi", SECRET_KEY="s" * 50, REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    assert "REDIS_URL" not in result.stderr


def test_behind_a_proxy_the_forwarded_protocol_is_trusted() -> None:
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.RATELIMIT_IP_META_KEY, settings.SECURE_PROXY_SSL_HEADER)"
    )
    behind = run_python(code, SECRET_KEY="s" * 50, BEHIND_TLS_PROXY="true")
    direct = run_python(code, SECRET_KEY="s" * 50)
    assert behind.stdout.split() == [
        "config.api.client_ip.client_ip",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
    ]
    assert direct.stdout.split() == ["config.api.client_ip.client_ip", "None"]


CHECK = """
import django
from django.core.management import call_command
django.setup()
call_command("check")
"""

PRINT_EMAIL = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({"delivery": settings.EMAIL_DELIVERY, "mailers": settings.MAILERS,
                  "from": settings.DEFAULT_FROM_EMAIL, "base": settings.PUBLIC_BASE_URL}))
"""


def email_settings_under(**env: str | None) -> dict[str, object]:
    result = run_python(PRINT_EMAIL, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_email_url_sends_through_the_outbox() -> None:
    got = email_settings_under(
        SECRET_KEY="x" * 50,
        EMAIL_URL="smtp+starttls://bot:pw@smtp.example.com",
        DEFAULT_FROM_EMAIL="Loopback <noreply@example.com>",
        PUBLIC_BASE_URL="https://loopback.example.com/",
    )
    assert got["delivery"] == "outbox"
    assert got["mailers"]["default"]["OPTIONS"]["host"] == "smtp.example.com"  # type: ignore[index]
    assert got["mailers"]["default"]["OPTIONS"]["use_tls"] is True  # type: ignore[index]
    assert got["from"] == "Loopback <noreply@example.com>"
    assert got["base"] == "https://loopback.example.com"


def test_without_email_url_debug_prints_and_production_sends_nothing() -> None:
    assert email_settings_under(DEBUG="true")["delivery"] == "console"
    assert email_settings_under(SECRET_KEY="x" * 50)["delivery"] == "off"


def test_email_url_needs_public_base_url_and_a_good_url() -> None:
    missing = run_python(CHECK, SECRET_KEY="x" * 50, EMAIL_URL="smtp://mail.example.com")
    assert missing.returncode != 0 and "(config.E021) PUBLIC_BASE_URL is not set" in missing.stderr
    bad = run_python(
        CHECK,
        SECRET_KEY="x" * 50,
        EMAIL_URL="smtp://u:hunter2@mail.example.com:x",
        PUBLIC_BASE_URL="https://loopback.example.com",
    )
    assert bad.returncode != 0 and "(config.E019) EMAIL_URL: the URL has a port" in bad.stderr
    assert "hunter2" not in bad.stderr
