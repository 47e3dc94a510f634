"""Bench data written with bulk SQL is data the real endpoints accept (PostgreSQL only)."""

import pytest
from django.db.models import Count

from actions.models import ActionExecution, ContactSubmission
from bench import load, probes, seeding
from conversations.allowlist import target_allowed
from conversations.models import Bot, Message
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
