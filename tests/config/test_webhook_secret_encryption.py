"""Webhook secrets at rest (contract 10): encrypted with WEBHOOK_SECRET_KEYS (or a key derived
from SECRET_KEY), re-encrypted under a new key by `rotate_webhook_encryption`, existing rows
encrypted by a data migration; invalid keys stop the server at start."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from pytest_django.fixtures import Settings

from config.accounts.encryption import UnreadableSecret, decrypt, derived_key
from config.accounts.models import Service
from config.accounts.services import service_webhook_secret_rotate
from tests.config.test_settings import manage, run_python
from tests.factories import ServiceFactory

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored_column(service: Service, column: str = "webhook_secret") -> str:
    """The column as the database holds it (the model would decrypt it)."""
    service_id = Service._meta.pk.get_db_prep_value(service.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM accounts_service WHERE id = %s", [service_id])
        return cursor.fetchone()[0]


def reloaded_secrets(service: Service) -> tuple[str, str]:
    fresh = Service.objects.get(pk=service.pk)
    return fresh.webhook_secret, fresh.previous_webhook_secret


@pytest.mark.django_db
def test_the_secret_is_stored_encrypted_and_read_back_in_clear(settings: Settings) -> None:
    settings.WEBHOOK_SECRET_KEYS = [KEY_A]
    service = ServiceFactory()
    rotated = service_webhook_secret_rotate(service=service)

    for column in ("webhook_secret", "previous_webhook_secret"):
        stored = stored_column(service, column)
        assert "whsec_" not in stored
        assert Fernet(KEY_A).decrypt(stored.encode()).decode().startswith("whsec_")
    assert reloaded_secrets(service)[0] == rotated.secret


@pytest.mark.django_db
def test_without_keys_a_key_derived_from_secret_key_encrypts(settings: Settings) -> None:
    settings.WEBHOOK_SECRET_KEYS = []
    service = ServiceFactory()
    stored = stored_column(service)
    assert (
        Fernet(derived_key(settings.SECRET_KEY)).decrypt(stored.encode()).decode() == service.webhook_secret
    )
    # Not SECRET_KEY itself: a key of its own purpose.
    assert derived_key(settings.SECRET_KEY) != derived_key(settings.SECRET_KEY + "x")

    # A copy of the database without the key cannot sign anything.
    settings.SECRET_KEY = "another-secret-key-than-the-one-that-encrypted"
    with pytest.raises(UnreadableSecret):
        Service.objects.get(pk=service.pk).webhook_secret  # noqa: B018


@pytest.mark.django_db
def test_keys_rotate_old_ones_decrypt_until_everything_is_re_encrypted(settings: Settings) -> None:
    settings.WEBHOOK_SECRET_KEYS = [KEY_A]
    services = [ServiceFactory() for _ in range(3)]
    service_webhook_secret_rotate(service=services[0])
    expected = {service.pk: reloaded_secrets(service) for service in services}

    settings.WEBHOOK_SECRET_KEYS = [KEY_B, KEY_A]  # the new key first: it encrypts, both decrypt
    assert {service.pk: reloaded_secrets(service) for service in services} == expected
    out = StringIO()
    call_command("rotate_webhook_encryption", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"services": 3}

    settings.WEBHOOK_SECRET_KEYS = [KEY_B]  # the old key dropped
    assert {service.pk: reloaded_secrets(service) for service in services} == expected
    assert Fernet(KEY_B).decrypt(stored_column(services[0], "previous_webhook_secret").encode())

    settings.WEBHOOK_SECRET_KEYS = [Fernet.generate_key().decode()]  # a key that never encrypted them
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_webhook_encryption", stdout=StringIO())


@pytest.mark.django_db
def test_a_decrypted_secret_is_reused_only_while_its_token_and_keys_stay(settings: Settings) -> None:
    # Each process keeps what it decrypted, by the stored token and the keys it was read with.
    settings.WEBHOOK_SECRET_KEYS = [KEY_A]
    service = ServiceFactory()
    first = reloaded_secrets(service)[0]
    assert reloaded_secrets(service)[0] == first

    rotated = service_webhook_secret_rotate(service=service)
    assert reloaded_secrets(service) == (rotated.secret, first)

    settings.WEBHOOK_SECRET_KEYS = [KEY_B]  # the key they were encrypted with dropped
    with pytest.raises(UnreadableSecret):
        reloaded_secrets(service)


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_encrypts_existing_secrets_and_is_reversible() -> None:
    executor = MigrationExecutor(connection)
    before, after = (
        [("accounts", "0001_initial")],
        [("accounts", "0002_encrypted_webhook_secrets_and_rotation")],
    )
    executor.migrate(before)
    clear = "whsec_" + "A" * 43 + "="
    old_service = executor.loader.project_state(before).apps.get_model("accounts", "Service")
    old_service.objects.create(name="from-before", webhook_secret=clear)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        service = Service.objects.get(name="from-before")
        assert stored_column(service) != clear and "whsec_" not in stored_column(service)
        assert decrypt(stored_column(service)) == clear
        assert service.webhook_secret == clear

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT webhook_secret FROM accounts_service WHERE name = 'from-before'")
            assert cursor.fetchone()[0] == clear
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


# -- at start ---------------------------------------------------------------------------------


def test_an_invalid_key_fails_the_system_check_naming_its_position_not_its_value() -> None:
    result = manage("check", DEBUG="true", WEBHOOK_SECRET_KEYS=f"{KEY_A},not-a-fernet-key")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "config.E013" in output and "key 2 of 2 is not a Fernet key" in output
    assert "not-a-fernet-key" not in output and KEY_A not in output


def test_valid_keys_pass_the_system_check() -> None:
    result = manage("check", DEBUG="true", WEBHOOK_SECRET_KEYS=f"{KEY_A}, {KEY_B}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_wsgi_application_refuses_to_start_with_an_invalid_key() -> None:
    result = run_python("import config.wsgi", DEBUG="true", WEBHOOK_SECRET_KEYS="short")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "config.E013" in result.stderr
    assert "is not a Fernet key" in result.stderr
    assert run_python("import config.wsgi", DEBUG="true", WEBHOOK_SECRET_KEYS=KEY_A).returncode == 0


def test_the_overlap_is_a_duration_setting_defaulting_to_24h() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from config.formats import parse_duration; "
        "print(parse_duration(settings.WEBHOOK_SECRET_OVERLAP).total_seconds())"
    )
    assert run_python(code, DEBUG="true").stdout.strip() == str(timedelta(hours=24).total_seconds())
    assert run_python(code, DEBUG="true", WEBHOOK_SECRET_OVERLAP="90m").stdout.strip() == "5400.0"
    refused = manage("check", DEBUG="true", WEBHOOK_SECRET_OVERLAP="a day")
    assert refused.returncode != 0
    assert "config.E012" in refused.stderr
    assert "WEBHOOK_SECRET_OVERLAP: 'a day' is not a duration" in refused.stderr
