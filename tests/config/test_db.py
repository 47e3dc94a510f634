"""`update_then_insert`: the conditional write of the hot paths, on every database we ship."""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError

from config.db import update_then_insert
from config.outbound.models import WebhookEvent
from conversations.models import Bot
from tests.factories import BotFactory, ServiceFactory

PAYLOAD = {"type": "t", "text": "Grüße, 東京 \"quoted\" 'single' %s %(x)s", "n": [1, 2.5, None, True]}


def new_event(**overrides: object) -> WebhookEvent:
    fields: dict[str, object] = {
        "service": ServiceFactory(),
        "event_type": "test.happened",
        "subject_id": uuid.uuid4(),
        "payload": PAYLOAD,
        "next_attempt_at": datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC),
    }
    fields.update(overrides)
    return WebhookEvent(**fields)


@pytest.mark.django_db
def test_a_matching_update_inserts_the_row_with_every_value_as_given() -> None:
    bot = BotFactory(name="before")
    event = new_event()

    won = update_then_insert(
        rows=Bot.objects.filter(pk=bot.pk, name="before"), changes={"name": "after"}, new=event
    )

    assert won is True
    bot.refresh_from_db()
    assert bot.name == "after"
    stored = WebhookEvent.objects.get(pk=event.pk)
    assert stored.payload == PAYLOAD
    assert stored.subject_id == event.subject_id
    assert stored.next_attempt_at == event.next_attempt_at
    assert stored.service_id == event.service.pk
    assert stored.status == WebhookEvent.Status.PENDING
    assert stored.created_at is not None and stored.created_at == event.created_at  # auto_now_add
    assert event._state.adding is False


@pytest.mark.django_db
def test_an_update_that_matches_nothing_inserts_nothing() -> None:
    bot = BotFactory(name="taken")
    event = new_event()

    won = update_then_insert(
        rows=Bot.objects.filter(pk=bot.pk, name="free"), changes={"name": "mine"}, new=event
    )

    assert won is False
    bot.refresh_from_db()
    assert bot.name == "taken"
    assert not WebhookEvent.objects.filter(pk=event.pk).exists()
    assert event._state.adding is True


@pytest.mark.django_db(transaction=True)
def test_an_insert_that_fails_leaves_the_update_undone() -> None:
    bot = BotFactory(name="before")
    existing = new_event()
    existing.save()

    with pytest.raises(IntegrityError):
        update_then_insert(
            rows=Bot.objects.filter(pk=bot.pk), changes={"name": "after"}, new=new_event(id=existing.pk)
        )

    bot.refresh_from_db()
    assert bot.name == "before"
    assert WebhookEvent.objects.count() == 1
