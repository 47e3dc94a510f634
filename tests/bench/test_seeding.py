"""Bench data written with bulk SQL is data the real endpoints accept (PostgreSQL only)."""

import dataclasses

import pytest
from django.db.models import Count

from actions.models import ActionExecution, ContactSubmission
from bench import load, probes, seeding
from conversations.allowlist import target_allowed
from conversations.models import Bot, Message
from notifications.models import Notification, NotificationRecipient
from tests.factories import BotFactory, ServiceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _probe_host(settings) -> None:  # type: ignore[no-untyped-def]
    """The probes call as 127.0.0.1, a host the bench's production settings allow."""
    settings.ALLOWED_HOSTS = [probes.CLIENT_HOST]


@pytest.fixture
def owners() -> seeding.Owners:
    return seeding.seed_owners(callback_url="http://127.0.0.1:9/hooks")


def test_floor_bots_are_fresh_rows_of_the_service() -> None:
    service = ServiceFactory()
    ids = seeding.seed_floor_bots(service=service, count=50, tag="t")
    assert len(set(ids)) == 50
    assert Bot.objects.filter(pk__in=ids, service=service).count() == 50


def test_pending_executions_each_have_their_own_visitor_and_conversation(owners: seeding.Owners) -> None:
    ids = seeding.seed_pending_executions(bot=owners.bot, count=20, tag="t")
    executions = ActionExecution.objects.filter(pk__in=ids).select_related("conversation")
    assert executions.count() == 20
    assert len({execution.visitor_id for execution in executions}) == 20
    assert len({execution.conversation_id for execution in executions}) == 20
    for execution in executions:
        assert execution.result is None and execution.kind == "contact_form"
        assert execution.conversation.visitor_id == execution.visitor_id
        assert target_allowed(target_url=execution.target_url, patterns=owners.bot.allowed_targets)


@pytest.mark.urls("bench.urls")
def test_the_result_endpoint_accepts_the_seeded_executions(owners: seeding.Owners) -> None:
    ids = seeding.seed_pending_executions(bot=owners.bot, count=3, tag="t")
    counted = probes.count_queries(endpoint=load.result_endpoint(), fresh_ids=ids)
    assert [run["status"] for run in counted["runs"]] == [200, 200, 200]
    assert counted["queries"] >= 1
    completed = ActionExecution.objects.get(pk=ids[-1])
    assert completed.result == "success" and completed.delivery_status == "delivered"
    assert completed.params["email"] == "j***@example.com"
    assert Message.objects.filter(conversation=completed.conversation, role="assistant").count() == 1


@pytest.mark.urls("bench.urls")
def test_the_floor_is_one_select_and_one_update_in_a_transaction(owners: seeding.Owners) -> None:
    ids = seeding.seed_floor_bots(service=owners.service, count=3, tag="t")
    counted = probes.count_queries(endpoint=load.floor_endpoint(), fresh_ids=ids)
    assert counted["status"] == 200
    assert counted["queries"] == 2
    assert counted["sql"][1].startswith("SELECT") and counted["sql"][2].startswith("UPDATE")
    assert counted["statements"] == 4  # BEGIN and COMMIT around them


def test_clone_rows_copies_the_template_with_fresh_ids_and_the_overrides() -> None:
    template = BotFactory(name="template", allowed_targets=["https://example.com"])
    ids = seeding.clone_rows(
        model=Bot, template_pk=str(template.pk), count=5, overrides={"name": "'copy-' || g"}
    )
    copies = Bot.objects.filter(pk__in=ids).order_by("name")
    assert [bot.name for bot in copies] == [f"copy-{n}" for n in range(1, 6)]
    assert all(bot.allowed_targets == ["https://example.com"] for bot in copies)
    assert all(bot.service_id == template.service_id for bot in copies)
    with pytest.raises(ValueError, match="no column"):
        seeding.clone_rows(model=Bot, template_pk=str(template.pk), count=1, overrides={"nope": "1"})


def test_contact_submissions_grow_to_the_total_with_a_realistic_mix(owners: seeding.Owners) -> None:
    assert seeding.seed_contact_submissions(service=owners.service, total=300) == 300
    assert seeding.seed_contact_submissions(service=owners.service, total=500) == 200
    assert seeding.seed_contact_submissions(service=owners.service, total=500) == 0
    rows = ContactSubmission.objects.filter(visitor_id__startswith="scale-")
    assert rows.count() == 500
    assert set(rows.values_list("kind", flat=True)) == {"contact_form", "newsletter"}
    assert rows.values("bot").distinct().count() == seeding.SCALE_BOTS
    pending = rows.filter(result__isnull=True)
    assert pending.count() == 50
    assert all(row.params["email"] == "jane.doe@example.com" for row in pending)
    completed = rows.filter(result__isnull=False)
    assert all(row.params["email"] == "j***@example.com" and row.params_masked_at for row in completed)
    by_status = dict(completed.values_list("delivery_status").annotate(n=Count("pk")))
    assert set(by_status) == {"delivered", "deeplink_opened", "optimistic", "failed"}


