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
from tests.helpers import Api, service_key_for, user_token_for

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

    assert Notification.objects.filter(status="pending").count() == 9
    assert Notification.objects.filter(status="responded").count() == 2
    shared = Notification.objects.get(title=demo.SHARED["title"])
    assert shared.recipient_usernames() == [person.username, "sam"]
    assert Notification.objects.get(title=demo.DEFAULTS["title"]).on_deadline is not None
    assert Notification.objects.get(title=demo.ESCALATES["title"]).escalate["recipients"] == ["sam"]
    curl = shlex.split(next(line for line in lines if "client/respond" in line).split("answer one:")[1])
    body = json.loads(curl[curl.index("-d") + 1])
    response = api.as_(context["user_token"]).post("/api/v1/client/respond", body)
    assert response.status_code == 200, response.content

    demo.seed(context)  # the answered approval is replaced by a fresh one to answer
    assert Notification.objects.filter(status="pending").count() == 9


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
    assert emails.count("To: alex@example.com") == pending.count() + 2  # and the answered ones
    assert "http://127.0.0.1:8000/inbox/" in emails

    client = Client()
    response = client.post("/inbox/login/", {"username": "alex", "password": "alex-demo-password"})
    assert response.status_code == 302
    assert client.get("/inbox/").content.decode().count('class="row"') == pending.count() + 2


def test_the_demo_service_has_a_delivery_log_to_read_and_replay(
    client: Client, service: Service, person: Any
) -> None:
    context = context_for(service, person)
    context["service_key"] = service_key_for(service)
    lines = demo.seed(context)
    demo.seed(context)

    service_api = Api(client, context["service_key"])
    events = service_api.get("/api/v1/webhook-events").json()["results"]
    # The answered one's webhook waits for the worker, which `make run` starts.
    assert sorted(event["status"] for event in events) == ["failed", "pending"]
    failed = next(event for event in events if event["status"] == "failed")
    assert failed["attempts"] == 3 and failed["last_attempt"]["status_code"] == 500
    detail = service_api.get(f"/api/v1/webhook-events/{failed['webhook_id']}").json()
    assert [attempt["status_code"] for attempt in detail["attempt_log"]] == [None, None, 500]

    read = shlex.split(next(line for line in lines if "read it:" in line).split("read it:")[1])
    assert read[-1].endswith("/api/v1/webhook-events?status=failed")
    replay = shlex.split(next(line for line in lines if "replay:" in line).split("replay:")[1])
    response = service_api.post("/api/v1/webhook-events/replay", json.loads(replay[replay.index("-d") + 1]))
    assert response.json() == {"queued": 1}


def test_the_refund_question_is_approve_or_reject_each_with_an_optional_note(
    api: Api, service: Service, person: Any
) -> None:
    context = context_for(service, person)
    demo.seed(context)
    refund = Notification.objects.get(title=demo.APPROVAL["title"], status="pending")
    actions = {action["id"]: action for action in refund.actions}
    assert set(actions) == {"approve", "reject"}
    for action in actions.values():
        assert action["response_type"] == ResponseType.TEXT
        assert action["constraints"]["min_length"] == 0  # the note is optional
        assert "optional" in action["label"]

    # Rejecting without a note is a whole answer: the decision is the action.
    response = api.as_(context["user_token"]).post(
        "/api/v1/client/respond",
        {"notification_id": str(refund.pk), "action_id": "reject", "response_data": ""},
    )
    assert response.status_code == 200, response.content
    refund.refresh_from_db()
    assert (refund.response_action_id, refund.response_data) == ("reject", "")
