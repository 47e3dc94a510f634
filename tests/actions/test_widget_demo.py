"""actions.demo.widget: the widget part of `make run`'s demo data, safe to load twice."""

from typing import Any

import pytest

from actions.demo import widget
from actions.models import ActionExecution
from config.accounts.management.commands.seed_demo import MANAGE
from config.accounts.models import Service
from config.accounts.services import service_key_issue
from conversations.models import Bot, Message
from tests.helpers import Api

pytestmark = pytest.mark.django_db


def context_for(service: Service) -> dict[str, Any]:
    return {
        "base_url": "http://127.0.0.1:8000",
        "manage": MANAGE,
        "service": service,
        "service_key": service_key_issue(service=service).secret,
    }


def test_the_demo_shows_a_bot_with_finished_and_pending_executions(service: Service) -> None:
    context = context_for(service)
    lines = widget.seed(context)
    bot = Bot.objects.get(service=service, name="Acme website")
    assert bot.allowed_targets == ["https://acme.example"]
    executions = ActionExecution.objects.filter(bot=bot)
    assert executions.count() >= 12
    assert bot.conversations.count() >= 3
    done = executions.filter(result__isnull=False, kind__in=["contact_form", "newsletter"])
    assert done.exists() and not done.filter(params_masked_at__isnull=True).exists()
    assert done.filter(delivery_status__isnull=False, submit_to_signal_ms__isnull=False).exists()
    assert executions.filter(result__isnull=True).exists()
    assert executions.filter(kind="booking").count() == 1
    assert Message.objects.filter(conversation__bot=bot, content__endswith="— done.").exists()
    text = "\n".join(lines)
    assert f"http://127.0.0.1:8000/v1/bots/{bot.id}/action-executions" in text
    assert "/v1/public/actions/" in text and context["service_key"] in text
    assert "curl" in text


def test_the_demo_loads_twice_without_duplicates(service: Service) -> None:
    widget.seed(context_for(service))
    count = ActionExecution.objects.count()
    widget.seed(context_for(service))
    assert Bot.objects.filter(name="Acme website").count() == 1
    assert ActionExecution.objects.count() == count


def test_the_printed_calls_work(api: Api, service: Service) -> None:
    context = context_for(service)
    widget.seed(context)
    bot = Bot.objects.get(service=service, name="Acme website")
    service_api = api.as_(context["service_key"])
    created = service_api.post(
        f"/v1/bots/{bot.id}/action-executions",
        {
            "visitorId": "visitor-newcomer",
            "kind": "newsletter",
            "label": "Subscribe to newsletter",
            "targetUrl": "https://acme.example/newsletter",
            "params": {"email": "newcomer@example.com"},
        },
    )
    assert created.status_code == 201
    pending = ActionExecution.objects.filter(bot=bot, result__isnull=True).first()
    assert pending is not None
    response = api.post(f"/v1/public/actions/{pending.id}/result", {"result": "success"})
    assert response.json() == {"ok": True, "result": "success"}
