"""DELETE /v1/bots/{botId}/visitors/{visitorId} and erase_visitor (contract 8)."""

import json
import threading
import time
from io import StringIO
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.http import HttpResponse

from actions.models import ActionExecution, ErasureSource, VisitorErasure
from actions.services.erasure import visitor_digest, visitor_digests, visitor_erase
from conversations.models import Bot, Conversation, Message
from tests.actions.execution_factories import ExecutionFactory, post_result
from tests.concurrency import in_threads
from tests.factories import BotFactory, ConversationFactory, MessageFactory
from tests.helpers import Api, assert_error, service_key_for

pytestmark = pytest.mark.django_db


def erase_path(bot: Bot | str, visitor_id: str) -> str:
    bot_id = bot.pk if isinstance(bot, Bot) else bot
    return f"/v1/bots/{bot_id}/visitors/{quote(visitor_id, safe='')}"


def erase(api: Api, bot: Bot | str, visitor_id: str) -> HttpResponse:
    return api.send("DELETE", erase_path(bot, visitor_id))


def visitor_with_history(bot: Bot, visitor_id: str, *, executions: int = 2) -> list[ActionExecution]:
    """Two conversations: one with executions (one answered, so it has a message), one chat only."""
    conversation = ConversationFactory(bot=bot, visitor_id=visitor_id)
    made = [
        ExecutionFactory(bot=bot, visitor_id=visitor_id, conversation=conversation) for _ in range(executions)
    ]
    MessageFactory(conversation=conversation, content=f"hi, I am {visitor_id}")
    chat = ConversationFactory(bot=bot, visitor_id=visitor_id)
    MessageFactory(conversation=chat, content="a second chat")
    MessageFactory(conversation=chat, role="assistant", content="hello again")
    return made


@pytest.fixture
def bot(service: Any) -> Bot:
    return BotFactory(service=service)


# 200


def test_erasure_deletes_the_visitors_executions_conversations_and_messages(
    service_api: Api, bot: Bot
) -> None:
    executions = visitor_with_history(bot, "visitor-7")
    response = erase(service_api, bot, "visitor-7")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "visitorId": "visitor-7",
        "erased": {"executions": 2, "conversations": 2, "messages": 3},
    }
    assert not ActionExecution.objects.filter(pk__in=[e.pk for e in executions]).exists()
    assert not Conversation.objects.filter(visitor_id="visitor-7").exists()
    assert not Message.objects.exists()


def test_a_second_erasure_answers_zeros(service_api: Api, bot: Bot) -> None:
    visitor_with_history(bot, "visitor-7")
    assert erase(service_api, bot, "visitor-7").status_code == 200
    again = erase(service_api, bot, "visitor-7")
    assert again.status_code == 200
    assert again.json() == {
        "visitorId": "visitor-7",
        "erased": {"executions": 0, "conversations": 0, "messages": 0},
    }


def test_a_visitor_never_seen_answers_zeros(service_api: Api, bot: Bot) -> None:
    response = erase(service_api, bot, "nobody")
    assert response.status_code == 200
    assert response.json()["erased"] == {"executions": 0, "conversations": 0, "messages": 0}


def test_only_that_visitor_of_that_bot_is_erased(service_api: Api, service: Any, bot: Bot) -> None:
    visitor_with_history(bot, "visitor-7")
    neighbour = visitor_with_history(bot, "visitor-8")
    same_id_other_bot = visitor_with_history(BotFactory(service=service), "visitor-7")
    same_id_other_service = visitor_with_history(BotFactory(), "visitor-7")
    assert erase(service_api, bot, "visitor-7").status_code == 200
    kept = neighbour + same_id_other_bot + same_id_other_service
    assert ActionExecution.objects.filter(pk__in=[e.pk for e in kept]).count() == 6
    assert Conversation.objects.count() == 6
    assert Message.objects.count() == 9


def test_erased_executions_answer_404_to_reads_and_result_posts(service_api: Api, bot: Bot) -> None:
    execution = visitor_with_history(bot, "visitor-7")[0]
    conversation_id = execution.conversation_id
    assert erase(service_api, bot, "visitor-7").status_code == 200
    read = service_api.get(f"/v1/bots/{bot.pk}/action-executions/{execution.pk}")
    assert_error(read, 404, "NOT_FOUND")
    assert_error(post_result(service_api, execution), 404, "NOT_FOUND")
    messages = service_api.get(f"/v1/bots/{bot.pk}/conversations/{conversation_id}/messages")
    assert_error(messages, 404, "NOT_FOUND")


