"""Attacks through what callers send: URLs aimed inside our network (webhooks and triggers), and
markup in every field of the public endpoint, which must never come back as HTML."""

import json
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from pytest_django import Settings

from config.accounts.secrets import new_webhook_secret
from config.outbound.client import ErrorKind, post_signed
from tests.helpers import Api
from tests.reliability import world
from tests.reliability.receiver import SwitchableReceiver

pytestmark = pytest.mark.django_db


def inward_urls(port: int) -> dict[str, str]:
    """Spellings of addresses that are not public. Those on loopback point at a live receiver, so a
    filter that let one through would be caught by the receiver hearing from us."""
    return {
        "loopback": f"http://127.0.0.1:{port}/hook",
        "loopback range": f"http://127.9.9.9:{port}/hook",
        "localhost resolves to loopback": f"http://localhost:{port}/hook",
        "IPv6 loopback": f"http://[::1]:{port}/hook",
        "IPv4-mapped IPv6 loopback": f"http://[::ffff:127.0.0.1]:{port}/hook",
        "decimal 2130706433": f"http://2130706433:{port}/hook",
        "octal 0177.0.0.1": f"http://0177.0.0.1:{port}/hook",
        "hex 0x7f.1": f"http://0x7f.1:{port}/hook",
        "unspecified 0.0.0.0": f"http://0.0.0.0:{port}/hook",
        "https loopback": f"https://127.0.0.1:{port}/hook",
        "private 10/8": "http://10.0.0.1/hook",
        "private 172.16/12": "http://172.16.0.1/hook",
        "private 192.168/16": "http://192.168.1.1/hook",
        "CGNAT 100.64/10": "http://100.64.0.1/hook",
        "link-local": "http://169.254.1.1/hook",
        "cloud metadata": "http://169.254.169.254/latest/meta-data/",
        "IPv6 link-local": "http://[fe80::1]/hook",
        "IPv6 unique local": "http://[fc00::1]/hook",
        "IPv4-mapped private": "http://[::ffff:10.0.0.1]/hook",
        "multicast": "http://224.0.0.1/hook",
    }


@pytest.fixture
def production_outbound(settings: Settings, loopback_only: list[Any]) -> list[Any]:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    return loopback_only


def test_webhook_client_refuses_every_inward_address(
    production_outbound: list[Any], switchable_receiver: SwitchableReceiver
) -> None:
    for name, url in inward_urls(switchable_receiver.port).items():
        result = post_signed(
            url=url, secrets=[new_webhook_secret()], message_id="msg_ssrf", body=b"{}", timeout_seconds=2
        )
        assert result.error_kind == ErrorKind.REFUSED_DESTINATION, (name, result)
    assert switchable_receiver.arrivals == 0
    assert production_outbound == [], "a connection off this machine was attempted"


def test_trigger_refuses_every_inward_address(
    api: Api, production_outbound: list[Any], switchable_receiver: SwitchableReceiver
) -> None:
    tenant = world.tenant()
    as_service = api.as_(tenant.key)
    for index, (name, url) in enumerate(inward_urls(switchable_receiver.port).items()):
        action_id = f"ssrf-{index}"
        put = as_service.put(
            f"/actions/{action_id}", {"target_url": url, "fire_on": "always", "timeout_ms": 2000}
        )
        assert put.status_code == 201, (name, put.content)
        response = as_service.post(f"/actions/{action_id}/trigger", {"decision": True})
        assert response.status_code == 200, (name, response.content)
        result = response.json()
        assert result["status"] == "failed", (name, result)
        assert result["error"]["error"]["type"] == "action_binding_failed", (name, result)
        assert result["payload_sent"] is None
    assert switchable_receiver.arrivals == 0
    assert production_outbound == [], "a connection off this machine was attempted"


# --------------------------------------------------------------------------------------------
# Markup in, JSON out

SCRIPT = "<script>alert(document.cookie)</script>"
SCRIPT_VARIANTS = [SCRIPT, "<ScRiPt src=//x.example/a.js></ScRiPt>", '"><img src=x onerror=alert(1)>']


def assert_inert_json(response: Any, what: str) -> None:
    """JSON, never sniffed as HTML, and no markup from the request in it unescaped."""
    assert response["Content-Type"].startswith("application/json"), (what, response["Content-Type"])
    assert response.get("X-Content-Type-Options") == "nosniff", what
    body = response.content.decode()
    json.loads(body)
    lowered = body.lower()
    assert "<script" not in lowered and "<img" not in lowered and "</" not in lowered, (what, body[:300])


def public_attacks() -> list[tuple[str, Any]]:
    attacks: list[tuple[str, Any]] = []
    for payload in SCRIPT_VARIANTS:
        attacks += [
            ("result", {"result": payload}),
            ("error", {"result": "failure", "error": payload * 200}),
            ("unknown key", {"result": "cancelled", payload: payload}),
            ("contactMetadata", {"result": "failure", "contactMetadata": payload}),
            ("metadata key", {"result": "failure", "contactMetadata": {payload: 1}}),
        ]
        for field in (
            "deliveryStatus",
            "deliveryMethod",
            "signalSource",
            "networkStatus",
            "submitToSignalMs",
        ):
            attacks.append((field, {"result": "failure", "contactMetadata": {field: payload}}))
    return attacks


def fresh_result_path(tenant: world.Tenant) -> str:
    """A pending execution under the rate limit, so each attack reaches validation."""
    cache.clear()
    return f"/v1/public/actions/{world.execution(tenant).pk}/result"


# Markup that fits in one path segment reaches the view (and its id parsing).
SEGMENT_PAYLOADS = ["<script>alert(1)", '"><img src=x onerror=alert(1)>', "<svg onload=alert(1)>"]


def test_public_endpoint_never_echoes_markup(api: Api) -> None:
    tenant = world.tenant()
    public = api.as_(None)
    for what, body in public_attacks():
        response = public.post(fresh_result_path(tenant), body)
        assert response.status_code in (200, 400), (what, response.status_code)
        assert_inert_json(response, what)
    for payload in SEGMENT_PAYLOADS:
        for path in (
            f"/v1/public/actions/{payload}/result",
            f"/v1/public/actions/{uuid.uuid4()}{payload}/result",
        ):
            assert_inert_json(public.post(path, {"result": "success"}), f"path {path}")
    for payload in SCRIPT_VARIANTS:
        assert_inert_json(public.post(fresh_result_path(tenant), raw=payload), "raw body")
        assert_inert_json(
            public.post(fresh_result_path(tenant), raw=payload, content_type="text/html"), "text/html body"
        )
        assert_inert_json(public.send("PUT", fresh_result_path(tenant), {"result": payload}), "wrong method")
        assert_inert_json(public.post(f"{fresh_result_path(tenant)}?{payload}", {"result": payload}), "query")


def test_unknown_public_routes_never_echo_markup(api: Api) -> None:
    public = api.as_(None)
    for payload in SCRIPT_VARIANTS:
        for path in (f"/v1/public/actions/{payload}/result", f"/v1/public/{payload}"):
            assert_inert_json(public.post(path, {"result": "success"}), f"path {path}")


def test_public_login_never_echoes_markup(api: Api) -> None:
    public = api.as_(None)
    for payload in SCRIPT_VARIANTS:
        body = {"username": "someone", "password": "wrong password", payload: payload}
        assert_inert_json(public.post("/api/v1/client/token", body), "unknown key")
        assert_inert_json(
            public.post("/api/v1/client/token", {"username": payload, "password": payload}), "fields"
        )
