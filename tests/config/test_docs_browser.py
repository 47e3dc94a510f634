"""`/api/docs/` in a real headless Chromium: Swagger UI, served by the app itself (no CDN), renders
the four family tags and their operations, shows an operation's examples, and logs no error. A
screenshot is kept under test-artifacts/ (git-ignored) for a person to look at."""

from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


def test_the_docs_render_every_family_without_console_errors(live_server: LiveServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    foreign: list[str] = []

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))

            def outside(request: Any) -> None:
                if not request.url.startswith((live_server.url, "data:")):
                    foreign.append(request.url)

            page.on("request", outside)
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector(".opblock-tag-section")
            tags = page.locator(".opblock-tag").all_inner_texts()
            operations = page.locator(".opblock-summary-path").count()

            # Open the create operation: its description (the response-type table) and examples.
            page.locator(".opblock-post .opblock-summary", has_text="/api/v1/notifications").first.click()
            page.wait_for_selector(".opblock-body .renderedMarkdown table")
            table = page.locator(".opblock-body .renderedMarkdown table").first.inner_text()
            example_names = page.locator(".opblock-body .examples-select select option").all_inner_texts()
            page.screenshot(path=ARTIFACTS / "api-docs.png", full_page=True)
        finally:
            browser.close()

    assert not problems, problems
    assert not foreign, foreign
    assert [tag.split("\n")[0] for tag in tags] == ["widget", "notifications", "actions", "delivery"]
    assert operations == 22
    assert "multi_choice" in table and "scale" in table
    assert "Ask: multi_choice" in example_names, example_names
