"""seed_demo: the accounts, then each installed app's `demo` module, found as the admin finds `admin`."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from config.accounts.management.commands.seed_demo import demo_modules
from config.accounts.models import Service
from config.accounts.selectors import service_key_get_active, user_token_get_active

pytestmark = pytest.mark.django_db


def test_every_app_with_a_demo_module_is_found_in_installed_apps_order() -> None:
    assert [module.__name__ for module in demo_modules()] == ["actions.demo", "notifications.demo"]


def test_the_demo_prints_logins_then_each_app_in_order(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", "--base-url", "http://127.0.0.1:9000/", stdout=out)
    text = out.getvalue()
    sections = [
        "Admin:",
        "Service key:",
        "Widget actions:",
        "Triggered actions:",
        "Privacy:",
        "Notifications:",
    ]
    positions = [text.index(section) for section in sections]
    assert positions == sorted(positions)
    assert "http://127.0.0.1:9000/admin/" in text


def test_the_demo_refuses_to_run_without_debug(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=true"):
        call_command("seed_demo", stdout=StringIO())


def test_the_demo_service_calls_back_where_it_is_told_and_keeps_it(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    call_command("seed_demo", "--callback-url", "http://127.0.0.1:9001/webhooks", stdout=StringIO())
    assert Service.objects.get(name="demo-assistant").callback_url == "http://127.0.0.1:9001/webhooks"
    call_command("seed_demo", "--callback-url", "http://127.0.0.1:9101/webhooks", stdout=StringIO())
    assert Service.objects.get(name="demo-assistant").callback_url == "http://127.0.0.1:9101/webhooks"
    call_command("seed_demo", stdout=StringIO())
    assert Service.objects.get(name="demo-assistant").callback_url == "http://127.0.0.1:9101/webhooks"


def test_seeding_again_revokes_the_previous_demo_key_and_token(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    first, second = StringIO(), StringIO()
    call_command("seed_demo", "--json", stdout=first)
    call_command("seed_demo", "--json", stdout=second)
    old, new = json.loads(first.getvalue()), json.loads(second.getvalue())
    assert service_key_get_active(secret=old["service_key"]) is None
    assert user_token_get_active(secret=old["user_token"]) is None
    assert service_key_get_active(secret=new["service_key"]) is not None
    token = user_token_get_active(secret=new["user_token"])
    assert token is not None and token.user.username == new["username"] == "alex"
