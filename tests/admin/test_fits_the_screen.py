"""Every admin list, and every change page of a seeded row, fits a 1280 px wide screen (issue 18).

A real headless Chromium logs in as staff, opens each registered model's list and the page of
every row (the world's ordinary rows and one row of each kind with its longest values: 200-
character titles, 2,000-character URLs, 128-character ids) and measures: a page wider than the
window scrolls sideways, and a list's table wider than its container runs off its page.
"""

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from tests.admin.factories import LONG_TITLE, add_long_rows, build_world
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium

PASSWORD = "browser-test-password"
SCREEN = {"width": 1280, "height": 800}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

# How far the page and the list's table reach, against the window and the table's container.
MEASURE = """() => {
  const table = document.querySelector('#result_list');
  const container = table && (table.closest('.results') || table.parentElement);
  return {
    window: window.innerWidth,
    page: document.documentElement.scrollWidth,
    table: table ? Math.ceil(table.getBoundingClientRect().width) : null,
    container: container ? Math.ceil(container.getBoundingClientRect().width) : null,
  };
}"""


def pages_to_walk() -> list[str]:
    """Every changelist, and the change page of every row of every model (the test's few rows)."""
    pages = []
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        for pk in model._default_manager.values_list("pk", flat=True):
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(pk)]))
    return pages


def overflows(measured: dict[str, Any]) -> list[str]:
    found = []
    if measured["page"] > measured["window"]:
        found.append(f"page {measured['page']} px wide in a {measured['window']} px window")
    if measured["table"] is not None and measured["table"] > measured["container"]:
        found.append(f"list table {measured['table']} px wide in its {measured['container']} px container")
    return found


def test_every_admin_list_and_page_fits_a_1280_px_screen(live_server: LiveServer, settings: Settings) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    world = build_world()
    add_long_rows(world)
    get_user_model().objects.create_superuser(username="staff", password=PASSWORD, email="")
    pages = pages_to_walk()
    ARTIFACTS.mkdir(exist_ok=True)

    too_wide: dict[str, list[str]] = {}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport=SCREEN).new_page()
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("#id_username", "staff")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#content-main")
            for path in pages:
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, path
                found = overflows(page.evaluate(MEASURE))
                name = path.strip("/").replace("/", "-")[:120]
                if found:
                    too_wide[path] = found
                    page.screenshot(path=ARTIFACTS / f"too-wide-{name}.png", full_page=True)
                elif path.endswith("/") and path.count("/") == 4:
                    page.screenshot(path=ARTIFACTS / f"at-1280-{name}.png", full_page=True)
            # A value cut short in a list has its whole text on hover.
            page.goto(f"{live_server.url}/admin/notifications/notification/")
            cut = page.locator("#result_list td.field-title", has_text=LONG_TITLE[:40])
            assert cut.get_attribute("title") == LONG_TITLE
            assert (
                page.locator("#result_list td.field-title", has_text="Approve the refund?").get_attribute(
                    "title"
                )
                is None
            )
        finally:
            browser.close()
    walked_lists = [path for path in pages if path.count("/") == 4]
    assert len(walked_lists) == len(admin.site._registry)
    assert not too_wide, "\n".join(f"{path}: {'; '.join(found)}" for path, found in too_wide.items())
