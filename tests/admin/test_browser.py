"""The admin driven in a real headless Chromium: log in, open Contact Submissions, filter, read the
summary (its script loads it into the page after the list), check no clear personal data is on the
page, export the CSV. Screenshots are kept under test-artifacts/ (git-ignored) for a person to look at."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from tests.actions.execution_factories import ExecutionFactory
from tests.admin.factories import CLEAR_VALUES, World, build_world, complete
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.factories import BotFactory

PASSWORD = "browser-test-password"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


def seed() -> World:
    world = build_world()
    get_user_model().objects.create_superuser(username="staff", password=PASSWORD, email="")
    second_bot = BotFactory(service=world.service, name="pricing-bot")
    outcomes = [
        ("delivered", "same_page", 180),
        ("delivered", "hidden_iframe", 240),
        ("optimistic", "same_page", 95),
        ("delivered", "same_page", 310),
        ("failed", "deep_link", None),
        ("deeplink_opened", "deep_link", 1200),
        ("delivered", "hidden_iframe", 150),
    ]
    for index, (status, method, ms) in enumerate(outcomes):
        complete(
            ExecutionFactory(bot=second_bot if index % 2 else world.bot),
            result="failure" if status == "failed" else "success",
            deliveryStatus=status,
            deliveryMethod=method,
            signalSource="form-submit",
            networkStatus=502 if status == "failed" else 200,
            **({"submitToSignalMs": ms} if ms is not None else {}),
        )
    ExecutionFactory(bot=second_bot)  # one more still pending
    return world


def test_contact_submissions_in_a_real_browser(live_server: LiveServer, settings: Settings) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    # The live server speaks plain HTTP; the production settings would keep the cookies HTTPS-only.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    world = seed()  # all database work happens before the browser's event loop starts
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1440, "height": 900})
            page = context.new_page()

            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("#id_username", "staff")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#start-contact-submissions")
            page.screenshot(path=ARTIFACTS / "admin-index.png", full_page=True)

            page.click("#start-contact-submissions")
            page.wait_for_selector("#result_list")
            # The page answers before the summary; its script loads the summary in afterwards.
            page.wait_for_selector("#contact-summary")
            assert page.locator("#contact-summary-link").count() == 0
            assert page.inner_text('[data-summary="total"] .cs-value') == "10"
            assert_no_clear_values(page.content())
            page.screenshot(path=ARTIFACTS / "contact-submissions.png", full_page=True)

            page.locator("#changelist-filter").get_by_role("link", name="Delivered", exact=True).click()
            page.wait_for_url("**delivery_status=delivered**")
            page.wait_for_selector("#contact-summary")
            assert page.inner_text('[data-summary="total"] .cs-value') == "5"
            assert page.inner_text('[data-summary="status-delivered"] .cs-value') == "5"
            assert page.inner_text('[data-summary="p50"] .cs-value') == "240 ms"
            # Delivered timings: 150, 180, 240, 310, 420; p95 is 310 + 0.8 * (420 - 310).
            assert page.inner_text('[data-summary="p95"] .cs-value') == "398 ms"
            assert page.locator("#result_list tbody tr").count() == 5
            assert_no_clear_values(page.content())
            page.screenshot(path=ARTIFACTS / "contact-submissions-delivered.png", full_page=True)

            with page.expect_download() as download_info:
                page.click("#export-csv")
            download = download_info.value
            download.save_as(ARTIFACTS / "contact-submissions-delivered.csv")
            text = (ARTIFACTS / "contact-submissions-delivered.csv").read_text()

            # The bot filter is a text box (an id or an exact name), never a list of every bot.
            page.goto(f"{live_server.url}/admin/actions/contactsubmission/?result=success")
            page.fill("#related-lookup-bot", "pricing-bot")
            page.press("#related-lookup-bot", "Enter")
            page.wait_for_url("**bot=pricing-bot**")
            assert "result=success" in page.url
            page.wait_for_selector("#contact-summary")
            assert page.locator("#result_list tbody tr").count() == 3
            assert page.inner_text('[data-summary="total"] .cs-value') == "3"
            page.screenshot(path=ARTIFACTS / "contact-submissions-bot.png", full_page=True)

            page.goto(f"{live_server.url}/admin/actions/contactsubmission/{world.pending.pk}/change/")
            assert "j***@example.com" in page.content()
            assert_no_clear_values(page.content())
            page.screenshot(path=ARTIFACTS / "contact-submission-pending.png", full_page=True)
        finally:
            browser.close()

    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5
    assert {row["deliveryStatus"] for row in rows} == {"delivered"}
    assert_no_clear_values(text)


def assert_no_clear_values(text: str) -> None:
    for value in CLEAR_VALUES:
        assert value not in text, value
