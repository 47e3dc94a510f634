"""The inbox over HTTP (contract section 9): every page state and status, through Django's client."""

import re
from datetime import timedelta
from typing import Any, cast

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.outbound.models import WebhookEvent
from notifications.models import Notification, NotificationStatus
from notifications.selectors import InboxRows
from notifications.validation import actions_validate
from tests.concurrency import in_threads
from tests.factories import ServiceFactory, UserFactory
from tests.helpers import Api, assert_error, user_token_for
from tests.notifications.conftest import ACTIONS
from tests.notifications.factories import NotificationFactory

LOGIN = "/inbox/login/"
INBOX = "/inbox/"
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.django_db


def page(notification: Notification) -> str:
    return f"/inbox/{notification.pk}/"


@pytest.fixture
def browser(client: Client, person: Any) -> Client:
    """A client with `person`'s inbox session."""
    client.force_login(person)
    return client


def answer(client: Client, notification: Notification, action_id: str | None, *values: str) -> Any:
    data: dict[str, Any] = {}
    if action_id is not None:
        data["action_id"] = action_id
    if values:
        data["response_data"] = list(values)
    return client.post(page(notification), data)


def text(response: Any) -> str:
    return response.content.decode()


# --- Login, logout, sessions ---------------------------------------------------------------------


