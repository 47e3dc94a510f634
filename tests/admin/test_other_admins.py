"""Bots (allowlist validated on save), conversations with messages, actions with versions and
trigger history, the outbox with attempts and replay."""

import re
import uuid

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, ActionTrigger
from config.outbound.models import WebhookEvent
from conversations.models import Bot
from tests.actions.trigger_factories import ActionTriggerFactory
from tests.admin.factories import World, complete, staff_user
from tests.factories import EmailAttemptFactory, OutboundEmailFactory

pytestmark = pytest.mark.django_db


def bot_form(bot: Bot, allowlist: str) -> dict[str, str]:
    return {"service": str(bot.service_id), "name": bot.name, "allowed_targets": allowlist, "_save": "Save"}


def test_bot_allowlist_is_edited_one_pattern_per_line(admin_client: Client, world: World) -> None:
    change_url = f"/admin/conversations/bot/{world.bot.pk}/change/"
    assert "https://example.com</textarea>" in admin_client.get(change_url).content.decode()

    response = admin_client.post(
        change_url,
        bot_form(
            world.bot,
            "https://example.com/contact\r\n\r\n  https://*.example.org  \r\nhttps://example.com/contact",
        ),
    )

    assert response.status_code == 302
    world.bot.refresh_from_db()
    assert world.bot.allowed_targets == ["https://example.com/contact", "https://*.example.org"]


@pytest.mark.parametrize(
    "pattern", ["ftp://example.com", "https://user@example.com", "https://ex*mple.com", "example.com"]
)
def test_an_invalid_allowlist_pattern_is_refused_and_quoted(
    admin_client: Client, world: World, pattern: str
) -> None:
    response = admin_client.post(
        f"/admin/conversations/bot/{world.bot.pk}/change/",
        bot_form(world.bot, f"https://example.com\n{pattern}"),
    )

    assert response.status_code == 200
    assert "invalid allowlist pattern" in response.content.decode()
    assert pattern in response.content.decode()
    world.bot.refresh_from_db()
    assert world.bot.allowed_targets == ["https://example.com"]


def test_a_bot_added_in_the_admin_has_a_validated_allowlist(admin_client: Client, world: World) -> None:
    response = admin_client.post(
        "/admin/conversations/bot/add/",
        {"service": str(world.service.pk), "name": "new-bot", "allowed_targets": "https://Example.COM/a/"},
    )

    assert response.status_code == 302
    assert Bot.objects.get(name="new-bot").allowed_targets == ["https://Example.COM/a/"]


def test_conversation_page_shows_its_messages(admin_client: Client, world: World) -> None:
    html = admin_client.get(f"/admin/conversations/conversation/{world.completed.conversation_id}/change/")

    assert "Send the contact form — done." in html.content.decode()
    listing = admin_client.get("/admin/conversations/conversation/?q=visitor-done").content.decode()
    assert str(world.completed.conversation_id) in listing


def test_action_page_shows_versions_and_trigger_history(admin_client: Client, world: World) -> None:
    action = Action.objects.get(action_id="approve-refund")

    html = admin_client.get(f"/admin/actions/action/{action.pk}/change/").content.decode()

    assert "https://hooks.example.com/refund-v2" in html and "https://hooks.example.com/refund<" in html
    assert "execution_timeout" in html
    history_url = f"/admin/actions/actiontrigger/?action__id__exact={action.pk}"
    assert history_url in html
    history = admin_client.get(history_url).content.decode()
    trigger = ActionTrigger.objects.get(action=action)
    assert f"/admin/actions/actiontrigger/{trigger.pk}/change/" in history


def test_action_page_lists_only_the_latest_triggers(admin_client: Client, world: World) -> None:
    action = Action.objects.get(action_id="approve-refund")
    ActionTriggerFactory.create_batch(30, action=action)

    html = admin_client.get(f"/admin/actions/action/{action.pk}/change/").content.decode()

    assert len(re.findall(r'/admin/actions/actiontrigger/[0-9a-f-]{36}/change/"', html)) == 20


def test_outbox_event_page_shows_attempts_and_replay_requeues_it(admin_client: Client, world: World) -> None:
    event = WebhookEvent.objects.get(event_type="notification.responded")
    WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEvent.Status.FAILED, attempt_count=8)
    change_url = reverse("admin:outbound_webhookevent_change", args=[quote(event.pk)])

    html = admin_client.get(change_url).content.decode()
    assert "oops" in html and ">500<" in html

    response = admin_client.post(change_url, {"CHANGE_FORM-action": "replay", "_selected_action": event.pk})

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PENDING
    assert event.next_attempt_at <= timezone.now()
    assert WebhookEvent.objects.filter(subject_id=event.subject_id).count() == 1  # same webhook-id


def test_outbox_search_and_replay_need_their_permission(client: Client, world: World) -> None:
    event = WebhookEvent.objects.get(event_type="notification.responded")
    WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEvent.Status.FAILED)
    client.force_login(staff_user(username="viewer", permissions=("outbound.view_webhookevent",)))

    listing = client.get(f"/admin/outbound/webhookevent/?q={event.subject_id}").content.decode()
    assert event.pk in listing and "replay" not in listing
    client.post(
        "/admin/outbound/webhookevent/", {"action": "replay", "_selected_action": [event.pk], "index": 0}
    )

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.FAILED


def test_completed_rows_keep_their_metadata_visible(admin_client: Client, world: World) -> None:
    done = complete(
        world.pending,
        result="failure",
        deliveryStatus="failed",
        deliveryMethod="deep_link",
        networkStatus=503,
    )

    html = admin_client.get(f"/admin/actions/contactsubmission/{done.pk}/change/").content.decode()

    assert "Deep Link" in html and ">503<" in html and "failure" in html


def test_the_email_outbox_shows_each_email_with_every_try(admin_client: Client) -> None:
    about = uuid.uuid4()
    email = OutboundEmailFactory(subject="Approve the refund?", about_id=about, attempt_count=2)
    EmailAttemptFactory(email=email, smtp_code=451, error="SMTPDataError: 451 4.3.0 Try again later")
    EmailAttemptFactory(email=email, smtp_code=250, error="")
    OutboundEmailFactory(subject="Someone else's", status="failed")

    listing = admin_client.get("/admin/outbound/outboundemail/").content.decode()
    assert "Approve the refund?" in listing and "Someone else" in listing
    found = admin_client.get(f"/admin/outbound/outboundemail/?q={about}").content.decode()
    assert "Approve the refund?" in found and "Someone else" not in found
    assert admin_client.get("/admin/outbound/outboundemail/?q=not-a-uuid").status_code == 200
    failed = admin_client.get("/admin/outbound/outboundemail/?status=failed").content.decode()
    assert "Someone else" in failed and "Approve the refund?" not in failed
    page = admin_client.get(f"/admin/outbound/outboundemail/{email.pk}/change/").content.decode()
    assert "451 4.3.0 Try again later" in page
    assert page.count('<td class="field-smtp_code">') == 2
    assert "A question waits for you." in page
