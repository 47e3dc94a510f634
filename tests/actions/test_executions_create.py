"""POST /v1/bots/{botId}/action-executions and GET .../{executionId} (contract 2)."""

import re
import uuid
from typing import Any

import pytest

from actions.models import ActionExecution
from config.accounts.models import Service
from conversations.models import Bot, Conversation
from tests.actions.execution_factories import ExecutionFactory, post_result
from tests.factories import BotFactory, ConversationFactory
from tests.helpers import Api, assert_error

pytestmark = pytest.mark.django_db

RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


@pytest.fixture
def bot(service: Service) -> Bot:
    return BotFactory(service=service, allowed_targets=["https://example.com", "https://*.shop.example"])


def nested(depth: int) -> dict[str, Any]:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return {"a": value}


def proposal(**overrides: Any) -> dict[str, Any]:
    body = {
        "visitorId": "visitor-1",
        "kind": "contact_form",
        "label": "Send the contact form",
        "targetUrl": "https://example.com/contact",
        "params": {"name": "Jane Doe", "email": "jane@example.com"},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def create(api: Api, bot: Bot | str, body: Any) -> Any:
    bot_id = bot.id if isinstance(bot, Bot) else bot
    return api.post(f"/v1/bots/{bot_id}/action-executions", body)


def test_a_proposal_answers_the_data_action_proposal_chunk(service_api: Api, bot: Bot) -> None:
    response = create(service_api, bot, proposal())
    assert response.status_code == 201
    chunk = response.json()
    execution = ActionExecution.objects.get()
    conversation = Conversation.objects.get()
    assert chunk == {
        "type": "data-action-proposal",
        "id": str(execution.id),
        "data": {
            "executionId": str(execution.id),
            "conversationId": str(conversation.id),
            "visitorId": "visitor-1",
            "kind": "contact_form",
            "label": "Send the contact form",
            "targetUrl": "https://example.com/contact",
            "params": {"name": "Jane Doe", "email": "jane@example.com"},
        },
    }
    assert (conversation.bot, conversation.visitor_id) == (bot, "visitor-1")
    assert execution.result is None and execution.params_masked_at is None


def test_without_conversation_id_each_proposal_starts_a_conversation(service_api: Api, bot: Bot) -> None:
    first = create(service_api, bot, proposal()).json()["data"]["conversationId"]
    second = create(service_api, bot, proposal(conversationId=None)).json()["data"]["conversationId"]
    assert first != second


def test_a_proposal_in_an_existing_conversation(service_api: Api, bot: Bot) -> None:
    conversation = ConversationFactory(bot=bot, visitor_id="visitor-1")
    response = create(service_api, bot, proposal(conversationId=str(conversation.id)))
    assert response.status_code == 201
    assert response.json()["data"]["conversationId"] == str(conversation.id)
    assert Conversation.objects.count() == 1


@pytest.mark.parametrize("kind", ["contact_form", "newsletter", "booking"])
def test_every_kind_and_params_default_to_an_empty_object(service_api: Api, bot: Bot, kind: str) -> None:
    response = create(service_api, bot, proposal(kind=kind, params=...))
    assert response.status_code == 201
    assert response.json()["data"]["params"] == {}


@pytest.mark.parametrize(
    "target",
    [
        "https://example.com",
        "https://EXAMPLE.com:443/x",
        "https://a.shop.example/book",
        "https://example.com./",
    ],
)
def test_targets_on_the_allowlist_are_accepted(service_api: Api, bot: Bot, target: str) -> None:
    response = create(service_api, bot, proposal(targetUrl=target))
    assert response.status_code == 201
    assert response.json()["data"]["targetUrl"] == target


@pytest.mark.parametrize(
    "overrides",
    [
        {"visitorId": ...},
        {"visitorId": ""},
        {"visitorId": "v" * 129},
        {"visitorId": 12},
        {"visitorId": None},
        {"kind": "survey"},
        {"kind": ...},
        {"label": ""},
        {"label": "l" * 201},
        {"label": ["x"]},
        {"label": ...},
        {"targetUrl": ...},
        {"targetUrl": "/contact"},
        {"targetUrl": "example.com/contact"},
        {"targetUrl": "//example.com/contact"},
        {"targetUrl": "javascript:alert(1)"},
        {"targetUrl": "data:text/html,hello"},
        {"targetUrl": "ftp://example.com/"},
        {"targetUrl": "https://"},
        {"targetUrl": "https://exa mple.com/"},
        {"targetUrl": "https://example.com/" + "x" * 2048},
        {"targetUrl": 42},
        {"params": "name=Jane"},
        {"params": ["Jane"]},
        {"params": nested(40)},
        {"conversationId": "not-a-uuid"},
        {"conversationId": 5},
    ],
)
def test_a_malformed_proposal_is_invalid(service_api: Api, bot: Bot, overrides: dict[str, Any]) -> None:
    assert_error(create(service_api, bot, proposal(**overrides)), 400, "INVALID_REQUEST")
    assert not ActionExecution.objects.exists() and not Conversation.objects.exists()


def test_boundaries_are_accepted(service_api: Api, bot: Bot) -> None:
    response = create(service_api, bot, proposal(visitorId="v" * 128, label="l" * 200, params=nested(30)))
    assert response.status_code == 201
    assert create(service_api, bot, proposal(visitorId="v", label="l")).status_code == 201


@pytest.mark.parametrize(
    "target",
    [
        "https://user@example.com/contact",
        "https://user:secret@example.com/contact",
        "https://example.com@evil.net/contact",
        "https://evil.net/?https://example.com",
        "https://example.com.evil.net/",
        "https://shop.example/",
        "http://example.com/contact",
        "https://example.com:8443/contact",
    ],
)
def test_a_target_with_userinfo_or_off_the_allowlist_is_forbidden(
    service_api: Api, bot: Bot, target: str
) -> None:
    assert_error(create(service_api, bot, proposal(targetUrl=target)), 403, "FORBIDDEN_TARGET")
    assert not ActionExecution.objects.exists() and not Conversation.objects.exists()


def test_an_unknown_foreign_or_malformed_bot_is_not_found(service_api: Api) -> None:
    foreign = BotFactory()
    for bot_id in [str(foreign.id), str(uuid.uuid4()), "not-a-uuid"]:
        assert_error(create(service_api, bot_id, proposal()), 404, "NOT_FOUND")
    assert not ActionExecution.objects.exists()


def test_a_foreign_bot_answers_exactly_like_an_unknown_one(service_api: Api) -> None:
    foreign_id, unknown_id = BotFactory().id, uuid.uuid4()
    foreign = create(service_api, foreign_id, proposal()).json()
    unknown = create(service_api, unknown_id, proposal()).json()
    assert foreign["error"]["message"].replace(str(foreign_id), "ID") == unknown["error"]["message"].replace(
        str(unknown_id), "ID"
    )


def test_a_conversation_of_another_bot_or_unknown_is_not_found(
    service_api: Api, bot: Bot, service: Service
) -> None:
    other_bot_same_service = BotFactory(service=service)
    for conversation_id in [
        ConversationFactory(bot=other_bot_same_service, visitor_id="visitor-1").id,
        ConversationFactory(visitor_id="visitor-1").id,
        uuid.uuid4(),
    ]:
        response = create(service_api, bot, proposal(conversationId=str(conversation_id)))
        assert_error(response, 404, "NOT_FOUND")
    assert not ActionExecution.objects.exists()


def test_a_conversation_of_another_visitor_is_invalid(service_api: Api, bot: Bot) -> None:
    conversation = ConversationFactory(bot=bot, visitor_id="visitor-2")
    response = create(service_api, bot, proposal(conversationId=str(conversation.id)))
    assert_error(response, 400, "INVALID_REQUEST")


def test_creating_needs_a_service_key(api: Api, bot: Bot) -> None:
    assert_error(create(api, bot, proposal()), 401, "UNAUTHENTICATED")
    assert_error(create(api.as_("sk_unknown"), bot, proposal()), 401, "UNAUTHENTICATED")


# GET /v1/bots/{botId}/action-executions/{executionId}


def test_an_execution_reads_back_in_camel_case(service_api: Api, bot: Bot) -> None:
    created = create(service_api, bot, proposal()).json()["data"]
    body = service_api.get(f"/v1/bots/{bot.id}/action-executions/{created['executionId']}").json()
    assert list(body) == [
        "executionId",
        "conversationId",
        "visitorId",
        "kind",
        "label",
        "targetUrl",
        "params",
        "result",
        "error",
        "contactMetadata",
        "createdAt",
        "completedAt",
    ]
    assert {key: body[key] for key in created} == created
    assert (body["result"], body["error"], body["contactMetadata"], body["completedAt"]) == (None,) * 4
    assert RFC3339_UTC.fullmatch(body["createdAt"]), body["createdAt"]


def test_params_come_back_masked_once_masked(api: Api, service_api: Api, bot: Bot) -> None:
    execution_id = create(service_api, bot, proposal()).json()["id"]
    assert post_result(api, execution_id, {"result": "failure", "error": "timeout"}).status_code == 200
    body = service_api.get(f"/v1/bots/{bot.id}/action-executions/{execution_id}").json()
    assert body["params"] == {"name": "J***", "email": "j***@example.com"}
    assert (body["result"], body["error"], body["contactMetadata"]) == ("failure", "timeout", None)
    assert RFC3339_UTC.fullmatch(body["completedAt"]), body["completedAt"]


def test_another_services_execution_is_not_found(service_api: Api, bot: Bot, service: Service) -> None:
    foreign = ExecutionFactory()
    other_bot = BotFactory(service=service)
    mine = ExecutionFactory(bot=bot)
    for path in [
        f"/v1/bots/{foreign.bot_id}/action-executions/{foreign.id}",
        f"/v1/bots/{bot.id}/action-executions/{foreign.id}",
        f"/v1/bots/{other_bot.id}/action-executions/{mine.id}",
        f"/v1/bots/{bot.id}/action-executions/{uuid.uuid4()}",
        f"/v1/bots/{bot.id}/action-executions/not-a-uuid",
        f"/v1/bots/not-a-uuid/action-executions/{mine.id}",
    ]:
        assert_error(service_api.get(path), 404, "NOT_FOUND")
    assert service_api.get(f"/v1/bots/{bot.id}/action-executions/{mine.id}").status_code == 200