def test_the_login_page_has_the_form_and_its_csrf_token(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = text(response)
    assert 'name="username"' in body and 'name="password"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert response["X-Frame-Options"] == "DENY"


def test_a_right_password_logs_in_and_goes_to_the_inbox(client: Client, person: Any) -> None:
    response = client.post(LOGIN, {"username": person.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == INBOX
    assert client.get(INBOX).status_code == 200


def test_staff_log_in_too(client: Client) -> None:
    UserFactory(username="staffer", is_staff=True)
    response = client.post(LOGIN, {"username": "staffer", "password": PASSWORD})
    assert response.status_code == 302


def test_login_follows_next_when_it_is_a_path_of_this_site(client: Client, person: Any) -> None:
    mine = NotificationFactory(recipient=person)
    response = client.post(f"{LOGIN}?next={page(mine)}", {"username": person.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == page(mine)


@pytest.mark.parametrize(
    "next_value",
    [
        "https://evil.example/",
        "//evil.example/inbox/",
        "/\\evil.example",
        "http:/inbox/",
        "inbox/",
        "javascript:x",
    ],
)
def test_login_never_sends_elsewhere(client: Client, person: Any, next_value: str) -> None:
    response = client.post(LOGIN, {"username": person.username, "password": PASSWORD, "next": next_value})
    assert response.status_code == 302
    assert response["Location"] == INBOX


def test_a_wrong_password_shows_the_form_again_with_the_username(client: Client, person: Any) -> None:
    response = client.post(LOGIN, {"username": person.username, "password": "wrong"})
    assert response.status_code == 200
    body = text(response)
    assert "The username or the password is wrong." in body
    assert f'value="{person.username}"' in body
    assert 'aria-invalid="true"' in body
    assert "_auth_user_id" not in client.session


def test_an_inactive_person_cannot_log_in(client: Client) -> None:
    UserFactory(username="gone", is_active=False)
    response = client.post(LOGIN, {"username": "gone", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_an_empty_login_form_is_400(client: Client) -> None:
    response = client.post(LOGIN, {"username": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your username and your password." in text(response)


def test_failed_logins_are_throttled_with_the_token_endpoints_counters(client: Client, person: Any) -> None:
    api = Api(client)
    for _ in range(3):
        assert client.post(LOGIN, {"username": person.username, "password": "wrong"}).status_code == 200
    for _ in range(2):
        assert_error(
            api.post("/api/v1/client/token", {"username": person.username, "password": "wrong"}),
            401,
            "AUTH_INVALID_TOKEN",
        )
    # Five failures for this username, counted across both doors: both are shut now.
    response = client.post(LOGIN, {"username": person.username, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many failed attempts" in text(response)
    assert "_auth_user_id" not in client.session
    assert_error(
        api.post("/api/v1/client/token", {"username": person.username, "password": PASSWORD}),
        429,
        "RATE_LIMITED",
    )


def test_a_post_without_the_csrf_token_is_403(person: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(LOGIN, {"username": person.username, "password": PASSWORD}).status_code == 403
    strict.force_login(person)
    mine = NotificationFactory(recipient=person)
    response = strict.post(page(mine), {"action_id": "approve", "response_data": "true"})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.status == NotificationStatus.PENDING
    assert strict.post("/inbox/logout/").status_code == 403


def test_the_login_form_posts_with_its_token(person: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(strict.get(LOGIN)))
    assert token is not None
    response = strict.post(
        LOGIN, {"username": person.username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
    )
    assert response.status_code == 302


def test_logout_ends_the_session(browser: Client) -> None:
    response = browser.post("/inbox/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert browser.get(INBOX).status_code == 302


def test_logout_takes_only_post(browser: Client) -> None:
    assert browser.get("/inbox/logout/").status_code == 405


@pytest.mark.parametrize(
    "path", [INBOX, "/inbox/?status=pending", "/inbox/00000000-0000-0000-0000-000000000000/"]
)
def test_every_other_page_sends_a_stranger_to_the_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert client.get(response["Location"]).status_code == 200


def test_the_login_page_sends_a_logged_in_person_on(browser: Client) -> None:
    response = browser.get(f"{LOGIN}?next=/inbox/?status=responded")
    assert response.status_code == 302
    assert response["Location"] == "/inbox/?status=responded"


# --- The list ----------------------------------------------------------------------------------


def test_the_list_orders_open_ones_by_deadline_then_the_others_newest_first(
    browser: Client, person: Any
) -> None:
    now = timezone.now()
    later = NotificationFactory(recipient=person, title="later", deadline=now + timedelta(days=2))
    no_deadline = NotificationFactory(recipient=person, title="no-deadline")
    soon = NotificationFactory(recipient=person, title="soon", deadline=now + timedelta(minutes=20))
    old_done = NotificationFactory(
        recipient=person, title="old-done", status=NotificationStatus.INVALIDATED, invalidated_at=now
    )
    overdue = NotificationFactory(recipient=person, title="overdue", deadline=now + timedelta(hours=1))
    Notification.objects.filter(pk=overdue.pk).update(deadline=now - timedelta(minutes=1))
    NotificationFactory(title="someone-elses")
    response = browser.get(INBOX)
    assert response.status_code == 200
    titles = re.findall(r'<span class="row-title">([^<]+)</span>', text(response))
    assert titles == ["soon", "later", "no-deadline", "overdue", "old-done"]
    assert "3 questions are waiting for you" in text(response)
    for item in (later, no_deadline, soon, old_done):
        assert page(item) in text(response)


def test_the_list_filters_by_status(browser: Client, person: Any) -> None:
    now = timezone.now()
    NotificationFactory(recipient=person, title="open")
    NotificationFactory(
        recipient=person, title="withdrawn", status=NotificationStatus.INVALIDATED, invalidated_at=now
    )
    overdue = NotificationFactory(recipient=person, title="overdue", deadline=now + timedelta(hours=1))
    Notification.objects.filter(pk=overdue.pk).update(deadline=now - timedelta(minutes=1))
    expected = {"pending": ["open"], "invalidated": ["withdrawn"], "expired": ["overdue"], "responded": []}
    for status, titles in expected.items():
        response = browser.get(INBOX, {"status": status})
        assert response.status_code == 200
        assert re.findall(r'<span class="row-title">([^<]+)</span>', text(response)) == titles, status
        assert 'aria-current="page"' in text(response)


def test_an_unknown_status_filter_is_a_400_page(browser: Client) -> None:
    response = browser.get(INBOX, {"status": "maybe"})
    assert response.status_code == 400
    assert "No such filter" in text(response)


def test_the_list_has_pages_of_fifty(browser: Client, person: Any) -> None:
    service = ServiceFactory()
    NotificationFactory.create_batch(51, recipient=person, service=service)
    first = browser.get(INBOX)
    assert text(first).count('class="row"') == 50
    assert "page=2" in text(first)
    second = browser.get(INBOX, {"page": "2"})
    assert text(second).count('class="row"') == 1
    assert "Page 2 of 2" in text(second)
    # A page that does not exist shows the nearest one instead of an error.
    assert browser.get(INBOX, {"page": "x"}).status_code == 200
    assert text(browser.get(INBOX, {"page": "99"})).count('class="row"') == 1


def test_a_big_inbox_is_counted_only_as_far_as_the_page_asked_for(
    browser: Client, person: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifications.selectors.INBOX_COUNT_AT_LEAST", 60)
    now = timezone.now()
    NotificationFactory.create_batch(
        160,
        recipient=person,
        service=ServiceFactory(),
        status=NotificationStatus.INVALIDATED,
        invalidated_at=now,
    )
    # Unnumbered past what was counted; the older pages are still linked.
    first = text(browser.get(INBOX))
    assert '<span class="muted">Page 1</span>' in first
    assert "page=2" in first
    assert '<span class="muted">Page 2</span>' in text(browser.get(INBOX, {"page": "2"}))
    last = text(browser.get(INBOX, {"page": "4"}))
    assert "Page 4 of 4<" in last
    assert last.count('class="row"') == 10
    # Past the end, and below 1: the last page, counted to the end.
    assert "Page 4 of 4<" in text(browser.get(INBOX, {"page": "9"}))
    assert "Page 4 of 4<" in text(browser.get(INBOX, {"page": "0"}))
    assert "Page 4 of 4<" in text(browser.get(INBOX, {"page": "9" * 30}))
    # A filtered list counts to the end of the page asked for only.
    filtered = text(browser.get(INBOX, {"status": "invalidated"}))
    assert '<span class="muted">Page 1</span>' in filtered
    assert "status=invalidated&amp;page=2" in filtered


def test_a_deep_filtered_page_is_fetched_with_its_count_in_one_query(
    person: Any, django_assert_num_queries: Any
) -> None:
    now = timezone.now()
    NotificationFactory.create_batch(
        160,
        recipient=person,
        service=ServiceFactory(),
        status=NotificationStatus.INVALIDATED,
        invalidated_at=now,
    )
    NotificationFactory(recipient=person, title="open")
    newest_first = list(
        Notification.objects.filter(status=NotificationStatus.INVALIDATED).values_list("pk", flat=True)
    )
    third = InboxRows(user=person, now=now, status=NotificationStatus.INVALIDATED, count_to=150, page_size=50)
    with django_assert_num_queries(1):
        page = Paginator(cast(Any, third), 50).get_page(3)
        assert [row.pk for row in page.object_list] == newest_first[100:150]
    assert third.count_capped
    # Past the end: counted to it, then the last page.
    past = InboxRows(user=person, now=now, status=NotificationStatus.INVALIDATED, count_to=450, page_size=50)
    last = Paginator(cast(Any, past), 50).get_page(9)
    assert last.number == 4
    assert [row.pk for row in last.object_list] == newest_first[150:]
    assert not past.count_capped


def test_a_page_can_hold_open_ones_and_others(browser: Client, person: Any) -> None:
    now = timezone.now()
    service = ServiceFactory()
    NotificationFactory.create_batch(
        49, recipient=person, service=service, status=NotificationStatus.INVALIDATED, invalidated_at=now
    )
    for hours in (3, 1, 2):
        NotificationFactory(
            recipient=person, service=service, title=f"open-{hours}", deadline=now + timedelta(hours=hours)
        )
    first = re.findall(r'<span class="row-title">([^<]+)</span>', text(browser.get(INBOX)))
    assert first[:3] == ["open-1", "open-2", "open-3"]
    assert len(first) == 50
    assert len(re.findall(r'class="row"', text(browser.get(INBOX, {"page": "2"})))) == 2
    filtered = text(browser.get(INBOX, {"status": "invalidated", "page": "1"}))
    assert filtered.count('class="row"') == 49
    assert "3 questions are waiting for you" in filtered


def test_an_empty_inbox_says_so(browser: Client) -> None:
    response = browser.get(INBOX)
    assert response.status_code == 200
    assert "Nothing is waiting for you" in text(response)


def test_the_list_shows_time_left_and_the_utc_time(browser: Client, person: Any) -> None:
    NotificationFactory(recipient=person, deadline=timezone.now() + timedelta(hours=2, minutes=5))
    body = text(browser.get(INBOX))
    assert "in 2 h" in body
    assert re.search(r'<time datetime="[0-9T:.\-]+Z"', body)
    assert " UTC" in body


# --- A notification -----------------------------------------------------------------------------


@pytest.fixture
def every_type(person: Any) -> Notification:
    return NotificationFactory(
        recipient=person,
        description="Line one\n<b>not bold</b>",
        deadline=timezone.now() + timedelta(hours=3),
        actions=actions_validate(ACTIONS),
    )


def test_the_page_shows_one_form_per_action_with_its_controls(
    browser: Client, every_type: Notification
) -> None:
    response = browser.get(page(every_type))
    assert response.status_code == 200
    body = text(response)
    assert response["X-Frame-Options"] == "DENY"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert body.count(f'<form method="post" action="{page(every_type)}"') == 7
    assert body.count('name="action_id"') == 7
    assert "Line one<br>&lt;b&gt;not bold&lt;/b&gt;" in body
    # binary: two submit buttons with the labels
    assert '<button type="submit" name="response_data" value="true"' in body
    assert ">Approve</button>" in body and ">Reject</button>" in body
    # choice: radios; multi_choice: checkboxes
    assert re.search(r'<input type="radio" name="response_data" value="red"[^>]*required', body)
    assert body.count('type="checkbox" name="response_data"') == 3
    # text: a textarea with the bounds
    assert re.search(r'<textarea name="response_data"[^>]*maxlength="10"[^>]*minlength="2"', body)
    # numeric: a number input with min, max and step
    assert re.search(r'<input type="number" name="response_data"[^>]*step="0.01"', body)
    assert 'min="0"' in body and 'max="100"' in body
    # scale: one radio per step, labels shown
    for point in ("0", "2", "4", "6", "8", "10"):
        assert f'type="radio" name="response_data" value="{point}"' in body
    assert 'value="1"' not in body
    assert "Bad" in body and "Great" in body
    assert "Pick 1 to 2." in body


def test_every_control_has_a_label(browser: Client, every_type: Notification) -> None:
    body = text(browser.get(page(every_type)))
    ids = re.findall(r'<(?:input|textarea)[^>]*\bid="([^"]+)"', body)
    assert ids
    for control_id in ids:
        if control_id.endswith("action_id"):
            continue
        assert f'for="{control_id}"' in body, control_id


@pytest.mark.parametrize(
    ("action_id", "values", "stored", "words"),
    [
        ("ack", [], None, "Acknowledge"),
        ("approve", ["false"], False, "Reject"),
        ("colour", ["blue"], "blue", "Blue"),
        ("toppings", ["ham", "kale"], ["ham", "kale"], "Ham, Kale"),
        ("note", ["ok\nthen"], "ok\nthen", "ok<br>then"),
        ("amount", ["3.5"], 3.5, "3.5"),
        ("amount", ["42"], 42, "42"),
        ("rating", ["4"], 4, "4"),
        ("rating", ["10"], 10, "10 (Great)"),
    ],
)
def test_an_answer_of_each_type_is_recorded_and_shown(
    browser: Client,
    every_type: Notification,
    person: Any,
    action_id: str,
    values: list[str],
    stored: Any,
    words: str,
) -> None:
    response = answer(browser, every_type, action_id, *values)
    assert response.status_code == 303
    assert response["Location"] == page(every_type)
    every_type.refresh_from_db()
    assert every_type.status == NotificationStatus.RESPONDED
    assert every_type.response_action_id == action_id
    assert every_type.response_data == stored
    assert type(every_type.response_data) is type(stored)
    assert every_type.responder == person
    shown = browser.get(page(every_type))
    body = text(shown)
    assert "Answered by you" in body
    assert words in body
    assert "has been told" in body
    assert f'<form method="post" action="{page(every_type)}"' not in body
    # Forwarded exactly as an API answer.
    event = WebhookEvent.objects.get(subject_id=every_type.pk)
    assert event.event_type == "notification.responded"
    assert event.payload["response_data"] == stored
    assert event.payload["responder"] == {"id": person.pk, "username": person.username}


@pytest.mark.parametrize(
    ("action_id", "values"),
    [
        ("approve", ["maybe"]),
        ("approve", [""]),
        ("amount", ["NaN"]),
        ("amount", [""]),
        ("amount", ["1e400"]),
        ("amount", ["3,5"]),
        ("rating", ["2.5"]),
        ("rating", ["four"]),
        ("toppings", ["ham", "ham"]),
        ("ack", ["anything"]),
    ],
)
def test_a_string_that_is_no_such_value_is_invalid_response_data(
    browser: Client, every_type: Notification, action_id: str, values: list[str]
) -> None:
    response = answer(browser, every_type, action_id, *values)
    assert response.status_code == 400
    every_type.refresh_from_db()
    assert every_type.status == NotificationStatus.PENDING


@pytest.mark.parametrize("action_id", ["approve", "colour", "note", "amount", "rating"])
def test_no_value_where_one_is_required_is_missing_required_field(
    browser: Client, every_type: Notification, action_id: str
) -> None:
    response = answer(browser, every_type, action_id)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in text(response) or action_id == "approve"


def test_no_action_id_is_missing_required_field(browser: Client, every_type: Notification) -> None:
    response = answer(browser, every_type, None, "true")
    assert response.status_code == 400
    assert 'id="page-error"' in text(response)


def test_an_action_the_notification_lacks_is_400(browser: Client, every_type: Notification) -> None:
    response = answer(browser, every_type, "nope", "true")
    assert response.status_code == 400
    assert "not one this question offers" in text(response)


@pytest.mark.parametrize(
    ("action_id", "values", "message"),
    [
        ("toppings", ["ham", "egg", "kale"], "Pick at most 2 options."),
        ("toppings", [], "Pick at least 1 option."),
        ("colour", ["green"], "Choose one of the options."),
        ("note", ["x"], "Write at least 2 characters."),
        ("note", ["x" * 11], "Write at most 10 characters."),
        ("amount", ["100.5"], "Enter 100 or less."),
        ("amount", ["-1"], "Enter 0 or more."),
        ("amount", ["1.234"], "Use at most 2 decimal places."),
        ("rating", ["3"], "Choose one of the points of the scale."),
        ("rating", ["12"], "Choose a point on the scale."),
    ],
)
def test_a_rule_broken_is_422_in_words_beside_the_control_with_the_value_kept(
    browser: Client, every_type: Notification, action_id: str, values: list[str], message: str
) -> None:
    response = answer(browser, every_type, action_id, *values)
    assert response.status_code == 422
    body = text(response)
    index = [action["id"] for action in every_type.actions].index(action_id)
    assert f'<p class="field-error" id="a{index}-error">{message}</p>' in body
    assert re.search(rf'aria-invalid="true"[^>]*|[^>]*aria-describedby="a{index}-error', body)
    assert f'aria-describedby="a{index}-error' in body
    if action_id == "note":
        assert f">\n{values[0]}</textarea>" in body
    elif action_id == "amount":
        assert f'value="{values[0]}"' in body
    elif action_id == "toppings":
        for value in values:
            assert re.search(rf'value="{value}"[^>]*checked', body)
    every_type.refresh_from_db()
    assert every_type.status == NotificationStatus.PENDING


def test_answering_twice_is_409_and_shows_the_answer(browser: Client, every_type: Notification) -> None:
    assert answer(browser, every_type, "approve", "true").status_code == 303
    response = answer(browser, every_type, "colour", "red")
    assert response.status_code == 409
    body = text(response)
    assert "already been answered" in body
    assert "Approve" in body
    every_type.refresh_from_db()
    assert every_type.response_action_id == "approve"


def test_an_invalidated_notification_is_409_and_says_so(browser: Client, every_type: Notification) -> None:
    Notification.objects.filter(pk=every_type.pk).update(
        status=NotificationStatus.INVALIDATED,
        invalidated_at=timezone.now(),
        invalidation_reason="Done already",
    )
    shown = text(browser.get(page(every_type)))
    assert "Withdrawn" in shown and "Done already" in shown
    assert 'name="action_id"' not in shown
    response = answer(browser, every_type, "approve", "true")
    assert response.status_code == 409
    assert "withdrew this question" in text(response)


def test_a_notification_past_its_deadline_is_409_before_the_sweep(
    browser: Client, every_type: Notification
) -> None:
    Notification.objects.filter(pk=every_type.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    shown = text(browser.get(page(every_type)))
    assert "Expired" in shown and 'name="action_id"' not in shown
    response = answer(browser, every_type, "approve", "true")
    assert response.status_code == 409
    assert "deadline has passed" in text(response)


def test_409_comes_before_the_shape_of_the_answer(browser: Client, every_type: Notification) -> None:
    Notification.objects.filter(pk=every_type.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    assert answer(browser, every_type, "amount", "NaN").status_code == 409
    assert answer(browser, every_type, "nope").status_code == 409


def test_someone_elses_notification_is_a_403_page(browser: Client) -> None:
    theirs = NotificationFactory(description="secret plans")
    response = browser.get(page(theirs))
    assert response.status_code == 403
    assert "secret plans" not in text(response)
    assert theirs.title not in text(response)
    assert answer(browser, theirs, "approve", "true").status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == NotificationStatus.PENDING


@pytest.mark.parametrize("notification_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_an_unknown_or_malformed_id_is_a_404_page(browser: Client, notification_id: str) -> None:
    response = browser.get(f"/inbox/{notification_id}/")
    assert response.status_code == 404
    assert "No such question" in text(response)
    assert browser.post(f"/inbox/{notification_id}/", {"action_id": "x"}).status_code == 404


def test_a_nul_in_the_id_is_400_like_on_every_page(browser: Client) -> None:
    assert browser.get("/inbox/%00/").status_code == 400
    assert browser.post("/inbox/%00/", {"action_id": "x"}).status_code == 400


def test_an_answer_by_someone_else_is_shown_by_name(browser: Client, person: Any) -> None:
    notification = NotificationFactory(recipient=person)
    other = UserFactory(username="sam")
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.RESPONDED,
        response_action_id="approve",
        response_data=True,
        responded_at=timezone.now(),
        responder=other,
    )
    body = text(browser.get(page(notification)))
    assert "Answered by sam" in body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_concurrent_inbox_and_api_answers_exactly_one_wins() -> None:
    assert connection.vendor == "postgresql"
    person = UserFactory()
    notification = NotificationFactory(recipient=person)
    token = user_token_for(person)

    def by_page(choice: str) -> int:
        client = Client()
        client.force_login(person)
        return client.post(page(notification), {"action_id": "approve", "response_data": choice}).status_code

    def by_api(choice: bool) -> int:
        body = {"notification_id": str(notification.pk), "action_id": "approve", "response_data": choice}
        return Api(Client(), token).post("/api/v1/client/respond", body).status_code

    calls = [lambda: by_page("true"), lambda: by_api(False)] * 4
    outcomes = in_threads(calls)
    assert outcomes.count(303) + outcomes.count(200) == 1, outcomes
    assert all(outcome in (200, 303, 409) for outcome in outcomes), outcomes
    assert WebhookEvent.objects.filter(subject_id=notification.pk).count() == 1


def test_a_default_outcome_shows_from_the_deadline_on_before_the_sweep(browser: Client, person: Any) -> None:
    notification = NotificationFactory(
        recipient=person,
        deadline=timezone.now() + timedelta(hours=1),
        actions=[
            {
                "id": "publish",
                "label": "Publish",
                "response_type": "binary",
                "options": {"true_label": "Publish now", "false_label": "Hold"},
            }
        ],
        on_deadline={"action_id": "publish", "response_data": True},
    )
    open_page = text(browser.get(page(notification)))
    assert "the default answer is recorded" in open_page

    Notification.objects.filter(pk=notification.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    shown = text(browser.get(page(notification)))

    assert "Decided by default at the deadline" in shown
    assert "Publish now" in shown
    assert "Send answer" not in shown


def test_an_escalated_notification_names_who_it_now_waits_for(browser: Client, person: Any) -> None:
    notification = NotificationFactory(recipient=person, recipients=[UserFactory(username="sam")])
    Notification.objects.filter(pk=notification.pk).update(escalated_at=timezone.now())

    assert "it now waits for " + person.username + ", sam." in text(browser.get(page(notification)))


def test_a_page_reads_the_recipients_only_once_it_names_them(browser: Client, person: Any) -> None:
    """The recipients are read for an escalated notification's page only (one more query)."""
    plain = NotificationFactory(recipient=person, recipients=[UserFactory(username="sam")])
    escalated = NotificationFactory(recipient=person, recipients=[UserFactory(username="kim")])
    Notification.objects.filter(pk=escalated.pk).update(escalated_at=timezone.now())
    browser.get(page(plain))
    with CaptureQueriesContext(connection) as plain_queries:
        assert browser.get(page(plain)).status_code == 200
    with CaptureQueriesContext(connection) as escalated_queries:
        assert "kim" in text(browser.get(page(escalated)))
    assert len(escalated_queries) == len(plain_queries) + 1
