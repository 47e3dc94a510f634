"""GET/PATCH /v1/bots/{botId} and GET .../conversations/{conversationId}/messages (contract 2)."""

import re
import uuid

import pytest

from config.accounts.models import Service
from conversations.models import Bot
from tests.factories import BotFactory, ConversationFactory, MessageFactory
from tests.helpers import Api, assert_error

pytestmark = pytest.mark.django_db

RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


@pytest.fixture
def bot(service: Service) -> Bot:
    return BotFactory(service=service, name="Acme website", allowed_targets=["https://acme.example"])


def test_a_bot_reads_with_its_allowlist(service_api: Api, bot: Bot) -> None:
    response = service_api.get(f"/v1/bots/{bot.id}")
    assert response.status_code == 200
    assert response.json() == {
        "botId": str(bot.id),
        "name": "Acme website",
        "allowedTargets": ["https://acme.example"],
    }


def test_patch_replaces_the_allowlist(service_api: Api, bot: Bot) -> None:
    patterns = ["https://acme.example/contact", "https://*.acme.example", "https://acme.example/contact"]
    response = service_api.patch(f"/v1/bots/{bot.id}", {"allowedTargets": patterns, "name": "ignored"})
    assert response.status_code == 200
    expected = ["https://acme.example/contact", "https://*.acme.example"]
    assert response.json() == {"botId": str(bot.id), "name": "Acme website", "allowedTargets": expected}
    bot.refresh_from_db()
    assert bot.allowed_targets == expected
    assert service_api.patch(f"/v1/bots/{bot.id}", {"allowedTargets": []}).json()["allowedTargets"] == []


@pytest.mark.parametrize(
    "pattern",
    ["acme.example", "ftp://acme.example", "https://*.com", "https://u@acme.example", "https://a.*.b.c"],
)
def test_an_invalid_pattern_is_refused_and_quoted(service_api: Api, bot: Bot, pattern: str) -> None:
    response = service_api.patch(f"/v1/bots/{bot.id}", {"allowedTargets": ["https://ok.example", pattern]})
    error = assert_error(response, 400, "INVALID_REQUEST")
    assert pattern in error["message"]
    bot.refresh_from_db()
    assert bot.allowed_targets == ["https://acme.example"]


@pytest.mark.parametrize(
    "body", [{}, {"allowedTargets": "https://a.example"}, {"allowedTargets": [1]}, {"x": []}]
)
def test_a_malformed_patch_is_invalid(service_api: Api, bot: Bot, body: dict[str, object]) -> None:
    assert_error(service_api.patch(f"/v1/bots/{bot.id}", body), 400, "INVALID_REQUEST")


def test_a_patch_body_that_is_not_an_object_is_invalid(service_api: Api, bot: Bot) -> None:
    assert_error(service_api.patch(f"/v1/bots/{bot.id}", raw=b"[]"), 400, "INVALID_REQUEST")


def test_another_services_bot_is_not_found_like_an_unknown_one(service_api: Api) -> None:
    foreign = BotFactory(allowed_targets=["https://theirs.example"])
    for bot_id in [foreign.id, uuid.uuid4(), "not-a-uuid"]:
        assert_error(service_api.get(f"/v1/bots/{bot_id}"), 404, "NOT_FOUND")
        assert_error(service_api.patch(f"/v1/bots/{bot_id}", {"allowedTargets": []}), 404, "NOT_FOUND")
    foreign.refresh_from_db()
    assert foreign.allowed_targets == ["https://theirs.example"]


def test_bots_need_a_service_key(api: Api, person_api: Api, bot: Bot) -> None:
    assert_error(api.get(f"/v1/bots/{bot.id}"), 401, "UNAUTHENTICATED")
    assert_error(person_api.get(f"/v1/bots/{bot.id}"), 401, "UNAUTHENTICATED")


def test_a_wrong_method_on_a_bot_is_405(service_api: Api, bot: Bot) -> None:
    assert_error(service_api.post(f"/v1/bots/{bot.id}", {}), 405, "METHOD_NOT_ALLOWED")


# Messages


def test_messages_come_oldest_first(service_api: Api, bot: Bot) -> None:
    conversation = ConversationFactory(bot=bot)
    first = MessageFactory(conversation=conversation, role="user", content="Hello")
    second = MessageFactory(conversation=conversation, role="assistant", content="Hi!")
    MessageFactory(conversation=ConversationFactory(bot=bot), role="user", content="Elsewhere")
    response = service_api.get(f"/v1/bots/{bot.id}/conversations/{conversation.id}/messages")
    assert response.status_code == 200
    messages = response.json()["messages"]
    assert [(m["id"], m["role"], m["content"]) for m in messages] == [
        (str(first.id), "user", "Hello"),
        (str(second.id), "assistant", "Hi!"),
    ]
    assert list(messages[0]) == ["id", "role", "content", "createdAt"]
    assert all(RFC3339_UTC.fullmatch(m["createdAt"]) for m in messages)


def test_an_empty_conversation_has_no_messages(service_api: Api, bot: Bot) -> None:
    conversation = ConversationFactory(bot=bot)
    response = service_api.get(f"/v1/bots/{bot.id}/conversations/{conversation.id}/messages")
    assert response.json() == {"messages": []}


def test_another_services_or_bots_conversation_is_not_found(
    service_api: Api, bot: Bot, service: Service
) -> None:
    foreign = ConversationFactory()
    sibling = ConversationFactory(bot=BotFactory(service=service))
    for path in [
        f"/v1/bots/{foreign.bot_id}/conversations/{foreign.id}/messages",
        f"/v1/bots/{bot.id}/conversations/{foreign.id}/messages",
        f"/v1/bots/{bot.id}/conversations/{sibling.id}/messages",
        f"/v1/bots/{bot.id}/conversations/{uuid.uuid4()}/messages",
        f"/v1/bots/{bot.id}/conversations/nope/messages",
        f"/v1/bots/nope/conversations/{sibling.id}/messages",
    ]:
        assert_error(service_api.get(path), 404, "NOT_FOUND")
