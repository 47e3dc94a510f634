"""The person's side: a token from a password, the inbox, one notification (contract section 3)."""

import base64
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from notifications.models import Notification, NotificationRecipient, NotificationStatus
from notifications.services import TOKEN_FAILURES_PER_ADDRESS, TOKEN_FAILURES_PER_USERNAME
from tests.factories import UserFactory
from tests.helpers import Api, assert_error, user_token_for
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/client/token"
INBOX = "/api/v1/client/notifications"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
PER_USERNAME = int(TOKEN_FAILURES_PER_USERNAME.split("/")[0])
PER_ADDRESS = int(TOKEN_FAILURES_PER_ADDRESS.split("/")[0])


def login(client: Client, username: str, password: str, address: str = "127.0.0.1") -> Any:
    return client.post(
        TOKEN,
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


# --- POST /client/token -------------------------------------------------------------------------


def test_a_right_password_gets_a_working_token(client: Client, person: Any) -> None:
    response = login(client, person.username, PASSWORD)
    assert response.status_code == 200
    token = response.json()["token"]
    assert token.startswith("ut_")
    assert Api(client, token).get(INBOX).status_code == 200


def test_the_token_endpoint_ignores_any_bearer(api: Api, person: Any) -> None:
    response = api.as_("ut_garbage").post(TOKEN, {"username": person.username, "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody-here", PASSWORD), (None, "wrong password")],
)
def test_wrong_credentials_are_401(client: Client, person: Any, username: str | None, password: str) -> None:
    assert_error(login(client, username or person.username, password), 401, "AUTH_INVALID_TOKEN")


def test_an_inactive_user_gets_no_token(client: Client) -> None:
    inactive = UserFactory(is_active=False)
    assert_error(login(client, inactive.username, PASSWORD), 401, "AUTH_INVALID_TOKEN")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "x"}, "password"),
        ({"username": 1, "password": "p"}, "username"),
    ],
)
def test_a_malformed_token_request_is_400(api: Api, body: dict[str, Any], field: str) -> None:
    error = assert_error(api.post(TOKEN, body), 400, "INVALID_REQUEST")
    assert error["details"] == {"field": field}


def test_repeated_failures_for_one_username_are_429(client: Client, person: Any) -> None:
    for _ in range(PER_USERNAME):
        assert_error(login(client, person.username, "wrong"), 401, "AUTH_INVALID_TOKEN")
    # Even the right password, and from another address: the account is what is protected.
    response = login(client, person.username, PASSWORD, address="10.9.9.9")
    assert_error(response, 429, "RATE_LIMITED")
    assert 1 <= int(response["Retry-After"]) <= 15 * 60
    # Other accounts are not locked out by it.
    assert login(client, UserFactory().username, PASSWORD).status_code == 200


def test_repeated_failures_from_one_address_are_429(client: Client, person: Any) -> None:
    for index in range(PER_ADDRESS):
        assert_error(login(client, f"guess-{index}", "wrong", address="10.0.0.1"), 401, "AUTH_INVALID_TOKEN")
    response = login(client, person.username, PASSWORD, address="10.0.0.1")
    assert_error(response, 429, "RATE_LIMITED")
    assert 1 <= int(response["Retry-After"]) <= 15 * 60
    assert login(client, person.username, PASSWORD, address="10.0.0.2").status_code == 200


def test_successful_logins_are_not_counted(client: Client, person: Any) -> None:
    for _ in range(PER_USERNAME + 2):
        assert login(client, person.username, PASSWORD).status_code == 200


def test_a_success_takes_back_its_own_count_not_the_failures_before_it(client: Client, person: Any) -> None:
    for _ in range(PER_USERNAME - 1):
        assert_error(login(client, person.username, "wrong", address="10.1.0.1"), 401, "AUTH_INVALID_TOKEN")
    assert login(client, person.username, PASSWORD, address="10.1.0.2").status_code == 200
    # The failures before the success still count: one more, and the account is locked.
    assert_error(login(client, person.username, "wrong", address="10.1.0.3"), 401, "AUTH_INVALID_TOKEN")
    assert_error(login(client, person.username, PASSWORD, address="10.1.0.4"), 429, "RATE_LIMITED")


# --- GET /client/notifications ------------------------------------------------------------------


def test_the_inbox_lists_own_notifications_newest_first(person_api: Api, person: Any) -> None:
    newer = NotificationFactory(recipient=person)
    older = NotificationFactory(recipient=person)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Notification.objects.filter(pk=older.pk).update(created_at=an_hour_ago)
    NotificationRecipient.objects.filter(notification=older).update(notification_created_at=an_hour_ago)
    NotificationFactory()  # someone else's

    body = person_api.get(INBOX).json()

    assert [item["notification_id"] for item in body["results"]] == [str(newer.pk), str(older.pk)]
    assert body["next"] is None
    assert body["results"][0]["recipient"] == person.username
    assert body["results"][0]["response"] is None


