"""The operator commands create_service, create_bot and issue_token (contract 1)."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from config.accounts.models import Service, ServiceKey, UserToken
from config.accounts.secrets import digest
from conversations.models import Bot
from tests.helpers import Api

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_json(*args: str) -> dict[str, str]:
    output = run(*args, "--json")
    assert output.count("\n") <= 1, "--json prints one object and nothing else"
    return json.loads(output)


def test_create_service_prints_its_id_key_and_secret_once() -> None:
    created = run_json("create_service", "crm-assistant", "--callback-url", "https://crm.example/hooks")
    assert set(created) == {"service_id", "api_key", "webhook_secret"}
    service = Service.objects.get(pk=created["service_id"])
    assert service.callback_url == "https://crm.example/hooks"
    assert created["api_key"].startswith("sk_")
    assert created["webhook_secret"].startswith("whsec_")
    key = ServiceKey.objects.get(service=service)
    assert key.key_hash == digest(created["api_key"])
    assert created["api_key"] not in {key.key_hash, key.prefix}


def test_the_printed_key_authenticates(api: Api) -> None:
    created = run_json("create_service", "svc")
    from config.accounts.selectors import service_key_get_active

    key = service_key_get_active(secret=created["api_key"])
    assert key is not None and str(key.service_id) == created["service_id"]


def test_create_service_without_json_explains_itself() -> None:
    output = run("create_service", "plain")
    assert "not shown again" in output


def test_create_service_refuses_a_duplicate_name() -> None:
    run("create_service", "twice")
    with pytest.raises(CommandError, match="exists already"):
        run("create_service", "twice")


def test_create_service_refuses_a_bad_callback_url() -> None:
    with pytest.raises(CommandError, match="callback-url"):
        run("create_service", "bad", "--callback-url", "ftp://nope")


@pytest.mark.parametrize("by", ["name", "id"])
def test_create_bot_by_service_name_or_id_with_repeated_allow(by: str) -> None:
    created = run_json("create_service", "owner")
    reference = "owner" if by == "name" else created["service_id"]
    result = run_json(
        "create_bot",
        "Website",
        "--service",
        reference,
        "--allow",
        "https://example.com",
        "--allow",
        "https://*.shop.example",
    )
    bot = Bot.objects.get(pk=result["bot_id"])
    assert bot.allowed_targets == ["https://example.com", "https://*.shop.example"]
    assert str(bot.service_id) == created["service_id"]


def test_create_bot_refuses_an_unknown_service() -> None:
    with pytest.raises(CommandError, match="no service"):
        run("create_bot", "Website", "--service", "ghost")


@pytest.mark.parametrize(
    "pattern", ["example.com", "javascript:alert(1)", "https://user@example.com", "https://ex*mple.com"]
)
def test_create_bot_refuses_an_invalid_pattern_and_quotes_it(pattern: str) -> None:
    run("create_service", "owner")
    with pytest.raises(CommandError) as raised:
        run("create_bot", "Website", "--service", "owner", "--allow", pattern)
    assert repr(pattern) in str(raised.value)
    assert not Bot.objects.exists()


def test_issue_token_for_an_existing_user() -> None:
    user = get_user_model().objects.create_user(username="dana")
    issued = run_json("issue_token", "dana")
    assert issued["username"] == "dana"
    assert issued["token"].startswith("ut_")
    stored = UserToken.objects.get(user=user)
    assert stored.token_hash == digest(issued["token"])


def test_issue_token_needs_create_for_a_new_user() -> None:
    with pytest.raises(CommandError, match="--create"):
        run("issue_token", "newcomer")
    issued = run_json("issue_token", "newcomer", "--create")
    assert get_user_model().objects.filter(username=issued["username"]).exists()


@pytest.mark.parametrize("command", ["create_service", "create_bot", "issue_token"])
def test_every_command_has_help(command: str) -> None:
    from django.core.management import get_commands, load_command_class

    parser = load_command_class(get_commands()[command], command).create_parser("manage.py", command)
    assert "--json" in parser.format_help()


def test_issue_token_sets_the_email_and_the_password_for_the_inbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", StringIO("a long inbox passphrase\nignored second line\n"))
    issued = run_json("issue_token", "robin", "--create", "--email", "robin@example.com", "--password-stdin")
    user = get_user_model().objects.get(username="robin")
    assert user.email == "robin@example.com"
    assert user.check_password("a long inbox passphrase")
    assert issued["token"].startswith("ut_")
    response = Client().post("/inbox/login/", {"username": "robin", "password": "a long inbox passphrase"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        ("", ["--password-stdin"], "empty"),
        ("\n", ["--password-stdin"], "empty"),
        ("robin\n", ["--password-stdin"], "too similar"),
        ("abc\n", ["--password-stdin"], "too short"),
        ("", ["--email", "not-an-address"], "not an e-mail address"),
    ],
)
def test_issue_token_refuses_a_bad_password_or_address_and_creates_nothing(
    monkeypatch: pytest.MonkeyPatch, stdin: str, args: list[str], message: str
) -> None:
    monkeypatch.setattr("sys.stdin", StringIO(stdin))
    with pytest.raises(CommandError, match=message):
        run("issue_token", "robin", "--create", *args)
    assert not get_user_model().objects.filter(username="robin").exists()
    assert not UserToken.objects.exists()


@pytest.mark.parametrize("username", ["", "has space", "x" * 151])
def test_issue_token_refuses_a_malformed_username(username: str) -> None:
    with pytest.raises(CommandError, match="not a username"):
        run("issue_token", username, "--create")


def test_issue_token_can_change_the_email_of_an_existing_user() -> None:
    get_user_model().objects.create_user(username="dana", email="old@example.com")
    run_json("issue_token", "dana", "--email", "new@example.com")
    assert get_user_model().objects.get(username="dana").email == "new@example.com"