@pytest.mark.parametrize("visitor_id", ["a/b/c", "visitor with spaces", "ünïcødé-☃", "x" * 128, "%2F"])
def test_any_visitor_id_of_1_to_128_characters_can_be_erased(
    service_api: Api, bot: Bot, visitor_id: str
) -> None:
    visitor_with_history(bot, visitor_id, executions=1)
    response = erase(service_api, bot, visitor_id)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "visitorId": visitor_id,
        "erased": {"executions": 1, "conversations": 2, "messages": 3},
    }


def test_each_erasure_is_recorded_with_a_digest_and_no_visitor_id(
    service_api: Api, service: Any, bot: Bot
) -> None:
    visitor_with_history(bot, "visitor-7")
    erase(service_api, bot, "visitor-7")
    erase(service_api, bot, "visitor-7")
    first, second = VisitorErasure.objects.order_by("pk")
    assert (first.bot, first.source, first.service, first.staff_user) == (
        bot,
        ErasureSource.SERVICE,
        service,
        None,
    )
    assert (first.executions, first.conversations, first.messages) == (2, 2, 3)
    assert (second.executions, second.conversations, second.messages) == (0, 0, 0)
    assert first.visitor_digest == second.visitor_digest == visitor_digest("visitor-7")
    assert len(first.visitor_digest) == 64 and "visitor-7" not in first.visitor_digest


def test_the_digest_is_keyed(settings: Any) -> None:
    derived = visitor_digest("visitor-7")
    settings.SECRET_KEY = "another secret key, long enough to be one"
    assert visitor_digest("visitor-7") != derived
    settings.SECRET_KEY_FALLBACKS = ["django-insecure-local-development-only"]
    settings.ERASURE_DIGEST_KEY = ""
    assert visitor_digests("visitor-7")[1:] == [
        visitor_digest("visitor-7", secret="django-insecure-local-development-only")
    ]
    settings.ERASURE_DIGEST_KEY = "a key of the operator's"
    assert visitor_digest("visitor-7") not in (derived, visitor_digests("visitor-8")[0])
    assert visitor_digests("visitor-7") == [visitor_digest("visitor-7")]


# Errors, in the order they are checked


def test_no_key_is_401(api: Api, bot: Bot) -> None:
    visitor_with_history(bot, "visitor-7")
    assert_error(erase(api, bot, "visitor-7"), 401, "UNAUTHENTICATED")
    assert_error(erase(api.as_("sk_not-a-key"), bot, "visitor-7"), 401, "UNAUTHENTICATED")
    assert Message.objects.count() == 3


def test_another_services_bot_is_404(service_api: Api) -> None:
    foreign = BotFactory()
    visitor_with_history(foreign, "visitor-7")
    assert_error(erase(service_api, foreign, "visitor-7"), 404, "NOT_FOUND")
    assert ActionExecution.objects.count() == 2
    assert not VisitorErasure.objects.exists()


