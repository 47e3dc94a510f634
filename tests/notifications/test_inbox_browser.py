"""The inbox in a real headless Chromium, on a phone and on a desktop: log in, answer one question
of each response type (one by keyboard only), meet a 422 and correct it, and have axe-core find no
serious accessibility violation. Screenshots are kept under test-artifacts/ for a person to look at."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from notifications.models import Notification, NotificationStatus
from notifications.validation import actions_validate
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, axe_serious_violations, needs_chromium
from tests.factories import ServiceFactory, UserFactory
from tests.notifications.factories import NotificationFactory

PASSWORD = "a long inbox passphrase"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

QUESTIONS: list[dict[str, Any]] = [
    {
        "title": "Acknowledge the overnight outage report",
        "description": "The checkout was down from 02:10 to 02:25 UTC.\nNo orders were lost.",
        "hours": 0.5,
        "action": {"id": "ack", "label": "I have read it", "response_type": "simple"},
    },
    {
        "title": "Approve the refund for order 1042?",
        "description": "The customer returned the blender unopened; the refund is 89.00 EUR.",
        "hours": 3,
        "action": {
            "id": "approve",
            "label": "Approve the refund",
            "response_type": "binary",
            "options": {"true_label": "Approve", "false_label": "Reject"},
        },
    },
    {
        "title": "Which plan should we offer Dana?",
        "hours": 5,
        "action": {
            "id": "plan",
            "label": "Plan",
            "response_type": "choice",
            "options": [
                {"value": "starter", "label": "Starter"},
                {"value": "team", "label": "Team"},
                {"value": "enterprise", "label": "Enterprise"},
            ],
        },
    },
    {
        "title": "Where should the spring campaign run?",
        "hours": 24,
        "action": {
            "id": "channels",
            "label": "Channels",
            "response_type": "multi_choice",
            "options": [
                {"value": "email", "label": "E-mail newsletter"},
                {"value": "social", "label": "Social media"},
                {"value": "search", "label": "Search ads"},
                {"value": "print", "label": "Print"},
            ],
            "constraints": {"min_selections": 1, "max_selections": 2},
        },
    },
    {
        "title": "Any note for the support team?",
        "hours": 48,
        "action": {
            "id": "note",
            "label": "Your note",
            "response_type": "text",
            "constraints": {"max_length": 500},
        },
    },
    {
        "title": "What discount may the assistant offer Jordan?",
        "description": "Jordan asks for a discount on a 3-year plan. List price: 4,800 EUR.",
        "hours": 72,
        "action": {
            "id": "discount",
            "label": "Discount in percent",
            "response_type": "numeric",
            "constraints": {"min": 0, "max": 30, "decimal_places": 1},
        },
    },
    {
        "title": "How helpful was the assistant today?",
        "hours": None,
        "action": {
            "id": "rating",
            "label": "Rating",
            "response_type": "scale",
            "constraints": {"min": 1, "max": 5, "labels": {"1": "Not at all", "5": "Very"}},
        },
    },
]


def seed() -> tuple[Any, dict[str, Notification]]:
    person = UserFactory(username="robin", password=PASSWORD)
    service = ServiceFactory(name="crm-assistant")
    now = timezone.now()
    made = {}
    for spec in QUESTIONS:
        made[spec["action"]["response_type"]] = NotificationFactory(
            service=service,
            recipient=person,
            title=spec["title"],
            description=spec.get("description", ""),
            deadline=now + timedelta(hours=spec["hours"]) if spec["hours"] else None,
            actions=actions_validate([spec["action"]]),
        )
    done = NotificationFactory(service=service, recipient=person, title="Send the weekly summary now?")
    Notification.objects.filter(pk=done.pk).update(
        status=NotificationStatus.RESPONDED,
        response_action_id="approve",
        response_data=True,
        responded_at=now - timedelta(hours=2),
        responder=person,
    )
    return person, made


@pytest.mark.parametrize("width", [375, 1280])
def test_a_person_answers_every_type_in_a_real_browser(
    live_server: LiveServer, settings: Settings, width: int
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    person, made = seed()  # all database work before the browser's event loop starts
    ARTIFACTS.mkdir(exist_ok=True)
    shot = lambda page, name: page.screenshot(path=ARTIFACTS / f"inbox-{width}-{name}.png", full_page=True)  # noqa: E731

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": width, "height": 800 if width > 400 else 740})
            page = context.new_page()
            expect = sync_api.expect

            page.goto(f"{live_server.url}/inbox/")
            page.wait_for_url("**/inbox/login/?next=/inbox/")
            shot(page, "login")
            page.get_by_label("Username").fill("robin")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{live_server.url}/inbox/")
            expect(page.get_by_role("heading", level=1)).to_have_text("7 questions are waiting for you")
            shot(page, "list")
            assert axe_serious_violations(page) == []

            def open_question(kind: str) -> None:
                page.goto(f"{live_server.url}/inbox/")
                page.get_by_role("link", name=made[kind].title).click()
                page.wait_for_url(f"**/inbox/{made[kind].pk}/")

            def answered(words: str, name: str) -> None:
                expect(page.locator(".notice-success")).to_contain_text(f"Answered: {words}.")
                expect(page.locator(".outcome .answer")).to_have_text(words)
                assert page.locator("form[method=post] input[name=action_id]").count() == 0
                shot(page, name)

            open_question("simple")
            shot(page, "simple")
            assert axe_serious_violations(page) == []
            page.get_by_role("button", name="I have read it").click()
            answered("I have read it", "simple-answered")

            open_question("binary")
            page.get_by_role("button", name="Approve", exact=True).click()
            answered("Approve", "binary-answered")

            open_question("choice")
            page.get_by_label("Team").check()
            page.get_by_role("button", name="Send answer").click()
            answered("Team", "choice-answered")

            open_question("multi_choice")
            for label in ("E-mail newsletter", "Social media", "Search ads"):
                page.get_by_label(label).check()
            with page.expect_response(lambda response: response.request.method == "POST") as posted:
                page.get_by_role("button", name="Send answer").click()
            assert posted.value.status == 422
            error = page.locator(".field-error")
            expect(error).to_have_text("Pick at most 2 options.")
            checkbox = page.get_by_label("Search ads")
            assert checkbox.is_checked()  # what was entered is kept
            assert checkbox.get_attribute("aria-invalid") == "true"
            assert error.get_attribute("id") in (checkbox.get_attribute("aria-describedby") or "").split()
            shot(page, "multi-choice-422")
            assert axe_serious_violations(page) == []
            checkbox.uncheck()
            page.get_by_role("button", name="Send answer").click()
            answered("E-mail newsletter, Social media", "multi-choice-answered")

            open_question("text")
            page.get_by_role("textbox", name="Your note").fill("Looks good to me.\nThanks!")
            expect(page.locator(".count")).to_have_text("(25 / 500)")
            shot(page, "text")
            page.get_by_role("button", name="Send answer").click()
            expect(page.locator(".notice-success")).to_have_text(
                "Your answer is recorded. crm-assistant has been told."
            )
            assert page.locator(".outcome .answer").inner_text() == "Looks good to me.\nThanks!"
            shot(page, "text-answered")

            open_question("numeric")
            page.get_by_role("spinbutton", name="Discount in percent").fill("12.5")
            page.get_by_role("button", name="Send answer").click()
            answered("12.5", "numeric-answered")

            # The scale by keyboard alone: Tab to the first point, arrows to the fourth, Enter.
            open_question("scale")
            shot(page, "scale")
            page.get_by_role("radio", name="1 Not at all").focus()
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            assert page.get_by_role("radio", name="4", exact=True).is_checked()
            page.keyboard.press("Enter")
            answered("4", "scale-answered")

            page.goto(f"{live_server.url}/inbox/")
            expect(page.get_by_role("heading", level=1)).to_have_text("Nothing is waiting for you")
            page.emulate_media(color_scheme="dark")
            shot(page, "list-empty-dark")
            assert axe_serious_violations(page) == []
            page.emulate_media(color_scheme="light")
            page.get_by_role("navigation", name="Filter by status").get_by_role(
                "link", name="Answered"
            ).click()
            expect(page.locator(".row")).to_have_count(8)
            shot(page, "list-answered")
        finally:
            browser.close()

    for kind, notification in made.items():
        notification.refresh_from_db()
        assert notification.status == NotificationStatus.RESPONDED, kind
        assert notification.responder_id == person.pk
    assert made["multi_choice"].response_data == ["email", "social"]
    assert made["numeric"].response_data == 12.5
    assert made["scale"].response_data == 4
