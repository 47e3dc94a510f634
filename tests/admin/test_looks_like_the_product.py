"""The admin reads as the product's (issue 18): rows named in words, one timestamp format in UTC,
definitions as tables, no "next attempt" once delivered, "None yet." for an empty inline."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from actions.models import Action
from config.outbound.models import WebhookEvent
from notifications.services import notification_create
from tests.admin.factories import World, add_long_rows
from tests.factories import ConversationFactory, MessageFactory, UserFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/admin/notifications/notification/"
EVENTS = "/admin/outbound/webhookevent/"
UTC_STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC")
# Django's own formats ("Dec. 2, 2026, 12:31 a.m.") and a date and time without seconds or zone.
OTHER_FORMATS = re.compile(
    r"(Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)\.? \d{1,2}, \d{4}"
    r"|\d{1,2}:\d{2} [ap]\.m\."
    r"|\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?!:\d{2} UTC)"
)


def every_admin_page() -> list[str]:
    pages = []
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        for pk in model._default_manager.values_list("pk", flat=True):
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(pk)]))
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[quote(pk)]))
    # The pages of our own that show a time: the Contact Submissions summary.
    return [*pages, "/admin/actions/contactsubmission/summary/"]


def test_every_timestamp_on_every_page_is_one_format_in_utc(admin_client: Client, world: World) -> None:
    add_long_rows(world)
    stamped = 0
    for page in every_admin_page():
        html = admin_client.get(page).content.decode()
        assert not OTHER_FORMATS.search(html), (page, OTHER_FORMATS.search(html))
        stamped += bool(UTC_STAMP.search(html))
    assert stamped > 20  # lists, change pages, inlines: the walk did meet timestamps


def test_a_notification_is_named_by_its_title_and_recipients(admin_client: Client, world: World) -> None:
    alex = world.pending.bot.service.notifications.get().recipient  # the world's one answered
    assert str(alex.notifications.get()) == "Approve the refund? → alex"
    several = notification_create(
        service=world.service,
        recipients=[UserFactory(username="dana"), UserFactory(username="sam"), UserFactory(username="kim")],
        title="Refund #123",
        actions=[{"id": "ok", "label": "OK", "response_type": "simple"}],
    )
    assert str(several) == "Refund #123 → dana (+2 more)"

    page = admin_client.get(f"{NOTIFICATIONS}{several.pk}/change/").content.decode()
    assert "<title>Refund #123 → dana (+2 more) |" in page
    assert "dana, sam, kim" in page
    listing = admin_client.get(NOTIFICATIONS).content.decode()
    assert "dana (+2 more)" in listing and f"→ {several.recipient_id}" not in listing


def test_actions_and_options_are_a_table_not_json(admin_client: Client, world: World) -> None:
    notification = notification_create(
        service=world.service,
        recipients=[UserFactory(username="dana")],
        title="Which plan?",
        actions=[
            {
                "id": "plan",
                "label": "Plan",
                "response_type": "choice",
                "options": [{"value": "team", "label": "Team"}, {"value": "starter", "label": "Starter"}],
            }
        ],
    )
    page = admin_client.get(f"{NOTIFICATIONS}{notification.pk}/change/").content.decode()
    actions = page.split("field-actions_block", 1)[1].split("field-metadata_block", 1)[0]
    assert '<th scope="col">response_type</th>' in actions and "<td>choice</td>" in actions
    assert '<th scope="col">value</th><th scope="col">label</th>' in actions and "<td>Starter</td>" in actions
    assert "&quot;" not in actions and "json-block" not in actions
    action = Action.objects.get(action_id="approve-refund")
    versions = admin_client.get(f"/admin/actions/action/{action.pk}/change/").content.decode()
    assert (
        "https://hooks.example.com/refund-v2" in versions and "https://hooks.example.com/refund<" in versions
    )


def test_a_delivered_event_shows_no_next_attempt(admin_client: Client, world: World) -> None:
    far = timezone.now() + timedelta(days=3)
    delivered = WebhookEventFactory(
        service=world.service,
        status=WebhookEvent.Status.DELIVERED,
        delivered_at=timezone.now(),
        next_attempt_at=far,
    )
    pending = WebhookEventFactory(service=world.service, next_attempt_at=far)
    shown = f"{far:%Y-%m-%d %H:%M:%S} UTC"

    page = admin_client.get(f"{EVENTS}{quote(delivered.pk)}/change/").content.decode()
    assert "Next attempt:" in page and shown not in page
    assert shown in admin_client.get(f"{EVENTS}{quote(pending.pk)}/change/").content.decode()
    delivered_list = admin_client.get(EVENTS + "?status=delivered").content.decode()
    pending_list = admin_client.get(EVENTS + "?status=pending").content.decode()
    assert delivered.pk in delivered_list and shown not in delivered_list
    assert shown in pending_list


def test_an_empty_inline_says_none_yet(admin_client: Client, world: World) -> None:
    quiet = ConversationFactory(bot=world.bot)
    talked = MessageFactory(conversation=ConversationFactory(bot=world.bot)).conversation
    event = WebhookEvent.objects.get(event_type="test.event")  # queued, never attempted
    conversations = "/admin/conversations/conversation/"

    assert "None yet." in admin_client.get(f"{conversations}{quiet.pk}/change/").content.decode()
    assert "None yet." in admin_client.get(f"{EVENTS}{quote(event.pk)}/change/").content.decode()
    assert "None yet." not in admin_client.get(f"{conversations}{talked.pk}/change/").content.decode()
