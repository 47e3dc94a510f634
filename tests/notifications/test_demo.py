"""The demo data `make run` loads: pending questions for the demo person, one answered."""

import json
import shlex
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from config.accounts.models import Service
from notifications import demo
from notifications.models import Notification, ResponseType
from tests.helpers import Api, user_token_for

pytestmark = pytest.mark.django_db


def context_for(service: Service, person: Any) -> dict[str, Any]:
    return {
        "base_url": "http://127.0.0.1:8000",
        "service": service,
        "service_key": "sk_unused",
        "person": person,
        "user_token": user_token_for(person),
    }


def test_the_demo_seeds_questions_and_its_curl_line_answers_one(
    api: Api, service: Service, person: Any
) -> None:
    context = context_for(service, person)
    demo.seed(context)
    lines = demo.seed(context)  # twice, as two `make run`s would

    assert Notification.objects.filter(status="pending").count() == 6
    assert Notification.objects.filter(status="responded").count() == 1
    curl = shlex.split(next(line for line in lines if "client/respond" in line).split("answer one:")[1])
    body = json.loads(curl[curl.index("-d") + 1])
    response = api.as_(context["user_token"]).post("/api/v1/client/respond", body)
    assert response.status_code == 200, response.content

    demo.seed(context)  # the answered approval is replaced by a fresh one to answer
    assert Notification.objects.filter(status="pending").count() == 6


def test_make_runs_seed_gives_alex_an_inbox_with_every_response_type_and_prints_the_emails(
    settings: Any, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.DEBUG = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    settings.EMAIL_DELIVERY = "console"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    assert "Inbox:         http://127.0.0.1:8000/inbox/  (user alex, password alex-demo-password)" in printed
    pending = Notification.objects.filter(status="pending", recipient__username="alex")
    types = {action["response_type"] for notification in pending for action in notification.actions}
    assert types == set(ResponseType.values)
    emails = capsys.readouterr().out
    assert emails.count("To: alex@example.com") == pending.count() + 1  # and the answered one
    assert "http://127.0.0.1:8000/inbox/" in emails

    client = Client()
    response = client.post("/inbox/login/", {"username": "alex", "password": "alex-demo-password"})
    assert response.status_code == 302
    assert client.get("/inbox/").content.decode().count('class="row"') == pending.count() + 1