def test_the_floor_bots_go_and_the_others_stay(owners: seeding.Owners) -> None:
    seeding.seed_floor_bots(service=owners.service, count=30, tag="t")
    assert seeding.delete_floor_bots() == 30
    assert Bot.objects.filter(pk=owners.bot.pk).exists()


def test_clone_notifications_copies_the_recipients_too(owners: seeding.Owners) -> None:
    template = seeding.notification_template(service_key=owners.service_key, username=owners.person.username)
    ids = seeding.clone_notifications(
        template_pk=template, count=4, overrides={"created_at": "now() - g * interval '1 millisecond'"}
    )
    links = NotificationRecipient.objects.filter(notification_id__in=ids)
    assert sorted(str(link.notification_id) for link in links) == sorted(ids)
    assert all(link.user_id == owners.person.pk and link.position == 0 for link in links)
    assert all(link.notification_created_at == link.notification.created_at for link in links)


def test_respond_answers_the_cloned_notifications(owners: seeding.Owners) -> None:
    template = seeding.notification_template(service_key=owners.service_key, username=owners.person.username)
    ids = seeding.clone_notifications(template_pk=template, count=3, overrides={})
    endpoint = load.respond_endpoint(user_token=owners.user_token, action_id="decide", response_data=True)
    counted = probes.count_queries(endpoint=endpoint, fresh_ids=ids)
    assert [run["status"] for run in counted["runs"]] == [200, 200, 200]
    assert Notification.objects.filter(pk__in=ids, status="responded", responder=owners.person).count() == 3


def test_the_inbox_form_answers_the_cloned_notifications_with_a_real_session(owners: seeding.Owners) -> None:
    password = seeding.seed_person(username="answerer")
    session = probes.inbox_login(username="answerer", password=password)
    template = seeding.notification_template(service_key=owners.service_key, username="answerer")
    ids = seeding.clone_notifications(template_pk=template, count=3, overrides={})
    endpoint = load.inbox_answer_endpoint(session=session, action_id="decide", response_data="true")
    counted = probes.count_queries(endpoint=endpoint, fresh_ids=ids)
    assert [run["status"] for run in counted["runs"]] == [303, 303, 303]
    answered = Notification.objects.filter(pk__in=ids, status="responded", response_data=True)
    assert answered.filter(responder__username="answerer").count() == 3


def test_the_inbox_refuses_the_form_without_its_token(owners: seeding.Owners) -> None:
    password = seeding.seed_person(username="answerer")
    session = probes.inbox_login(username="answerer", password=password)
    template = seeding.notification_template(service_key=owners.service_key, username="answerer")
    answer = load.inbox_answer_endpoint(session=session, action_id="decide", response_data="true")
    # Another site's form: the person's cookies go along, the token in the form is not theirs.
    endpoint = dataclasses.replace(answer, body=answer.body.replace(session.csrf_token, "x" * 32))
    assert probes.count_queries(endpoint=endpoint, fresh_ids=[template])["status"] == 403
    assert Notification.objects.get(pk=template).status == "pending"


def test_the_reader_sees_two_pages_half_answered_and_a_pending_page(owners: seeding.Owners) -> None:
    password = seeding.seed_person(username="reader")
    page_id = seeding.seed_reader_inbox(service_key=owners.service_key, username="reader")
    rows = Notification.objects.filter(recipient_links__user__username="reader")
    assert rows.count() == seeding.READER_NOTIFICATIONS
    assert (
        rows.filter(status="responded", responder__username="reader").count()
        == seeding.READER_NOTIFICATIONS // 2
    )
    session = probes.inbox_login(username="reader", password=password)
    for endpoint in (
        load.inbox_list_endpoint(session=session),
        load.inbox_page_endpoint(session=session, notification_id=page_id),
    ):
        counted = probes.count_queries(endpoint=endpoint, fresh_ids=["-"] * 2)
        assert counted["status"] == 200, endpoint.name
    assert Notification.objects.get(pk=page_id).status == "pending"
