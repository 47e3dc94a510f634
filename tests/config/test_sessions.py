"""The session store and the model backend with compiled lookups: signed in, expired, deactivated."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

pytestmark = pytest.mark.django_db

INBOX = "/inbox/"
LOGIN = "/inbox/login/"


def sign_in(client: Client, person: Any) -> None:
    # Through the login page, as a person does: the backend and the store of the settings.
    client.get(LOGIN)
    response = client.post(
        LOGIN,
        {
            "username": person.username,
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302, response.content


def test_a_signed_in_person_is_read_back_with_one_statement_for_the_session_and_one_for_the_user(
    client: Client, person: Any
) -> None:
    sign_in(client, person)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(INBOX)

    assert response.status_code == 200
    assert response.context["user"].pk == person.pk
    statements = [query["sql"] for query in captured.captured_queries]
    assert sum('FROM "django_session"' in sql for sql in statements) == 1
    assert sum('FROM "auth_user"' in sql for sql in statements) == 1


def test_an_expired_session_signs_the_person_out(client: Client, person: Any) -> None:
    sign_in(client, person)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))

    response = client.get(INBOX)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


def test_a_deactivated_person_is_signed_out_at_their_next_request(client: Client, person: Any) -> None:
    sign_in(client, person)
    assert client.get(INBOX).status_code == 200
    get_user_model().objects.filter(pk=person.pk).update(is_active=False)

    response = client.get(INBOX)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


def test_a_session_of_a_deleted_person_signs_out(client: Client, person: Any) -> None:
    sign_in(client, person)
    get_user_model().objects.filter(pk=person.pk).delete()

    assert client.get(INBOX).status_code == 302
