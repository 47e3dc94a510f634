"""`update_then_insert`, `insert` and `Prepared`: the conditional write, the insert and the compiled
lookups of the hot paths, on every database we ship."""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from config.db import Param, Prepared, insert, update_then_insert
from config.outbound.models import WebhookEvent
from conversations.models import Bot
from tests.factories import BotFactory, ServiceFactory

PAYLOAD = {"type": "t", "text": "Grüße, 東京 \"quoted\" 'single' %s %(x)s", "n": [1, 2.5, None, True]}


BOT_NAMED = Prepared(lambda: Bot.objects.filter(pk=Param("pk"), name=Param("name")))


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
        rows=BOT_NAMED, where={"pk": bot.pk, "name": "before"}, changes={"name": "after"}, new=event
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
        rows=BOT_NAMED, where={"pk": bot.pk, "name": "free"}, changes={"name": "mine"}, new=event
    )

    assert won is False
    bot.refresh_from_db()
    assert bot.name == "taken"
    assert not WebhookEvent.objects.filter(pk=event.pk).exists()
    assert event._state.adding is True


@pytest.mark.django_db
def test_an_update_writes_an_instance_as_its_key_and_json_as_json_whatever_fields_it_sets() -> None:
    bot, elsewhere = BotFactory(name="before"), ServiceFactory()
    updated_at = Bot.objects.get(pk=bot.pk).updated_at
    targets = ["https://example.com/*", {"odd": [1, None, "%s"]}]

    moved = update_then_insert(
        rows=BOT_NAMED,
        where={"pk": bot.pk, "name": "before"},
        changes={"service": elsewhere, "allowed_targets": targets},
        new=new_event(),
    )
    renamed = update_then_insert(
        rows=BOT_NAMED, where={"pk": bot.pk, "name": "before"}, changes={"name": "after"}, new=new_event()
    )

    assert moved and renamed
    stored = Bot.objects.get(pk=bot.pk)
    assert (stored.service_id, stored.allowed_targets, stored.name) == (elsewhere.pk, targets, "after")
    assert stored.updated_at == updated_at  # as QuerySet.update: auto_now is not applied
    assert WebhookEvent.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_insert_that_fails_leaves_the_update_undone() -> None:
    bot = BotFactory(name="before")
    existing = new_event()
    existing.save()

    with pytest.raises(IntegrityError):
        update_then_insert(
            rows=BOT_NAMED,
            where={"pk": bot.pk, "name": "before"},
            changes={"name": "after"},
            new=new_event(id=existing.pk),
        )

    bot.refresh_from_db()
    assert bot.name == "before"
    assert WebhookEvent.objects.count() == 1


def bots_by_service_and_name() -> QuerySet[Bot]:
    return Bot.objects.select_related("service").filter(service_id=Param("service"), name=Param("name"))


@pytest.mark.django_db
def test_a_prepared_lookup_makes_the_instance_and_its_related_one_as_the_orm_does() -> None:
    bot = BotFactory(name="reception", allowed_targets=["https://example.com/*", {"odd": [1, None]}])
    BotFactory(name="reception")  # the same name under another service

    found = Prepared(bots_by_service_and_name).one(service=bot.service_id, name="reception")

    assert found is not None
    orm = Bot.objects.select_related("service").get(pk=bot.pk)
    field_names = [field.attname for field in Bot._meta.concrete_fields]
    assert {name: getattr(found, name) for name in field_names} == {
        name: getattr(orm, name) for name in field_names
    }
    assert found.allowed_targets == ["https://example.com/*", {"odd": [1, None]}]
    assert found.created_at.tzinfo is not None
    assert found._state.adding is False and found._state.db == "default"
    # The related row came with it, its encrypted secret decrypted by the field's converter.
    with CaptureQueriesContext(connection) as captured:
        assert found.service.webhook_secret == bot.service.webhook_secret
        assert found.service.name == bot.service.name
    assert len(captured) == 0


@pytest.mark.django_db
def test_a_prepared_lookup_is_built_once_and_runs_as_one_query_per_call() -> None:
    first, second = BotFactory(name="first"), BotFactory(name="second")
    builds: list[int] = []

    def build() -> QuerySet[Bot]:
        builds.append(1)
        return bots_by_service_and_name()

    lookup = Prepared(build)
    with CaptureQueriesContext(connection) as captured:
        found = [lookup.one(service=bot.service_id, name=bot.name) for bot in (first, second, first)]

    assert [bot.pk for bot in found if bot is not None] == [first.pk, second.pk, first.pk]
    assert len(builds) == 1
    assert len(captured) == 3


@pytest.mark.django_db
def test_a_prepared_lookup_finds_nothing_for_values_of_no_row_and_keeps_its_fixed_conditions() -> None:
    bot = BotFactory(name="kept")
    named = Prepared(lambda: Bot.objects.filter(pk=Param("pk"), name="kept"))
    renamed = BotFactory(name="other")

    assert named.one(pk=bot.pk) is not None
    assert named.one(pk=str(bot.pk)) is not None  # prepared by the field: a UUID's text does too
    assert named.one(pk=renamed.pk) is None
    assert named.one(pk=uuid.uuid4()) is None


@pytest.mark.django_db
def test_a_prepared_lookup_refuses_values_that_find_more_than_one_row() -> None:
    first = BotFactory(name="twin")
    BotFactory(name="twin", service=first.service)

    with pytest.raises(Bot.MultipleObjectsReturned):
        Prepared(bots_by_service_and_name).one(service=first.service_id, name="twin")


@pytest.mark.django_db
def test_insert_saves_a_new_row_with_every_value_as_a_save_would() -> None:
    event = new_event()

    with CaptureQueriesContext(connection) as captured:
        insert(event)

    assert len([query for query in captured.captured_queries if "INSERT" in query["sql"]]) == 1
    stored = WebhookEvent.objects.get(pk=event.pk)
    assert stored.payload == PAYLOAD
    assert (stored.subject_id, stored.next_attempt_at, stored.service_id) == (
        event.subject_id,
        event.next_attempt_at,
        event.service.pk,
    )
    assert stored.created_at is not None and stored.created_at == event.created_at  # auto_now_add
    assert event._state.adding is False


@pytest.mark.django_db(transaction=True)
def test_insert_of_a_row_that_exists_is_refused_by_the_database() -> None:
    existing = new_event()
    insert(existing)

    with pytest.raises(IntegrityError):
        insert(new_event(id=existing.pk))

    assert WebhookEvent.objects.count() == 1
