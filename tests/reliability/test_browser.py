"""A real browser on another origin: headless Chromium loads a page from a second local server and
calls the API with fetch. The public result post works cross-origin (CORS, preflight included, as
application/json requires); a route that is not public is blocked by the browser itself."""

import logging
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from actions.models import ActionExecution
from conversations.models import Message
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.reliability import world

PAGES = Path(__file__).parent / "pages"
# Another host on the loopback range: another origin than the API's `localhost`.
PAGE_HOST = "127.0.0.2"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


class QuietPages(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def page_origin() -> Iterator[str]:
    server = ThreadingHTTPServer((PAGE_HOST, 0), partial(QuietPages, directory=str(PAGES)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{PAGE_HOST}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_widget_page_on_another_origin(
    live_server: LiveServer, page_origin: str, caplog: pytest.LogCaptureFixture
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    caplog.set_level(logging.INFO, logger="config.request")
    # All database work happens before the browser's event loop starts (Django refuses it inside).
    tenant = world.tenant()
    execution = world.execution(tenant)
    ARTIFACTS.mkdir(exist_ok=True)
    assert not live_server.url.startswith(page_origin)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.goto(f"{page_origin}/widget.html")
            results: list[dict[str, Any]] = page.evaluate(
                "([api, executionId, botId, key]) => run(api, executionId, botId, key)",
                [live_server.url, str(execution.pk), str(tenant.bot.pk), tenant.key],
            )
            page.wait_for_selector("#summary li:nth-child(3)")
            page.screenshot(path=ARTIFACTS / "cors-widget-page.png", full_page=True)
        finally:
            browser.close()

    public, bot, respond = results
    assert public["reached"] and public["status"] == 200, public
    assert public["body"] == {"ok": True, "result": "success"}
    # Not public: the browser refuses to hand the page anything (fetch rejects with a TypeError).
    assert (bot["reached"], bot["error"]) == (False, "TypeError"), bot
    assert (respond["reached"], respond["error"]) == (False, "TypeError"), respond

    execution.refresh_from_db()
    assert (execution.result, execution.delivery_status, execution.submit_to_signal_ms) == (
        "success",
        "delivered",
        412,
    )
    assert Message.objects.filter(conversation_id=execution.conversation_id, role="assistant").count() == 1
    assert ActionExecution.objects.filter(result__isnull=False).count() == 1
    requests_seen = {(r.method, r.path) for r in caplog.records if hasattr(r, "method")}  # type: ignore[attr-defined]
    result_path = f"/v1/public/actions/{execution.pk}/result"
    assert ("OPTIONS", result_path) in requests_seen, "the browser sent a CORS preflight"
    assert ("POST", result_path) in requests_seen
    # The preflights of the other routes got no CORS approval, so their real requests never left.
    assert ("GET", f"/v1/bots/{tenant.bot.pk}") not in requests_seen
    assert ("POST", "/api/v1/client/respond") not in requests_seen
