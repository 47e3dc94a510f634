"""The floor endpoint: what it does and what it refuses, through the real middleware and DRF."""

import uuid

import pytest
from django.test import Client

from conversations.models import Bot
from tests.factories import BotFactory
from tests.helpers import Api

pytestmark = pytest.mark.django_db

FLOOR = "/bench/floor"


@pytest.mark.urls("bench.urls")
def test_floor_selects_and_touches_the_bot(api: Api, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    bot = BotFactory()
    before = Bot.objects.get(pk=bot.pk).updated_at
    # One SELECT and one UPDATE, plus BEGIN and COMMIT where the backend reports them.
    with django_assert_max_num_queries(4):
        response = api.post(FLOOR, {"botId": str(bot.pk)})
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "botId": str(bot.pk)}
    assert Bot.objects.get(pk=bot.pk).updated_at > before
    assert response["X-Request-ID"]


@pytest.mark.urls("bench.urls")
def test_floor_with_an_unknown_bot_is_a_404(api: Api) -> None:
    response = api.post(FLOOR, {"botId": str(uuid.uuid4())})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.urls("bench.urls")
@pytest.mark.parametrize("body", [{}, {"botId": "not-a-uuid"}, {"botId": None}, {"botId": ["x"]}])
def test_floor_refuses_a_body_without_a_bot_id(api: Api, body: dict[str, object]) -> None:
    response = api.post(FLOOR, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


@pytest.mark.urls("bench.urls")
def test_floor_reads_its_body_like_the_real_endpoints(api: Api) -> None:
    bot = BotFactory()
    assert api.post(FLOOR, raw=b"[1, 2]").status_code == 400
    assert api.post(FLOOR, raw=b'{"botId": NaN}').status_code == 400
    response = api.post(FLOOR, raw=f'{{"botId": "{bot.pk}"}}', content_type="text/plain")
    assert response.status_code == 415
    assert api.get(FLOOR).status_code == 405


def test_floor_is_not_in_the_project_routes(client: Client) -> None:
    """Only the bench's own server (bench.settings, bench.urls) has it."""
    bot = BotFactory()
    response = client.post(FLOOR, data={"botId": str(bot.pk)}, content_type="application/json")
    assert response.status_code == 404