@pytest.mark.parametrize("bot_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_or_malformed_bot_is_404(service_api: Api, bot_id: str) -> None:
    assert_error(erase(service_api, bot_id, "visitor-7"), 404, "NOT_FOUND")


@pytest.mark.parametrize("visitor_id", ["x" * 129, "nul\x00inside"])
def test_a_visitor_id_no_visitor_can_have_is_400(service_api: Api, bot: Bot, visitor_id: str) -> None:
    assert_error(erase(service_api, bot, visitor_id), 400, "INVALID_REQUEST")
    assert not VisitorErasure.objects.exists()


def test_the_bot_is_checked_before_the_visitor_id(service_api: Api) -> None:
    assert_error(erase(service_api, BotFactory(), "x" * 129), 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH"])
def test_other_methods_are_405(service_api: Api, bot: Bot, method: str) -> None:
    path = erase_path(bot, "visitor-7")
    response = service_api.get(path) if method == "GET" else service_api.send(method, path, {})
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


def test_the_route_is_in_the_schema(api: Api) -> None:
    schema = api.get("/api/schema/", headers={"Accept": "application/json"}, format="json").json()
    operation = schema["paths"]["/v1/bots/{bot_id}/visitors/{visitor_id}"]["delete"]
    example = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert any(item["value"]["erased"]["executions"] == 3 for item in example.values())


# The command


def run(*args: str) -> str:
    out = StringIO()
    call_command("erase_visitor", *args, stdout=out)
    return out.getvalue().strip()


def test_the_command_erases_and_prints_the_counts(bot: Bot) -> None:
    visitor_with_history(bot, "visitor-7")
    assert run("visitor-7", "--bot", str(bot.pk), "--dry-run") == (
        "2 executions, 2 conversations and 3 messages would be erased"
    )
    assert Message.objects.count() == 3 and not VisitorErasure.objects.exists()
    assert json.loads(run("visitor-7", "--bot", str(bot.pk), "--json")) == {
        "erased": {"executions": 2, "conversations": 2, "messages": 3},
        "dry_run": False,
    }
    assert run("visitor-7", "--bot", str(bot.pk)) == "0 executions, 0 conversations and 0 messages erased"
    record = VisitorErasure.objects.order_by("pk").first()
    assert record is not None and (record.source, record.service, record.staff_user) == (
        ErasureSource.OPERATOR,
        None,
        None,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("visitor-7", "--bot", "not-a-uuid"),
        ("visitor-7", "--bot", "00000000-0000-0000-0000-000000000000"),
        ("x" * 129, "--bot", "{bot}"),
        ("", "--bot", "{bot}"),
    ],
)
def test_the_command_refuses_bad_arguments(bot: Bot, args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        run(*(arg.format(bot=bot.pk) for arg in args))
    assert not VisitorErasure.objects.exists()


# Exactly once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_erasures_of_one_visitor_erase_everything_once(client: Any) -> None:
    bot = BotFactory()
    visitor_with_history(bot, "visitor-7", executions=5)
    key = service_key_for(bot.service)

    def call() -> HttpResponse:
        return erase(Api(type(client)(), key), bot, "visitor-7")

    responses = in_threads([call] * 4)
    assert [response.status_code for response in responses] == [200] * 4
    totals = {
        kind: sum(response.json()["erased"][kind] for response in responses)
        for kind in ("executions", "conversations", "messages")
    }
    assert totals == {"executions": 5, "conversations": 2, "messages": 3}
    assert not ActionExecution.objects.exists() and not Conversation.objects.exists()
    assert VisitorErasure.objects.count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_erasure_racing_result_posts_leaves_nothing_behind(client: Any) -> None:
    bot = BotFactory()
    executions = visitor_with_history(bot, "visitor-7", executions=4)
    key = service_key_for(bot.service)
    calls = [lambda: erase(Api(type(client)(), key), bot, "visitor-7")] + [
        (lambda execution=execution: post_result(Api(type(client)()), execution)) for execution in executions
    ]
    responses = in_threads(calls)
    assert responses[0].status_code == 200
    # Each post either finished before the erasure (and its message went with the rest) or
    # found its execution gone.
    assert all(response.status_code in (200, 404) for response in responses[1:]), [
        (response.status_code, response.content) for response in responses[1:]
    ]
    assert not ActionExecution.objects.exists()
    assert not Conversation.objects.exists() and not Message.objects.exists()


def waiting_on_a_lock(thread: threading.Thread) -> bool:
    """Whether some connection of this database waits on a lock, polled while `thread` runs."""
    for _ in range(3000):
        if not thread.is_alive():
            return False
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.01)
    return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_proposal_reusing_a_conversation_erased_before_its_commit_is_404(client: Any) -> None:
    """The proposal finds the conversation (the erasure has not committed), inserts its execution,
    and its commit's foreign-key check waits for the erasure, which then commits: the check fails,
    and the proposal answers the 404 of an unknown conversation, never a 500."""
    bot = BotFactory()
    [execution] = visitor_with_history(bot, "visitor-7", executions=1)
    key = service_key_for(bot.service)
    erased, release = threading.Event(), threading.Event()
    answers: dict[str, Any] = {}

    def erasure() -> None:
        try:
            with transaction.atomic():
                visitor_erase(bot=bot, visitor_id="visitor-7", source=ErasureSource.OPERATOR)
                erased.set()
                release.wait()
        finally:
            connection.close()

    def proposal() -> None:
        try:
            answers["proposal"] = Api(type(client)(), key).post(
                f"/v1/bots/{bot.pk}/action-executions",
                {
                    "visitorId": "visitor-7",
                    "kind": "contact_form",
                    "label": "Send the contact form",
                    "targetUrl": "https://example.com/contact",
                    "conversationId": str(execution.conversation_id),
                },
            )
        except Exception as exc:  # the test reads it, a thread cannot raise into it
            answers["proposal"] = exc
        finally:
            connection.close()

    eraser, proposer = threading.Thread(target=erasure), threading.Thread(target=proposal)
    eraser.start()
    erased.wait()
    proposer.start()
    blocked = waiting_on_a_lock(proposer)
    release.set()
    eraser.join()
    proposer.join()

    assert blocked, "the proposal's commit never waited for the erasure"
    assert_error(answers["proposal"], 404, "NOT_FOUND")
    assert not ActionExecution.objects.exists() and not Conversation.objects.exists()
    assert VisitorErasure.objects.get().executions == 1
