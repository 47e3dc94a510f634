"""End to end: an answer and an expiry reach the service's callback URL, signed per Standard Webhooks,
and a replay sends the same event again under the same webhook-id."""

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks import Webhook

from config.accounts.models import Service
from config.outbound.models import WebhookEvent
from notifications.models import Notification
from tests.helpers import Api
from tests.notifications.factories import NotificationFactory
from tests.notifications.receiver import webhook_receiver

DELIVER_COMMAND = (
    Path(__file__).resolve().parents[2] / "config/outbound/management/commands/deliver_webhooks.py"
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not DELIVER_COMMAND.exists(), reason="deliver_webhooks is not written yet"),
]


def deliver() -> None:
    call_command("deliver_webhooks", "--once", stdout=StringIO())


def test_an_answer_reaches_the_service_signed_and_a_replay_keeps_its_webhook_id(
    settings: Any, person_api: Api, service: Service, pending: Notification, person: Any
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with webhook_receiver() as receiver:
        Service.objects.filter(pk=service.pk).update(callback_url=receiver.url)
        body = {"notification_id": str(pending.pk), "action_id": "rating", "response_data": 8}
        assert person_api.post("/api/v1/client/respond", body).status_code == 200

        deliver()

        event = WebhookEvent.objects.get()
        assert len(receiver.received) == 1
        first = receiver.received[0]
        verified = Webhook(service.webhook_secret).verify(first.body, first.headers)
        assert verified == json.loads(first.body) == event.payload
        assert verified["type"] == "notification.responded"
        assert verified["response_data"] == 8
        assert verified["responder"] == {"id": person.pk, "username": person.username}
        assert first.headers["webhook-id"] == event.pk
        event.refresh_from_db()
        assert event.status == "delivered"

        call_command("replay_notifications", "--id", str(pending.pk), stdout=StringIO())
        deliver()

        assert len(receiver.received) == 2
        second = receiver.received[1]
        assert second.headers["webhook-id"] == event.pk
        assert json.loads(second.body) == event.payload


def test_an_expiry_reaches_the_service(settings: Any, service: Service) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    late = NotificationFactory(service=service, deadline=timezone.now() - timedelta(minutes=1))
    with webhook_receiver() as receiver:
        Service.objects.filter(pk=service.pk).update(callback_url=receiver.url)
        call_command("expire_notifications", stdout=StringIO())
        deliver()

    assert len(receiver.received) == 1
    payload = Webhook(service.webhook_secret).verify(receiver.received[0].body, receiver.received[0].headers)
    assert payload["type"] == "notification.expired"
    assert payload["notification_id"] == str(late.pk)
    assert payload["metadata"] == {"ticket": "T-1"}