def test_the_status_filter_uses_the_status_as_read_now(person_api: Api, person: Any) -> None:
    now = timezone.now()
    open_one = NotificationFactory(recipient=person, deadline=now + timedelta(hours=1))
    overdue = NotificationFactory(recipient=person, deadline=now - timedelta(seconds=1))
    answered = NotificationFactory(recipient=person)
    Notification.objects.filter(pk=answered.pk).update(
        status=NotificationStatus.RESPONDED, response_action_id="approve", responded_at=now
    )

    def ids(status: str) -> set[str]:
        return {item["notification_id"] for item in person_api.get(INBOX, status=status).json()["results"]}

    assert ids("pending") == {str(open_one.pk)}
    assert ids("expired") == {str(overdue.pk)}
    assert ids("responded") == {str(answered.pk)}
    assert ids("invalidated") == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "open"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b'["2020-01-01T00:00:00+00:00", 5]').decode()}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b'{"a": 1}').decode()}, "cursor"),
        # A time without its zone: compared with the rows' times it would be read in some zone.
        (
            {
                "cursor": base64.urlsafe_b64encode(
                    f'["2020-01-01T00:00:00", "{uuid.uuid4()}"]'.encode()
                ).decode()
            },
            "cursor",
        ),
        ({"status": ""}, "status"),
        ({"limit": ""}, "limit"),
        ({"limit": "+5"}, "limit"),
        ({"limit": "\u00b2"}, "limit"),
    ],
)
def test_bad_inbox_parameters_are_400(person_api: Api, params: dict[str, str], field: str) -> None:
    error = assert_error(person_api.get(INBOX, **params), 400, "INVALID_REQUEST")
    assert error["details"] == {"field": field}


def test_the_inbox_pages_through_everything_once_even_with_equal_times(person_api: Api, person: Any) -> None:
    made = {str(NotificationFactory(recipient=person).pk) for _ in range(7)}
    same_moment = timezone.now()
    Notification.objects.filter(recipient=person).update(created_at=same_moment)
    NotificationRecipient.objects.filter(user=person).update(notification_created_at=same_moment)

    seen: list[str] = []
    url: str | None = f"{INBOX}?status=pending&limit=3"
    pages = 0
    while url:
        split = urlsplit(url)
        response = person_api.client.get(
            f"{split.path}?{split.query}", headers={"Authorization": f"Bearer {person_api.credential}"}
        )
        body = response.json()
        seen.extend(item["notification_id"] for item in body["results"])
        url = body["next"]
        pages += 1
        assert pages <= 3
    assert pages == 3
    assert len(seen) == len(made) and set(seen) == made


def test_the_inbox_needs_a_user_token(api: Api) -> None:
    assert_error(api.get(INBOX), 401, "AUTH_INVALID_TOKEN")


# --- GET /client/notifications/{id} -------------------------------------------------------------


def test_a_person_reads_their_own_notification(person_api: Api, person: Any) -> None:
    notification = NotificationFactory(recipient=person)
    body = person_api.get(f"{INBOX}/{notification.pk}").json()
    assert body["notification_id"] == str(notification.pk)
    assert body["status"] == "pending"
    assert body["actions"] == notification.actions


def test_someone_elses_notification_is_403(api: Api) -> None:
    notification = NotificationFactory()
    stranger = api.as_(user_token_for(UserFactory()))
    assert_error(stranger.get(f"{INBOX}/{notification.pk}"), 403, "NOTIFICATION_ACCESS_DENIED")


@pytest.mark.parametrize("notification_id", [str(uuid.uuid4()), "nope"])
def test_an_unknown_notification_is_404(person_api: Api, notification_id: str) -> None:
    assert_error(person_api.get(f"{INBOX}/{notification_id}"), 404, "NOTIFICATION_NOT_FOUND")


def test_an_unknown_route_under_the_family_is_404_in_its_shape(person_api: Api) -> None:
    assert_error(person_api.get("/api/v1/client/nothing-here"), 404, "NOT_FOUND")


def test_an_empty_cursor_is_the_first_page_and_unknown_parameters_are_ignored(
    person_api: Api, person: Any
) -> None:
    made = NotificationFactory(recipient=person)
    response = person_api.get(INBOX, cursor="", utm_source="mail")
    assert response.status_code == 200
    assert [item["notification_id"] for item in response.json()["results"]] == [str(made.pk)]
