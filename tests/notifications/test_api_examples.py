"""The notification examples the API docs show (notifications/examples.py) are what the API does:
each response type's request, sent for real, gives the documented 201, answer and read."""

from typing import Any

import pytest
from django.test import Client

from config.accounts.models import Service
from notifications.examples import (
    RESPONDED,
    TYPE_EXAMPLES,
    TypeExample,
    create_request,
    notification_body,
    respond_request,
)
from tests.factories import UserFactory
from tests.helpers import Api, user_token_for

pytestmark = pytest.mark.django_db

# What differs from one run to the next, and so cannot be documented as it comes back.
VARYING = ("notification_id", "created_at", "responded_at")


def _without_varying(body: dict[str, Any]) -> dict[str, Any]:
    body = {key: value for key, value in body.items() if key not in VARYING}
    if isinstance(body.get("response"), dict):
        body["response"] = {
            key: value for key, value in body["response"].items() if key not in ("responded_at", "responder")
        }
    return body


@pytest.mark.parametrize("response_type", list(TYPE_EXAMPLES))
def test_each_response_types_example_is_what_the_api_answers(
    client: Client, service: Service, service_api: Api, response_type: str
) -> None:
    example: TypeExample = TYPE_EXAMPLES[response_type]
    alex = UserFactory(username="alex")

    created = service_api.post("/api/v1/notifications", create_request(example))
    assert created.status_code == 201, created.content
    body = created.json()
    assert _without_varying(body) == _without_varying(notification_body(example, answered=False))

    answer = {**respond_request(example), "notification_id": body["notification_id"]}
    responded = Api(client, user_token_for(alex)).post("/api/v1/client/respond", answer)
    assert responded.status_code == 200, responded.content
    assert _without_varying(responded.json()) == _without_varying(
        {**RESPONDED, "action_id": example.sent["id"]}
    )

    read = service_api.get(f"/api/v1/notifications/{body['notification_id']}").json()
    assert _without_varying(read) == _without_varying(notification_body(example, answered=True))
    assert read["response"]["responder"] == {"id": alex.pk, "username": "alex"}
